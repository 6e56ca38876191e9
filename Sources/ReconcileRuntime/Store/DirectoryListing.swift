import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Directory listing through `readdir`, names only, `.` and `..` left out.
enum DirectoryListing {
  static func names(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// Size and free space of the filesystem holding `path`.
  static func space(_ path: String) -> FilesystemSpace? {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { return nil }
    let block = Int64(info.f_frsize)
    return FilesystemSpace(total: Int64(info.f_blocks) * block, available: Int64(info.f_bavail) * block)
  }
}
