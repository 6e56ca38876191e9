/// SplitMix64: a small deterministic generator, so a fuzz seed gives the same cases on every
/// machine and every Swift version (the standard library's generator cannot be seeded).
public struct FuzzRandom: RandomNumberGenerator {
  private var state: UInt64

  /// A generator whose whole sequence follows from `seed`.
  public init(seed: UInt64) { state = seed }

  /// The generator of case `number` of a run seeded with `seed`: every case can be replayed on
  /// its own, without generating the cases before it.
  public init(seed: UInt64, case number: Int) {
    var mixer = FuzzRandom(seed: seed ^ (UInt64(truncatingIfNeeded: number) &* 0xD6E8_FEB8_6659_FD93))
    state = mixer.next()
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A number in `0..<bound` (0 when `bound` is 0 or less).
  public mutating func below(_ bound: Int) -> Int {
    bound <= 0 ? 0 : Int.random(in: 0..<bound, using: &self)
  }

  /// One element of `items`, which must not be empty.
  public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

  /// True with probability `1 / n`.
  public mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
}
