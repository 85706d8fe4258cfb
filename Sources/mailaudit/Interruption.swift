import Dispatch
import Foundation

/// What Ctrl-C (SIGINT) or a stop (SIGTERM) says, and when it may end the process. A command
/// keeps `message` saying what is and is not saved at each step; a register write is `held`,
/// so an interruption then waits for the write to finish (or fail) before saying so. A second
/// Ctrl-C ends the process at once.
final class Interruption: @unchecked Sendable {
    static let shared = Interruption()

    // Guards every field below: the signal handler runs on a dispatch queue, the command on its own.
    private let lock = NSLock()
    private var message = "mailaudit: interrupted"
    private var holds = 0
    private var requested = false
    private var sources: [DispatchSourceSignal] = []

    /// From now on SIGINT and SIGTERM print the current message and exit 130 (143 for SIGTERM).
    func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in self.interrupted(by: number) }
            source.resume()
            sources.append(source)
        }
    }

    /// What an interruption now would leave behind, in one line or a few.
    func say(_ text: String) {
        lock.lock(); message = text; lock.unlock()
    }

    /// Runs `body`, a step that must not be cut in half; an interruption meanwhile is answered
    /// once it is over, with the message `after` gives for how it ended.
    func held<T>(_ body: () throws -> T, after: (Result<T, Error>) -> String) throws -> T {
        lock.lock(); holds += 1; lock.unlock()
        let result = Result { try body() }
        let text = after(result)
        lock.lock()
        holds -= 1
        message = text
        let stopNow = requested && holds == 0
        lock.unlock()
        if stopNow { stop(text, status: 130) }
        return try result.get()
    }

    private func interrupted(by number: Int32) {
        lock.lock()
        if requested || holds == 0 {
            let text = requested && holds > 0 ? "mailaudit: interrupted again while writing to the register; SQLite keeps the write whole or not at all" : message
            lock.unlock()
            stop(text, status: number == SIGTERM ? 143 : 130)
        }
        requested = true
        lock.unlock()
        FileHandle.standardError.write(Data("\nmailaudit: finishing the register write in progress…\n".utf8))
    }

    private func stop(_ text: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("\n\(text)\n".utf8))
        exit(status)
    }
}
