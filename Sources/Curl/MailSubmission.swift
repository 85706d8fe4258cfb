import CCurl
import Foundation

/// A message to submit: headers, a plain-text and an HTML alternative, and attachments.
/// libcurl's MIME API builds the body (parts, boundaries, transfer encodings).
public struct MailMessage: Sendable {
    public struct Attachment: Sendable {
        public var name: String
        public var contentType: String
        public var data: Data
        public init(name: String, contentType: String, data: Data) { self.name = name; self.contentType = contentType; self.data = data }
    }

    public var from: String
    public var to: [String]
    public var subject: String
    public var date: Date
    public var messageID: String
    public var text: String
    public var html: String
    public var attachments: [Attachment]

    public init(from: String, to: [String], subject: String, date: Date, messageID: String, text: String, html: String,
                attachments: [Attachment]) {
        self.from = from; self.to = to; self.subject = subject; self.date = date; self.messageID = messageID
        self.text = text; self.html = html; self.attachments = attachments
    }

    /// The header fields, each on one line: values with a line break are refused by the
    /// callers' checks, and the subject is encoded (RFC 2047) when it is not plain ASCII.
    public var headers: [String] {
        ["Date: \(Self.rfc5322Date(date))", "Message-ID: <\(messageID)>", "From: \(from)", "To: \(to.joined(separator: ", "))",
         "Subject: \(Self.encodedWord(subject))"]
    }

    /// "Wed, 02 Dec 2026 14:05:00 +0000" (RFC 5322 section 3.3).
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// Printable ASCII as it is; anything else as one RFC 2047 base64 encoded-word per 45 bytes.
    static func encodedWord(_ text: String) -> String {
        let clean = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(String.init).joined()
        if clean.unicodeScalars.allSatisfy({ $0.value < 0x7F }) { return clean }
        var words: [String] = []
        var chunk = ""
        for character in clean {
            if (chunk + String(character)).utf8.count > 45 { words.append(chunk); chunk = "" }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}

/// Where and how to submit: `smtps://host:465`, or `smtp://host:587` with STARTTLS required.
/// TLS verification is always on; `caFile` names the CA bundle (default: the system's).
public struct MailServer: Sendable {
    public var url: String
    public var username: String?
    public var password: String?
    public var caFile: String?
    public var timeout: Duration

    public init(url: String, username: String?, password: String?, caFile: String?, timeout: Duration = .seconds(60)) {
        self.url = url; self.username = username; self.password = password; self.caFile = caFile; self.timeout = timeout
    }
}

/// A submission that did not go through, in curl's words and the server's last reply.
public struct MailFailure: Error, CustomStringConvertible, Sendable {
    public var reason: String
    /// The server's last reply lines (never what the client sent, so never the password).
    public var serverReply: String?
    public var description: String { reason + (serverReply.map { "; the server replied: \($0)" } ?? "") }
}

/// One SMTP submission on the client's transfer thread: the MIME tree, the recipients' list and
/// the error buffer live as long as the task and are freed with it, on every path.
final class MailSubmission: CurlTask {
    let handle: EasyHandle
    private var mime: OpaquePointer?
    let target: String
    var continuation: CheckedContinuation<Result<Void, MailFailure>, Never>?
    private var replyLines: [String] = []
    private let lock = NSLock()

    init?(url: String) {
        guard let handle = EasyHandle() else { return nil }
        self.handle = handle
        target = url
    }

    deinit {
        // The MIME tree is freed before the handle (its deinit runs after this body).
        curl_mime_free(mime)
    }

    /// Builds the message and sets every option; curl's words when one is refused.
    func configure(_ message: MailMessage, server: MailServer) -> String? {
        let implicitTLS = server.url.lowercased().hasPrefix("smtps://")
        var codes = [
            handle.set(CURLOPT_URL, server.url),
            handle.set(CURLOPT_PROTOCOLS_STR, implicitTLS ? "smtps" : "smtp"),
            // smtp:// must upgrade with STARTTLS: a server that does not offer it is refused.
            handle.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)),
            handle.set(CURLOPT_SSL_VERIFYPEER, 1),
            handle.set(CURLOPT_SSL_VERIFYHOST, 2),
            handle.set(CURLOPT_SSLVERSION, mailaudit_curl_sslversion_tlsv1_2()),
            handle.set(CURLOPT_NOSIGNAL, 1),
            handle.set(CURLOPT_TIMEOUT_MS, server.timeout.milliseconds),
            handle.set(CURLOPT_CONNECTTIMEOUT_MS, min(server.timeout, .seconds(30)).milliseconds),
            handle.set(CURLOPT_MAIL_FROM, "<\(message.from)>"),
            handle.set(CURLOPT_MAIL_RCPT, list: message.to.map { "<\($0)>" }),
            handle.set(CURLOPT_HTTPHEADER, list: message.headers),
        ]
        codes.append(handle.trust(adding: server.caFile))
        if let username = server.username { codes.append(handle.set(CURLOPT_USERNAME, username)) }
        if let password = server.password { codes.append(handle.set(CURLOPT_PASSWORD, password)) }
        if let refused = codes.first(where: { $0 != CURLE_OK }) { return String(cString: curl_easy_strerror(refused)) }
        guard let tree = buildMIME(message) else { return "the message could not be built (out of memory)" }
        mime = tree
        guard mailaudit_curl_setopt_ptr(handle.pointer, CURLOPT_MIMEPOST, UnsafeRawPointer(tree)) == CURLE_OK,
              mailaudit_curl_setopt_header(handle.pointer, submissionReplyCallback) == CURLE_OK,
              mailaudit_curl_setopt_ptr(handle.pointer, CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque()) == CURLE_OK else {
            return "curl refused the message body"
        }
        return nil
    }

    /// multipart/mixed: a multipart/alternative (text, then HTML) and one part per attachment.
    private func buildMIME(_ message: MailMessage) -> OpaquePointer? {
        guard let mixed = curl_mime_init(handle.pointer) else { return nil }
        guard let alternative = curl_mime_init(handle.pointer) else { curl_mime_free(mixed); return nil }
        // Text travels with CRLF line ends (RFC 5322): quoted-printable keeps those as line
        // breaks, where a bare LF would become "=0A".
        func lines(_ text: String) -> Data {
            Data(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        }
        var ok = addPart(to: alternative, data: lines(message.text), type: "text/plain; charset=utf-8", encoder: "quoted-printable")
            && addPart(to: alternative, data: lines(message.html), type: "text/html; charset=utf-8", encoder: "quoted-printable")
        if let part = curl_mime_addpart(mixed), ok {
            // The mixed part owns the alternative from here on, freed with it.
            ok = curl_mime_subparts(part, alternative) == CURLE_OK && curl_mime_type(part, "multipart/alternative") == CURLE_OK
            if !ok { curl_mime_free(alternative) }
        } else {
            curl_mime_free(alternative)
            ok = false
        }
        for attachment in message.attachments where ok {
            ok = addPart(to: mixed, data: attachment.data, type: attachment.contentType, encoder: "base64", filename: attachment.name)
        }
        guard ok else { curl_mime_free(mixed); return nil }
        return mixed
    }

    private func addPart(to mime: OpaquePointer, data: Data, type: String, encoder: String, filename: String? = nil) -> Bool {
        guard let part = curl_mime_addpart(mime) else { return false }
        // curl copies the data.
        let copied = data.withUnsafeBytes { bytes in
            curl_mime_data(part, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) == CURLE_OK
        }
        guard copied, curl_mime_type(part, type) == CURLE_OK, curl_mime_encoder(part, encoder) == CURLE_OK else { return false }
        // A file name makes the part an attachment (Content-Disposition: attachment).
        return filename.map { curl_mime_filename(part, $0) == CURLE_OK } ?? true
    }

    func noteReply(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        replyLines.append(trimmed)
        if replyLines.count > 6 { replyLines.removeFirst() }
    }

    private var lastReply: String? {
        lock.lock(); defer { lock.unlock() }
        // The last reply that is not a success: what the server objected to.
        let lines = replyLines.filter { !$0.hasPrefix("2") && !$0.hasPrefix("3") }
        return (lines.last ?? replyLines.last).map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init)) }
    }

    func finish(code: CURLcode) {
        guard code == CURLE_OK else {
            var response = 0
            _ = mailaudit_curl_getinfo_long(handle.pointer, CURLINFO_RESPONSE_CODE, &response)
            let reason = handle.message(for: code)
            resume(.failure(MailFailure(reason: reason, serverReply: response >= 400 ? lastReply : nil)))
            return
        }
        resume(.success(()))
    }

    func abandon(_ failure: HTTPFailure) { resume(.failure(MailFailure(reason: failure.description, serverReply: nil))) }

    private func resume(_ outcome: Result<Void, MailFailure>) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(returning: outcome)
    }
}

/// For SMTP, curl hands the server's reply lines to the header callback.
private let submissionReplyCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, user in
    guard let user, let data else { return 0 }
    let submission = Unmanaged<MailSubmission>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    submission.noteReply(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
    return length
}

extension CurlClient {
    /// Submits one message; returns when the server has accepted it for every recipient, or
    /// throws the failure with the server's reply.
    public func submit(_ message: MailMessage, to server: MailServer) async throws {
        guard let submission = MailSubmission(url: server.url) else {
            throw MailFailure(reason: "curl_easy_init failed (out of memory or descriptors)", serverReply: nil)
        }
        if let refused = submission.configure(message, server: server) {
            throw MailFailure(reason: "curl refused an option: \(refused)", serverReply: nil)
        }
        let outcome = await withCheckedContinuation { continuation in
            submission.continuation = continuation
            enqueue(submission)
        }
        try outcome.get()
    }
}
