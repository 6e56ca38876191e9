import Foundation

extension S3Settings {
  /// An access key pair, with a session token for temporary credentials.
  struct Keys: Equatable {
    var id: String
    var secret: String
    var token: String?
  }

  /// The keys from the environment, else from a profile in the shared credentials file, and
  /// where they came from; (nil, nil) when there are none and none were asked for.
  static func credentials(environment: [String: String], config: [String: String], home: String?) throws(Problem) -> (Keys?, String?) {
    func value(_ name: String) -> String? {
      environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }
    func setting(_ key: String) -> String? {
      config[key].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }

    switch (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY")) {
    case (let id?, let secret?):
      return (Keys(id: id, secret: secret, token: value("AWS_SESSION_TOKEN")), "AWS_ACCESS_KEY_ID")
    case (.some, nil):
      throw Problem(description: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or neither to use a profile in ~/.aws/credentials")
    case (nil, .some):
      throw Problem(description: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both, or neither to use a profile in ~/.aws/credentials")
    case (nil, nil):
      break
    }

    let named = value("AWS_PROFILE").map { ($0, "AWS_PROFILE") } ?? setting("s3_profile").map { ($0, "config s3_profile") }
    let profile = named?.0 ?? "default"
    let namedFile = value("AWS_SHARED_CREDENTIALS_FILE").map { ($0, "AWS_SHARED_CREDENTIALS_FILE") }
      ?? setting("s3_credentials_file").map { ($0, "config s3_credentials_file") }
    guard let file = (namedFile?.0 ?? home.map { $0 + "/.aws/credentials" }).map({ expandingTilde($0, home: home) }) else {
      if let named { throw Problem(description: "profile '\(profile)' (\(named.1)) cannot be looked up: HOME is not set and AWS_SHARED_CREDENTIALS_FILE is not either") }
      return (nil, nil)
    }
    guard let data = FileManager.default.contents(atPath: file) else {
      if let namedFile { throw Problem(description: "credentials file \(file) (\(namedFile.1)) does not exist or cannot be read") }
      if let named { throw Problem(description: "profile '\(profile)' (\(named.1)) cannot be read: \(file) does not exist or cannot be read") }
      return (nil, nil)
    }
    let sections = CredentialsFile.parse(String(decoding: data, as: UTF8.self))
    guard let section = sections.first(where: { $0.name == profile }) ?? sections.first(where: { $0.name == "profile \(profile)" }) else {
      if let named {
        let names = sections.map(\.name).joined(separator: ", ")
        throw Problem(description: "profile '\(profile)' (\(named.1)) is not in \(file)\(names.isEmpty ? "" : "; it has: \(names)")")
      }
      return (nil, nil)
    }
    let place = "profile '\(profile)' in \(file)"
    switch (section.values["aws_access_key_id"], section.values["aws_secret_access_key"]) {
    case (let id?, let secret?):
      let token = section.values["aws_session_token"] ?? section.values["aws_security_token"]
      return (Keys(id: id, secret: secret, token: token), place)
    case (nil, nil):
      if let indirect = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"].first(where: { section.values[$0] != nil }) {
        throw Problem(
          description: "\(place) (line \(section.line)) uses \(indirect), which reconcile does not resolve; "
            + "export keys with `aws configure export-credentials --profile \(profile) --format env`")
      }
      throw Problem(description: "\(place) (line \(section.line)) has neither aws_access_key_id nor aws_secret_access_key")
    case (nil, .some):
      throw Problem(description: "\(place) (line \(section.line)) has aws_secret_access_key but no aws_access_key_id")
    case (.some, nil):
      throw Problem(description: "\(place) (line \(section.line)) has aws_access_key_id but no aws_secret_access_key")
    }
  }

  static func expandingTilde(_ path: String, home: String?) -> String {
    guard let home, path == "~" || path.hasPrefix("~/") else { return path }
    return home + path.dropFirst()
  }
}

/// The INI format of `~/.aws/credentials`: `[name]` sections of `key = value` lines.
enum CredentialsFile {
  /// One `[name]` section and its keys (lowercased), with its 1-based line.
  struct Section: Equatable {
    var name: String
    var line: Int
    var values: [String: String] = [:]
  }

  /// The sections in file order. Comment lines (`#`, `;`) are skipped, as are indented lines,
  /// which belong to a nested setting such as `s3 =`; later keys win.
  static func parse(_ text: String) -> [Section] {
    var sections: [Section] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("[") && line.hasSuffix("]") {
        let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        sections.append(Section(name: name.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "), line: index + 1))
        continue
      }
      guard !(raw.first?.isWhitespace ?? false), let equals = line.firstIndex(where: { $0 == "=" || $0 == ":" }), !sections.isEmpty else { continue }
      let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
      let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
      if !value.isEmpty { sections[sections.count - 1].values[key] = value }
    }
    return sections
  }
}
