import Foundation

/// A report file written piece by piece, so that a report of many thousand Members is never held
/// whole in memory, yet appears whole or not at all: the pieces go to a temporary file beside it,
/// which is renamed into place by `commit()`. Until then the file at `path` is untouched, and a
/// file left uncommitted (an error, a throw on the way) is removed.
public final class StreamedFile {
    public let path: String
    private let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    /// The first write that failed; `commit()` reports it, so a short file is never renamed in.
    private var failure: String?
    private static let bufferSize = 1 << 18

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(path: String) throws {
        self.path = path
        temporaryPath = path + ".partial-\(getpid())"
        // 0666 before the umask, as any file the user writes (the systemd unit's UMask makes it 0640).
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(temporaryPath): \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(Self.bufferSize)
    }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ data: Data) {
        data.withUnsafeBytes { write($0) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) {
        // A piece larger than the buffer goes straight to the file: the buffer never grows.
        if buffer.count + bytes.count > Self.bufferSize {
            flush()
            if bytes.count >= Self.bufferSize { return writeOut(bytes) }
        }
        buffer.append(contentsOf: bytes)
    }

    private func flush() {
        defer { buffer.removeAll(keepingCapacity: true) }
        buffer.withUnsafeBytes { writeOut($0) }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                failure = "cannot write \(path): \(String(cString: strerror(errno)))"
                return
            }
            offset += written
        }
    }

    /// Puts the whole file in place, or throws and leaves whatever was at `path` as it was.
    public func commit() throws {
        flush()
        let closed = close(descriptor)
        descriptor = -1
        if failure == nil, closed != 0 { failure = "cannot write \(path): \(String(cString: strerror(errno)))" }
        if failure == nil, rename(temporaryPath, path) != 0 { failure = "cannot put \(path) in place: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temporaryPath)
            throw Failure(description: failure)
        }
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporaryPath)
        }
    }
}
