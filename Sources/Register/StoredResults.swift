import CompressNIO
import Directory
import Foundation
import GRDB
import MailDomain
import NIOCore
import Policy

/// Each recorded run's whole result, kept so that its report can be written again as it was
/// (`report --run`), compared with any other run (`diff`) and judged again under a later policy
/// (`audit --replay`). Three parts, each gzip-compressed JSON: the Members' part of the result,
/// the domains' checks with their evidence, and the directory read the run judged.
extension AuditRegister {
    /// How a stored result's parts are encoded. Rows written before v7 are plain JSON, without
    /// the directory read.
    enum ResultFormat: String {
        case json
        case gzippedJSON = "json.gz"
    }

    static func registerStoredResultMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: compressed run results with the directory read; replays") { db in
            try db.alter(table: "auditRunResult") { table in
                table.add(column: "directory", .blob)            // the DirectoryRead judged; nil before v7
            }
            try db.alter(table: "auditRun") { table in
                table.add(column: "replayOf", .integer).references("auditRun")   // a recorded replay of that run
            }
        }
    }

    static let compactEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func storeResult(_ result: AuditResult, directory: DirectoryRead?, runId: Int64, in db: Database) throws {
        // The Members' part and the domains' part are each encoded an element at a time straight
        // into the compressor: the whole encoding of 10,000 Members is never held, only its gzip.
        var members = result
        members.domains = []
        let body = try GzipStream.compressing { write in try StreamedJSON(encoder: compactEncoder, write: write).object(try members.fields()) }
        let domains = try GzipStream.compressing { write in try StreamedJSON(encoder: compactEncoder, write: write).array(result.domains) }
        try db.execute(sql: "INSERT INTO auditRunResult (runId, format, body, domains, directory) VALUES (?, ?, ?, ?, ?)",
                       arguments: [runId, ResultFormat.gzippedJSON.rawValue, body, domains,
                                   try directory.map { try gzip(compactEncoder.encode($0)) }])
    }

    /// What a recorded run kept: its result and, from v7 on, the directory read it judged.
    public struct StoredRun: Sendable {
        public var result: AuditResult
        public var directory: DirectoryRead?
    }

    /// A recorded run's whole result, as it was reported; nil for runs recorded before results
    /// were kept. Without `domains` the domains' evidence is not read (a smaller, quicker read).
    public func result(runId: Int64, domains: Bool = true) throws -> AuditResult? {
        try stored(runId: runId, domains: domains, directory: false)?.result
    }

    /// A recorded run's result and directory read (nil for runs recorded before they were kept).
    public func stored(runId: Int64, domains: Bool = true, directory: Bool = true) throws -> StoredRun? {
        try reading { db in
            // Read from SQLite's own buffer (no copy of a blob that can be megabytes), while the
            // statement still holds it.
            let columns = ["format", "body"] + (domains ? ["domains"] : []) + (directory ? ["directory"] : [])
            let rows = try Row.fetchCursor(db, sql: "SELECT \(columns.joined(separator: ", ")) FROM auditRunResult WHERE runId = ?",
                                           arguments: [runId])
            guard let row = try rows.next() else { return nil }
            let formatName: String = row["format"]
            guard let format = ResultFormat(rawValue: formatName) else {
                throw RegisterError("\(path): run #\(runId) is stored as '\(formatName)', which this version cannot read (a newer mailaudit wrote it)")
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            decoder.userInfo[.stringInterner] = StringInterner()
            func decode<T: Decodable>(_ type: T.Type, _ data: Data, part: String) throws -> T {
                do {
                    return format == .gzippedJSON ? try Self.withGunzipped(data) { try decoder.decode(type, from: $0) } : try decoder.decode(type, from: data)
                } catch {
                    throw RegisterError("\(path): run #\(runId)'s stored \(part) cannot be read: \(error)")
                }
            }
            guard var result = try row.withUnsafeData(named: "body", { try $0.map { try decode(AuditResult.self, $0, part: "result") } }) else {
                return nil
            }
            if domains, let stored = try row.withUnsafeData(named: "domains", { try $0.map { try decode([DomainReport].self, $0, part: "domain checks") } }) {
                result.domains = stored
            }
            result.runId = runId
            let read = directory ? try row.withUnsafeData(named: "directory") { try $0.map { try decode(DirectoryRead.self, $0, part: "directory read") } } : nil
            return StoredRun(result: result, directory: read)
        }
    }

    /// A recorded run's stored result, or why there is none: no such run, or a run recorded
    /// before whole results were kept, when `unavailable` says what cannot then be done.
    public func requireStored(runId: Int64, domains: Bool = true, directory: Bool = false, unavailable: String) throws -> StoredRun {
        if let stored = try stored(runId: runId, domains: domains, directory: directory) { return stored }
        let known = try reading { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM auditRun WHERE id = ?)", arguments: [runId]) } ?? false
        throw RegisterError(known ? "run #\(runId) was recorded before the register kept whole results: \(unavailable)"
                                  : "no run #\(runId) in \(path) (see mailaudit history)")
    }

    /// Bytes each run's stored result takes, compressed as kept (for the growth figures).
    public func storedResultSizes() throws -> [(runId: Int64, bytes: Int)] {
        try reading { db in
            try Row.fetchAll(db, sql: """
                SELECT runId, length(body) + length(domains) + coalesce(length(directory), 0) AS bytes FROM auditRunResult ORDER BY runId
                """).map { ($0["runId"], $0["bytes"]) }
        }
    }

    static func gzip(_ data: Data) throws -> Data {
        try GzipStream.compressing { write in write(data) }
    }

    static func gunzip(_ data: Data) throws -> Data {
        try withGunzipped(data) { Data($0) }
    }

    /// Hands `body` the plain bytes of a gzip member, inflated once into a buffer of the size
    /// its trailer gives, and not copied again: a stored part of 10,000 Members is tens of
    /// megabytes, and growing a buffer by steps, then copying it, held it three times over.
    static func withGunzipped<T>(_ data: Data, _ body: (Data) throws -> T) throws -> T {
        // RFC 1952's ISIZE, the plain size mod 2^32: exact for any part the register keeps (at
        // most a few hundred megabytes, however large the authority), and capped for a damaged one.
        let size = data.count >= 18 ? data.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) } : 0
        var compressed = ByteBuffer(bytes: data)
        var plain = ByteBufferAllocator().buffer(capacity: min(max(size, 1), 1 << 30))
        try compressed.decompress(to: &plain, with: .gzip)
        return try plain.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return try body(Data()) }
            return try body(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
        }
    }
}

/// gzip of data written in pieces: each piece is compressed as it comes, so only the
/// compressed whole is held.
enum GzipStream {
    static func compressing(_ produce: (_ write: @escaping (Data) -> Void) throws -> Void) throws -> Data {
        let compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
        defer { try? compressor.finishStream() }
        compressor.window = ByteBufferAllocator().buffer(capacity: 1 << 16)
        var compressed = Data()
        // The pieces come through a non-throwing callback; the first failure is kept and thrown.
        var failure: Error?
        func take(_ piece: inout ByteBuffer, flush: CompressNIOFlush) {
            guard failure == nil else { return }
            do {
                try piece.compressStream(with: compressor, flush: flush) { compressed.append(contentsOf: $0.readableBytesView) }
            } catch {
                failure = error
            }
        }
        try produce { data in
            var piece = ByteBuffer(bytes: data)
            take(&piece, flush: .no)
        }
        var end = ByteBuffer()
        take(&end, flush: .finish)
        if let failure { throw failure }
        return compressed
    }
}
