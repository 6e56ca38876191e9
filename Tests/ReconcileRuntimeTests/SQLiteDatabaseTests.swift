import CSQLite
import Foundation
import Testing

@testable import ReconcileRuntime

@Suite struct SQLiteDatabaseTests {
  @Test(arguments: [
    SQLiteValue.null, .integer(0), .integer(Int64.max), .integer(Int64.min), .real(0.1), .real(-1e300),
    .text(""), .text("wan2.2 — ü 模型"), .text("nul\u{0}inside"), .blob(Data()), .blob(Data([0, 1, 2, 255])),
  ])
  func boundValueReadsBackUnchanged(_ value: SQLiteValue) throws {
    let database = try SQLiteDatabase.inMemory()
    try database.execute("CREATE TABLE cell (value)")
    try database.run("INSERT INTO cell (value) VALUES (?)", [value])
    let read = try database.query("SELECT value FROM cell") { $0.value(at: 0) }
    #expect(read == [value])
  }

  @Test func valuesBindByIndexAndReadAsTypedColumns() throws {
    let database = try SQLiteDatabase.inMemory()
    try database.execute("CREATE TABLE row (i INTEGER, r REAL, t TEXT, d REAL, n TEXT)")
    let insert = try database.prepare("INSERT INTO row VALUES (?, ?, ?, ?, ?)")
    try insert.bind(.integer(42), at: 1)
    try insert.bind(.real(2.5), at: 2)
    try insert.bind(SQLiteValue("text"), at: 3)
    try insert.bind(SQLiteValue(Date(timeIntervalSince1970: 1_700_000_000.25)), at: 4)
    try insert.bind(SQLiteValue(String?.none), at: 5)
    #expect(try insert.step() == false)

    let select = try database.prepare("SELECT i, r, t, d, n FROM row")
    #expect(try select.step())
    #expect(select.int64(at: 0) == 42)
    #expect(select.column(0, as: Int.self) == 42)
    #expect(select.double(at: 1) == 2.5)
    #expect(select.string(at: 2) == "text")
    #expect(select.date(at: 3) == Date(timeIntervalSince1970: 1_700_000_000.25))
    #expect(select.column(3, as: Date?.self) == Date(timeIntervalSince1970: 1_700_000_000.25))
    #expect(select.isNull(at: 4))
    #expect(select.column(4, as: String?.self) == nil)
    #expect(select.column(2, as: String?.self) == "text")
    #expect(try select.step() == false)
  }

  @Test func preparedStatementRunsAgainWithNewBindings() throws {
    let database = try SQLiteDatabase.inMemory()
    try database.execute("CREATE TABLE number (n INTEGER); CREATE TABLE other (x)")
    let insert = try database.prepare("INSERT INTO number VALUES (?)")
    for n in 1...5 {
      try insert.run([.integer(Int64(n))])
    }
    #expect(try database.query("SELECT sum(n) FROM number") { $0.int64(at: 0) } == [15])
    #expect(database.changes == 1)
    #expect(database.lastInsertRowID == 5)
  }

  @Test func transactionCommitsOrRollsBack() throws {
    struct Refusal: Error {}
    let database = try SQLiteDatabase.inMemory()
    try database.execute("CREATE TABLE item (name TEXT)")

    try database.transaction { try database.run("INSERT INTO item VALUES ('kept')") }
    #expect(throws: Refusal.self) {
      try database.transaction {
        try database.run("INSERT INTO item VALUES ('undone')")
        throw Refusal()
      }
    }
    #expect(!database.isInTransaction)
    #expect(try database.query("SELECT name FROM item") { $0.string(at: 0) } == ["kept"])
  }

  @Test func nestedTransactionUndoesOnlyItsOwnWork() throws {
    struct Refusal: Error {}
    let database = try SQLiteDatabase.inMemory()
    try database.execute("CREATE TABLE item (name TEXT)")
    try database.transaction {
      try database.run("INSERT INTO item VALUES ('outer')")
      #expect(throws: Refusal.self) {
        try database.transaction {
          try database.run("INSERT INTO item VALUES ('inner')")
          throw Refusal()
        }
      }
      #expect(database.isInTransaction)
    }
    #expect(try database.query("SELECT name FROM item") { $0.string(at: 0) } == ["outer"])
  }

  @Test func errorCarriesMessageCodeAndSQL() throws {
    let database = try SQLiteDatabase.inMemory()
    let syntax = #"SELEC 1"#
    let error = try #require(throws: SQLiteError.self) { try database.prepare(syntax) }
    #expect(error.code == SQLITE_ERROR)
    #expect(error.message.contains("syntax error"))
    #expect(error.sql == syntax)
    #expect(error.description.contains("SELEC 1"))

    try database.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    try database.run("INSERT INTO item VALUES (1)")
    let duplicate = try #require(throws: SQLiteError.self) { try database.run("INSERT INTO item VALUES (1)") }
    #expect(duplicate.primaryCode == SQLITE_CONSTRAINT)
    #expect(duplicate.code == SQLITE_CONSTRAINT | (6 << 8))  // SQLITE_CONSTRAINT_PRIMARYKEY
    #expect(duplicate.message.contains("UNIQUE constraint failed: item.id"))

    let missing = try #require(throws: SQLiteError.self) { try database.execute("DELETE FROM nowhere") }
    #expect(missing.message.contains("no such table: nowhere"))
    #expect(missing.sql == "DELETE FROM nowhere")
  }

  @Test func openingCreatesTheFile() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("fresh.sqlite")
    let database = try SQLiteDatabase(path: path)
    try database.execute("CREATE TABLE item (x)")
    #expect(FileManager.default.fileExists(atPath: path))
  }

  @Test func openingInAMissingDirectoryNamesThePath() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("missing/registry.sqlite")
    let error = try #require(throws: SQLiteError.self) { try SQLiteDatabase(path: path) }
    #expect(error.message.contains(path))
    #expect(error.primaryCode == SQLITE_CANTOPEN)
  }

  @Test func writerWithoutBusyTimeoutIsRefusedWhileAnotherHoldsTheLock() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("contended.sqlite")
    let holder = try SQLiteDatabase(path: path)
    try holder.execute("PRAGMA journal_mode = WAL; CREATE TABLE item (x)")
    let impatient = try SQLiteDatabase(path: path, busyTimeout: .zero)

    try holder.execute("BEGIN IMMEDIATE")
    let error = try #require(throws: SQLiteError.self) {
      try impatient.transaction { try impatient.run("INSERT INTO item VALUES (1)") }
    }
    #expect(error.isBusy)
    try holder.execute("COMMIT")

    try impatient.transaction { try impatient.run("INSERT INTO item VALUES (2)") }
    #expect(try holder.query("SELECT x FROM item") { $0.int64(at: 0) } == [2])
  }
}
