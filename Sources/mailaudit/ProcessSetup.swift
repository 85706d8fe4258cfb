import CMalloc
import Foundation

/// What the process sets up before any command runs, so that faults outside the tool's control
/// end in a message and an exit code, never in a silent death.
enum ProcessSetup {
    /// The flag that keeps SSLKEYLOGFILE in force (TLS session keys written to a file, for
    /// debugging with Wireshark). Without it the variable is removed: a stray one in cron's
    /// environment would otherwise write every session's keys to disk.
    static let keyLogFlag = "--debug-tls-keylog"

    /// Returns the command line without the process-wide flags it handled.
    static func prepare(_ arguments: [String]) -> [String] {
        // A directory or web server that closes its end mid-write is a broken connection to
        // report (EPIPE), not a signal that kills the tool with no message.
        signal(SIGPIPE, SIG_IGN)
        raiseDescriptorLimit()
        limitMallocArenas()
        var rest = arguments
        if let index = rest.firstIndex(of: keyLogFlag) {
            rest.remove(at: index)
            if ProcessInfo.processInfo.environment["SSLKEYLOGFILE"] != nil {
                FileHandle.standardError.write(Data("mailaudit: warning: \(keyLogFlag): TLS session keys are written to $SSLKEYLOGFILE\n".utf8))
            }
        } else {
            unsetenv("SSLKEYLOGFILE")
        }
        return rest
    }

    /// At most one malloc arena a core (glibc's default is eight a core). Each thread that
    /// finds the arenas busy makes another, and memory freed in one arena cannot serve another:
    /// an audit of 10,000 Members peaked at 156 MB with the default and 141 MB with two arenas on
    /// two cores, in the same time. MALLOC_ARENA_MAX in the environment still decides.
    static func limitMallocArenas() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }

    /// The soft limit on open files up to the hard limit: a run of many domains at once needs
    /// descriptors for its connections, and a distribution's default of 1024 can be short.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = min(limit.rlim_max, 65_536)
        _ = setrlimit(resource, &limit)
    }
}
