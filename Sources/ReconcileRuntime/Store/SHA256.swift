import COpenSSL
import ReconcileCore

/// Incremental SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA extensions.
public final class SHA256Hasher {
  private let context: OpaquePointer

  /// Starts a new digest.
  public init() {
    // EVP_MD_CTX_new only fails when memory is exhausted; there is nothing to recover then.
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
    EVP_DigestInit_ex(context, EVP_sha256(), nil)
    self.context = context
  }

  deinit { EVP_MD_CTX_free(context) }

  /// Adds bytes.
  public func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    EVP_DigestUpdate(context, base, bytes.count)
  }

  /// Adds the UTF-8 of `text`.
  public func update(_ text: String) {
    var text = text
    text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
  }

  /// The digest of everything added.
  public func finalize() -> Digest {
    var output = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    EVP_DigestFinal_ex(context, &output, &length)
    let hex = output.map { byte in
      let digits = Array("0123456789abcdef")
      return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }.joined()
    // 32 bytes always render as 64 lowercase hex digits.
    guard let digest = Digest(hex: hex) else { preconditionFailure("SHA-256 output is not 64 hex digits") }
    return digest
  }

  /// The digest of `bytes` in one call.
  public static func digest(_ bytes: some Sequence<UInt8>) -> Digest {
    let hasher = SHA256Hasher()
    let array = Array(bytes)
    array.withUnsafeBytes { hasher.update($0) }
    return hasher.finalize()
  }
}
