import CCurl
import Foundation

private let curlGlobalInit: Void = { curl_global_init(mailaudit_curl_global_default()) }()

/// An HTTP client over one libcurl multi handle, driven by a dedicated thread.
///
/// libcurl's easy interface blocks; running it on Swift's cooperative pool would starve other
/// tasks. Here every transfer is added to a multi handle that one thread polls, and callers
/// simply `await perform(_:)`. HTTP/2 multiplexing lets many transfers to the same host share
/// a connection. Call `shutdown()` when finished: the transfer thread keeps the client alive
/// until then.
public final class CurlClient: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var waiting: [CurlTask] = []
    private var running: [UnsafeMutableRawPointer: CurlTask] = [:]
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)

    /// - Parameter maxConnectionsPerHost: a bound on parallel connections to one host; with
    ///   HTTP/2 most transfers share one anyway.
    public init(maxConnectionsPerHost: Int = 4, maxTotalConnections: Int = 64) {
        _ = curlGlobalInit
        multi = curl_multi_init()!
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, mailaudit_curl_pipe_multiplex())
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        let thread = Thread { [unowned self] in self.runLoop() }
        thread.name = "mailaudit.curl"
        thread.start()
    }

    /// Stops the transfer thread, fails transfers still under way with `HTTPFailure.shutDown`
    /// and frees every libcurl resource (handles, connection cache). Safe to call more than once.
    public func shutdown() {
        lock.lock()
        if stopping { lock.unlock(); return }
        stopping = true
        curl_multi_wakeup(multi)
        lock.unlock()
        stopped.wait()
    }

    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try Transfer(request: request)
        return try await withCheckedThrowingContinuation { continuation in
            transfer.continuation = continuation
            enqueue(transfer)
        }
    }

    /// Hands a task to the transfer thread, or abandons it when the client is shutting down.
    func enqueue(_ task: CurlTask) {
        lock.lock()
        if stopping {
            lock.unlock()
            task.abandon(.shutDown)
            return
        }
        waiting.append(task)
        // Under the lock: the multi handle cannot be freed between the check and the wake-up.
        curl_multi_wakeup(multi)
        lock.unlock()
    }

    private func runLoop() {
        var stillRunning: Int32 = 0
        while true {
            lock.lock()
            let stop = stopping
            let newcomers = waiting
            waiting.removeAll()
            lock.unlock()
            if stop {
                for task in newcomers { task.abandon(.shutDown) }
                break
            }
            for task in newcomers {
                if curl_multi_add_handle(multi, task.handle.pointer) == CURLM_OK {
                    running[task.handle.pointer] = task
                } else {
                    task.abandon(.other(url: task.target, code: -1, message: "curl_multi_add_handle failed"))
                }
            }
            curl_multi_perform(multi, &stillRunning)
            collectFinished()
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for (easy, task) in running {
            curl_multi_remove_handle(multi, easy)
            task.abandon(.shutDown)
        }
        running.removeAll()
        // The easy handles are gone with their transfers; the multi handle (and the connection
        // cache it owns) goes here, on the thread that used it.
        lock.lock()
        curl_multi_cleanup(multi)
        lock.unlock()
        stopped.signal()
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let task = running.removeValue(forKey: easy) else { continue }
            // Read before the handle leaves the multi: `message` points into the multi's memory.
            let code = mailaudit_curl_msg_result(message)
            task.finish(code: code)
            curl_multi_remove_handle(multi, easy)
            // The task (and its easy handle) is freed when the last reference goes, here.
        }
    }
}
