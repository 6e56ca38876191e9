import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// The threaded writer and file hasher against one-shot SHA-256 of the same bytes.
@Suite struct HashingFileWriterTests {
  let directory: ScratchDirectory
  /// 9 MiB and a bit: more than two default pool buffers, not a multiple of any chunk size.
  let data: [UInt8]

  init() throws {
    directory = try ScratchDirectory("writer")
    data = randomBytes(9 << 20 + 12345)
  }

  /// Appends `data` in chunks of `chunk` bytes to a new file and returns the writer's result.
  func write(
    _ data: [UInt8], chunk: Int, directIO: Bool = false, bufferCount: Int = 4, bufferSize: Int = 4 << 20, to path: String
  ) throws -> (digest: Digest, bytesWritten: Int64) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    try #require(fd >= 0)
    defer { close(fd) }
    let writer = HashingFileWriter(fd: fd, directIO: directIO, bufferCount: bufferCount, bufferSize: bufferSize)
    try data.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let end = min(offset + chunk, bytes.count)
        try writer.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
      }
    }
    return try writer.finish()
  }

  @Test(arguments: [1, 7, 4096, 16384, 65536, 1 << 20, (4 << 20) - 1, 4 << 20, (4 << 20) + 1, 10 << 20])
  func digestMatchesOneShotDigest(chunk: Int) throws {
    // Chunks of one byte through a 9 MiB file take long; a shorter prefix covers them.
    let data = chunk < 4096 ? Array(self.data.prefix(300_001)) : self.data
    let path = directory.path("out-\(chunk)")
    let result = try write(data, chunk: chunk, to: path)
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(result.bytesWritten == Int64(data.count))
    #expect(FileManager.default.contents(atPath: path) == Data(data))
  }

  @Test(arguments: [1, 4096, 65536, (4 << 20) + 1])
  func directIOWritesTheSameBytes(chunk: Int) throws {
    let data = chunk == 1 ? Array(self.data.prefix(300_001)) : self.data
    let path = directory.path("direct-\(chunk)")
    let result = try write(data, chunk: chunk, directIO: true, to: path)
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: path) == Data(data))
  }

  /// A resumed file continues at an offset that is not block-aligned: the first buffer is short so
  /// that the following ones can go straight to the device.
  @Test(arguments: [1, 4095, 4096, 3_000_001])
  func directIOContinuesAtAnUnalignedOffset(prefix: Int) throws {
    let path = directory.path("direct-resume-\(prefix)")
    try Data(data[..<prefix]).write(to: URL(fileURLWithPath: path))
    let (hasher, _) = try FileHasher.hasher(ofFileAt: path)
    let fd = open(path, O_WRONLY)
    try #require(fd >= 0)
    defer { close(fd) }
    #expect(lseek(fd, off_t(prefix), SEEK_SET) == off_t(prefix))
    let writer = HashingFileWriter(fd: fd, startingHash: hasher, directIO: true)
    try Array(data[prefix...]).withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let end = min(offset + 100_000, bytes.count)
        try writer.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
      }
    }
    let result = try writer.finish()
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: path) == Data(data))
  }

  @Test(arguments: [(1, 4096), (2, 65536), (3, 1 << 20)])
  func smallPoolsBlockTheProducerWithoutLosingOrder(bufferCount: Int, bufferSize: Int) throws {
    let path = directory.path("pool-\(bufferCount)")
    let result = try write(data, chunk: 10_000, bufferCount: bufferCount, bufferSize: bufferSize, to: path)
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: path) == Data(data))
  }

  @Test func emptyStreamHasTheEmptyDigest() throws {
    let result = try write([], chunk: 1, to: directory.path("empty"))
    #expect(result.digest.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(result.bytesWritten == 0)
  }

  @Test func startingHashContinuesAnEarlierPrefix() throws {
    let path = directory.path("resumed")
    let split = 3_000_000
    try Data(data[..<split]).write(to: URL(fileURLWithPath: path))
    let (hasher, prefix) = try FileHasher.hasher(ofFileAt: path)
    #expect(prefix == Int64(split))
    let fd = open(path, O_WRONLY | O_APPEND)
    try #require(fd >= 0)
    defer { close(fd) }
    let writer = HashingFileWriter(fd: fd, startingHash: hasher)
    try Array(data[split...]).withUnsafeBytes { try writer.append($0) }
    let result = try writer.finish()
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(result.bytesWritten == Int64(data.count - split))
  }

  @Test func appendReadingFromCopiesAFile() throws {
    let source = directory.path("source")
    try Data(data).write(to: URL(fileURLWithPath: source))
    let input = open(source, O_RDONLY)
    let output = open(directory.path("copy"), O_WRONLY | O_CREAT, 0o644)
    try #require(input >= 0 && output >= 0)
    defer { close(input); close(output) }
    let writer = HashingFileWriter(fd: output)
    while try writer.append(readingFrom: input) > 0 {}
    let result = try writer.finish()
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: directory.path("copy")) == Data(data))
  }

  /// `/dev/full` answers every write with ENOSPC, like a full file system.
  @Test func noSpaceIsDiskFull() throws {
    let fd = open("/dev/full", O_WRONLY)
    try #require(fd >= 0)
    defer { close(fd) }
    let writer = HashingFileWriter(fd: fd, bufferCount: 2, bufferSize: 65536)
    #expect(throws: FileStreamError.diskFull(bytesWritten: 0)) {
      try data.withUnsafeBytes { try writer.append($0) }
      _ = try writer.finish()
    }
  }

  @Test(arguments: [0, 1, 4 << 20, (4 << 20) + 1, 9 << 20 + 12345])
  func fileHasherMatchesOneShotDigest(size: Int) throws {
    let path = directory.path("hash-\(size)")
    let bytes = Array(data.prefix(size))
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let (digest, count) = try FileHasher.digest(ofFileAt: path)
    #expect(digest == SHA256Hasher.digest(bytes))
    #expect(count == Int64(size))
  }

  @Test func fileHasherStopsAtTheLimit() throws {
    let path = directory.path("limit")
    try Data(data).write(to: URL(fileURLWithPath: path))
    let (hasher, count) = try FileHasher.hasher(ofFileAt: path, limit: 5_000_000)
    #expect(count == 5_000_000)
    #expect(hasher.finalize() == SHA256Hasher.digest(data.prefix(5_000_000)))
  }

  @Test func fileHasherReportsAMissingFile() {
    #expect(throws: FileStreamError.io(operation: "open \(directory.path("missing"))", errno: ENOENT)) {
      _ = try FileHasher.digest(ofFileAt: directory.path("missing"))
    }
  }
}

/// A temporary directory removed with the value.
final class ScratchDirectory: Sendable {
  let url: URL

  init(_ label: String) throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  deinit { try? FileManager.default.removeItem(at: url) }
}

/// `count` random bytes (at most 16 MiB): a slice at a random offset of one random pool made
/// once per process, since generating megabytes per test is slow in debug builds.
func randomBytes(_ count: Int) -> [UInt8] {
  precondition(count <= 16 << 20)
  let offset = Int.random(in: 0...(randomPool.count - count))
  return Array(randomPool[offset..<(offset + count)])
}

/// 32 MiB from SplitMix64 with a random seed.
private let randomPool: [UInt8] = {
  var state = UInt64.random(in: .min ... .max)
  var bytes = [UInt8](repeating: 0, count: 32 << 20)
  bytes.withUnsafeMutableBytes { raw in
    for index in 0..<(raw.count / 8) {
      state &+= 0x9E37_79B9_7F4A_7C15
      var word = state
      word = (word ^ (word >> 30)) &* 0xBF58_476D_1CE4_E5B9
      word = (word ^ (word >> 27)) &* 0x94D0_49BB_1331_11EB
      raw.storeBytes(of: word ^ (word >> 31), toByteOffset: index * 8, as: UInt64.self)
    }
  }
  return bytes
}()
