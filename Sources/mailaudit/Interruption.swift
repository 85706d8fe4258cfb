import Dispatch
import Foundation
import Synchronization

/// What Ctrl-C (SIGINT) or a stop (SIGTERM) says, and when it may end the process. A command
/// keeps `message` saying what is and is not saved at each step; a register write is `held`,
/// so an interruption then waits for the write to finish (or fail) before saying so. A second
/// Ctrl-C ends the process at once.
final class Interruption: Sendable {
    static let shared = Interruption()

    private struct State {
        var message = "mailaudit: interrupted"
        var holds = 0
        var requested = false
        var sources: [DispatchSourceSignal] = []
    }
    // The signal handler runs on a dispatch queue, the command on its own.
    private let state = Mutex(State())

    /// From now on SIGINT and SIGTERM print the current message and exit 130 (143 for SIGTERM).
    func install() {
        state.withLock { state in
            guard state.sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [unowned self] in self.interrupted(by: number) }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    /// What an interruption now would leave behind, in one line or a few.
    func say(_ text: String) {
        state.withLock { $0.message = text }
    }

    /// Runs `body`, a step that must not be cut in half; an interruption meanwhile is answered
    /// once it is over, with the message `after` gives for how it ended.
    func held<T>(_ body: () throws -> T, after: (Result<T, Error>) -> String) throws -> T {
        state.withLock { $0.holds += 1 }
        let result = Result { try body() }
        let text = after(result)
        let stopNow = state.withLock { state in
            state.holds -= 1
            state.message = text
            return state.requested && state.holds == 0
        }
        if stopNow { stop(text, status: 130) }
        return try result.get()
    }

    private func interrupted(by number: Int32) {
        // Stop now (outside the lock), or note the request for when the write in progress ends.
        let stopWith: String? = state.withLock { state in
            if state.requested || state.holds == 0 {
                return state.requested && state.holds > 0
                    ? "mailaudit: interrupted again while writing to the register; SQLite keeps the write whole or not at all" : state.message
            }
            state.requested = true
            return nil
        }
        if let stopWith { stop(stopWith, status: number == SIGTERM ? 143 : 130) }
        FileHandle.standardError.write(Data("\nmailaudit: finishing the register write in progress…\n".utf8))
    }

    private func stop(_ text: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("\n\(text)\n".utf8))
        exit(status)
    }
}
