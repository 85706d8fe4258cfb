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
///
/// At the C boundary: the multi handle is touched only by the transfer thread (and
/// `curl_multi_wakeup`, which libcurl allows from any thread); `lock` guards every mutable field
/// shared with callers (`waiting`, `running`, `stopping`, the handle pool and the failure
/// counts). A pooled easy handle is in no multi handle and belongs to no transfer: whoever takes
/// it from the pool has it alone.
public final class CurlClient: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var waiting: [CurlTask] = []
    private var running: [UnsafeMutableRawPointer: CurlTask] = [:]
    private var stopping = false
    private let stopped = DispatchSemaphore(value: 0)
    private var firstLocalFailure: String?
    private var localFailureCount = 0
    /// After this, nothing more is sent: a run bounded by it ends, whatever the servers do.
    public let deadline: ContinuousClock.Instant?
    private var refusedAfterDeadline = 0
    /// Easy handles left by finished transfers, with their request shape (`HTTPRequest.shape`),
    /// for the next request of that shape; at most `pooledHandleLimit`. A run has one or two
    /// shapes, so a list searched from its end does.
    private var pooledHandles: [(shape: String, handle: EasyHandle)] = []
    private let pooledHandleLimit = 64

    /// - Parameter maxConnectionsPerHost: a bound on parallel connections to one host; with
    ///   HTTP/2 most transfers share one anyway.
    ///   `maxTotalConnections` bounds the sockets open at once (transfers beyond it wait their
    ///   turn), so that a run never takes more descriptors than the process has.
    ///   `deadline`: transfers after it are not attempted, and those under way are cut at it.
    public init(maxConnectionsPerHost: Int = 4, maxTotalConnections: Int = 64, deadline: ContinuousClock.Instant? = nil) {
        self.deadline = deadline
        _ = curlGlobalInit
        multi = curl_multi_init()!
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, mailaudit_curl_pipe_multiplex())
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        // The connection cache holds idle connections for reuse: no more than may be open.
        _ = mailaudit_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxTotalConnections)
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
        var request = request
        if let remaining = remainingTime() {
            guard remaining > .milliseconds(50) else { throw HTTPFailure.timedOut(url: request.url, message: Self.deadlineMessage) }
            request.timeout = min(request.timeout, remaining)
            request.connectTimeout = min(request.connectTimeout, remaining)
        }
        do {
            assert(request.handleShape == nil || request.handleShape == request.shape, "a reused request's shape changed")
            let transfer = try Transfer(request: request, pooled: request.handleShape.flatMap(takePooledHandle))
            return try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                enqueue(transfer)
            }
        } catch let failure as HTTPFailure {
            if case let .local(_, message) = failure { noteLocalFailure(message) }
            throw failure
        }
    }

    static let deadlineMessage = "not attempted: the run's deadline had passed"

    /// Time left before the deadline (nil: no deadline); counts what it refuses.
    func remainingTime() -> Duration? {
        guard let deadline else { return nil }
        let remaining = deadline - .now
        if remaining <= .milliseconds(50) {
            lock.lock(); refusedAfterDeadline += 1; lock.unlock()
        }
        return remaining
    }

    /// Transfers and probes not attempted because the deadline had passed.
    public var refusedAfterDeadlineCount: Int {
        lock.lock(); defer { lock.unlock() }
        return refusedAfterDeadline
    }

    /// The first of this process's own failures (out of descriptors or memory) and how many
    /// there were: a run that had any has judged nobody fairly.
    public var localFailure: (first: String, count: Int)? {
        lock.lock(); defer { lock.unlock() }
        return firstLocalFailure.map { ($0, localFailureCount) }
    }

    func noteLocalFailure(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        if firstLocalFailure == nil { firstLocalFailure = message }
        localFailureCount += 1
    }

    private func takePooledHandle(shape: String) -> EasyHandle? {
        lock.lock(); defer { lock.unlock() }
        guard let index = pooledHandles.lastIndex(where: { $0.shape == shape }) else { return nil }
        reusedHandles += 1
        return pooledHandles.remove(at: index).handle
    }

    private var reusedHandles = 0

    /// Transfers that ran on a pooled handle, and the handles waiting in the pool now.
    var handlePoolFigures: (reused: Int, waiting: Int) {
        lock.lock(); defer { lock.unlock() }
        return (reusedHandles, pooledHandles.count)
    }

    /// Keeps the handle of a transfer that ended well for the next request of its shape. One
    /// that failed is not kept: nothing of a failure should carry over.
    private func pool(_ handle: EasyHandle, shape: String) {
        lock.lock(); defer { lock.unlock() }
        guard !stopping, pooledHandles.count < pooledHandleLimit else { return }
        pooledHandles.append((shape, handle))
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
        // One wake-up for a burst: the transfer thread takes every waiting task at once, so a
        // task joining others still waiting is picked up by the wake-up they already sent.
        // Under the lock: the multi handle cannot be freed between the check and the wake-up.
        if waiting.count == 1 { curl_multi_wakeup(multi) }
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
        pooledHandles.removeAll()
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
            if code == CURLE_OK, let transfer = task as? Transfer, let shape = transfer.request.handleShape {
                pool(transfer.handle, shape: shape)
            }
            // The task (and its easy handle, unless pooled) is freed when the last reference goes, here.
        }
    }
}
