import CLDAP
import Foundation

/// How to reach an LDAP server.
public struct LDAPServer: Sendable {
    public var url: String
    /// PEM file of the CAs that may sign the server's certificate; nil for the system's.
    public var caFile: String?
    /// Plain ldap:// without StartTLS: only when the site says so, with a warning every run.
    public var allowInsecure = false
    public var networkTimeoutSeconds = 10
    public var operationTimeoutSeconds = 60

    public init(url: String, caFile: String? = nil) {
        self.url = url
        self.caFile = caFile
    }

    var isLDAPS: Bool { url.lowercased().hasPrefix("ldaps://") }
}

/// One libldap handle, used from one thread at a time. Every libldap and liblber allocation is
/// released on every path: results and controls in `defer`, the handle in `close()`/`deinit`.
final class LDAPConnection {
    private var handle: OpaquePointer?
    let server: LDAPServer

    /// libldap reads /etc/ldap/ldap.conf, ~/.ldaprc and LDAP* variables on first use unless
    /// LDAPNOINIT is set: the tool must behave the same whatever the machine's settings.
    private static let ignoreSystemConfiguration: Void = { setenv("LDAPNOINIT", "1", 1) }()

    init(server: LDAPServer) throws {
        _ = Self.ignoreSystemConfiguration
        self.server = server
        let lower = server.url.lowercased()
        guard lower.hasPrefix("ldap://") || lower.hasPrefix("ldaps://") else {
            throw DirectoryError.configuration("directory url \(server.url) must start with ldaps:// or ldap://")
        }
        var ld: OpaquePointer?
        let rc = ldap_initialize(&ld, server.url)
        guard rc == LDAP_SUCCESS, let ld else {
            throw DirectoryError.connect(server: server.url, why: String(cString: ldap_err2string(rc)))
        }
        handle = ld
        do {
            try configure(ld)
            // Connect now, so that a refused connection or a failed LDAPS handshake is reported
            // as such rather than as a failed bind later.
            let connected = ldap_connect(ld)
            guard connected == LDAP_SUCCESS else {
                let why = message(connected)
                if server.isLDAPS {
                    throw DirectoryError.tls(server: server.url, why: "cannot connect, or the TLS handshake failed (\(why)); check that the server is reachable and that \(server.caFile ?? "the system's CA bundle") holds the CA that signed its certificate, for this host name or address")
                }
                throw DirectoryError.connect(server: server.url, why: why)
            }
            if !server.isLDAPS && !server.allowInsecure {
                let tls = ldap_start_tls_s(ld, nil, nil)
                guard tls == LDAP_SUCCESS else {
                    throw DirectoryError.tls(server: server.url, why: "StartTLS: " + message(tls))
                }
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Connects with every phase bounded. libldap's time-outs cover the TCP connect, StartTLS
    /// and each operation, but not the LDAPS handshake: a server that accepts the connection and
    /// then says nothing would hold the tool for ever. The connection is made on a thread of its
    /// own, and given up on (with that thread left to the process's exit) after the network
    /// time-out twice over.
    static func open(server: LDAPServer) throws -> LDAPConnection {
        // At the C boundary (libldap's connect, on a thread of its own): `result` is written
        // before `done` is signalled and read only after it is waited for, or never.
        final class Outcome: @unchecked Sendable { var result: Result<LDAPConnection, Error>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.result = Result { try LDAPConnection(server: server) }
            done.signal()
        }
        thread.name = "mailaudit.ldap-connect"
        thread.start()
        let limit = max(2, server.networkTimeoutSeconds * 2)
        guard done.wait(timeout: .now() + .seconds(limit)) == .success, let result = outcome.result else {
            let phase = server.isLDAPS ? "did not complete the TLS handshake" : "did not complete the connection and StartTLS"
            throw DirectoryError.tls(server: server.url, why: "the server accepted the connection but \(phase) within \(limit) s "
                                     + "(twice directory.networkTimeout); is it an LDAP server, and is it well?")
        }
        return try result.get()
    }

    func close() {
        if let handle { ldap_unbind_ext_s(handle, nil, nil) }
        handle = nil
    }

    private func configure(_ ld: OpaquePointer) throws {
        func set(_ rc: Int32, _ what: String) throws {
            guard rc == LDAP_OPT_SUCCESS else {
                throw DirectoryError.connect(server: server.url, why: "cannot set \(what): \(String(cString: ldap_err2string(rc)))")
            }
        }
        try set(mailaudit_ldap_set_int(ld, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3), "protocol version 3")
        // Referrals are followed anonymously by default: never follow them.
        try set(mailaudit_ldap_set_referrals_off(ld), "referrals off")
        try set(mailaudit_ldap_set_timeout(ld, LDAP_OPT_NETWORK_TIMEOUT, server.networkTimeoutSeconds), "network time-out")
        try set(mailaudit_ldap_set_timeout(ld, LDAP_OPT_TIMEOUT, server.operationTimeoutSeconds), "operation time-out")
        if let caFile = server.caFile {
            try set(mailaudit_ldap_set_string(ld, LDAP_OPT_X_TLS_CACERTFILE, caFile), "CA file")
        }
        try set(mailaudit_ldap_set_int(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, LDAP_OPT_X_TLS_DEMAND), "certificate checking")
        try set(mailaudit_ldap_set_int(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, mailaudit_ldap_tls_protocol_1_2()), "TLS 1.2 minimum")
        // TLS options take effect only in a new TLS context; without this they are ignored.
        try set(mailaudit_ldap_set_int(ld, LDAP_OPT_X_TLS_NEWCTX, 0), "a new TLS context")
    }

    /// libldap's text for a result code, with the server's diagnostic message when it sent one.
    private func message(_ rc: Int32) -> String {
        var text = String(cString: ldap_err2string(rc))
        if let handle, let diagnostic = mailaudit_ldap_diagnostic(handle) {
            let detail = String(cString: diagnostic)
            ldap_memfree(diagnostic)
            if !detail.isEmpty && detail != "(unknown error code)" && detail != text { text += " (\(detail))" }
        }
        return text
    }

    private func live() throws -> OpaquePointer {
        guard let handle else { throw DirectoryError.connect(server: server.url, why: "the connection is closed") }
        return handle
    }

    func bind(dn: String, password: String) throws {
        let ld = try live()
        let rc = password.utf8CString.withUnsafeBufferPointer { buffer in
            mailaudit_ldap_simple_bind(ld, dn, buffer.baseAddress, buffer.count - 1)
        }
        guard rc == LDAP_SUCCESS else {
            if rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT {
                throw DirectoryError.connect(server: server.url, why: message(rc))
            }
            throw DirectoryError.bind(server: server.url, why: "as \(dn): " + message(rc))
        }
    }

    enum Scope { case base, subtree }

    /// Runs a search and returns every entry. With a page size, uses Simple Paged Results
    /// (RFC 2696) until the server says there is no more. Any result other than success
    /// (a size or time limit included) throws: a partial list is never returned.
    func search(base: String, scope: Scope, filter: String, attributes: [String], pageSize: Int?) throws -> [DirectoryEntry] {
        let ld = try live()
        var entries: [DirectoryEntry] = []
        var cookie: UnsafeMutablePointer<berval>?
        defer { if let cookie { ber_bvfree(cookie) } }
        repeat {
            var pageControl: UnsafeMutablePointer<LDAPControl>?
            if let pageSize {
                let rc = ldap_create_page_control(ld, ber_int_t(pageSize), cookie, 0, &pageControl)
                guard rc == LDAP_SUCCESS else { throw DirectoryError.search(server: server.url, base: base, why: "paging control: " + message(rc)) }
            }
            defer { if let pageControl { ldap_control_free(pageControl) } }
            if let old = cookie { ber_bvfree(old); cookie = nil }

            var result: OpaquePointer?
            defer { if let result { ldap_msgfree(result) } }
            var controls: [UnsafeMutablePointer<LDAPControl>?] = [pageControl, nil]
            let rc = withAttributeList(attributes) { attributeList in
                controls.withUnsafeMutableBufferPointer { controlList in
                    var timeout = timeval(tv_sec: server.operationTimeoutSeconds, tv_usec: 0)
                    return ldap_search_ext_s(ld, base, scope == .base ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE, filter,
                                             attributeList, 0, pageSize == nil ? nil : controlList.baseAddress, nil,
                                             &timeout, 0, &result)
                }
            }
            try check(rc, base: base)
            entries += try readEntries(ld, result)
            guard pageSize != nil, let result else { break }

            var code: Int32 = 0
            var returned: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
            let parsed = ldap_parse_result(ld, result, &code, nil, nil, nil, &returned, 0)
            defer { if let returned { ldap_controls_free(returned) } }
            guard parsed == LDAP_SUCCESS else { throw DirectoryError.search(server: server.url, base: base, why: message(parsed)) }
            try check(code, base: base)
            guard let response = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nil) else { break }
            var estimate: ber_int_t = 0
            var next = berval()
            guard ldap_parse_pageresponse_control(ld, response, &estimate, &next) == LDAP_SUCCESS else {
                throw DirectoryError.search(server: server.url, base: base, why: "malformed paged-results response")
            }
            if next.bv_len > 0 { cookie = ber_bvdup(&next) }
            if next.bv_val != nil { ber_memfree(next.bv_val) }
        } while cookie != nil
        return entries
    }

    private func check(_ rc: Int32, base: String) throws {
        switch rc {
        case LDAP_SUCCESS:
            return
        case LDAP_SIZELIMIT_EXCEEDED, LDAP_ADMINLIMIT_EXCEEDED, LDAP_TIMELIMIT_EXCEEDED:
            throw DirectoryError.limit(server: server.url, base: base, why: message(rc))
        case LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_TIMEOUT:
            throw DirectoryError.connect(server: server.url, why: message(rc))
        default:
            throw DirectoryError.search(server: server.url, base: base, why: message(rc))
        }
    }

    /// Reads every entry of a result. Attributes returned in ranges (AD's `member;range=0-1499`)
    /// are completed with further reads, so a large group comes back whole.
    private func readEntries(_ ld: OpaquePointer, _ result: OpaquePointer?) throws -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        var current = ldap_first_entry(ld, result)
        while let entry = current {
            var dn = ""
            if let raw = ldap_get_dn(ld, entry) {
                dn = String(cString: raw)
                ldap_memfree(raw)
            }
            var values: [String: [[UInt8]]] = [:]
            var ranged: [(name: String, end: String)] = []
            var ber: OpaquePointer?
            var attribute = ldap_first_attribute(ld, entry, &ber)
            while let name = attribute {
                let full = String(cString: name).lowercased()
                var collected: [[UInt8]] = []
                if let list = ldap_get_values_len(ld, entry, name) {
                    var index = 0
                    while let value = list[index] {
                        let length = Int(value.pointee.bv_len)
                        collected.append(length == 0 ? [] : Array(UnsafeRawBufferPointer(start: value.pointee.bv_val, count: length)))
                        index += 1
                    }
                    ldap_value_free_len(list)
                }
                ldap_memfree(name)
                if let range = AttributeRange(full) {
                    values[range.attribute, default: []] += collected
                    if range.end != "*" { ranged.append((range.attribute, range.end)) }
                } else {
                    values[full, default: []] += collected
                }
                attribute = ldap_next_attribute(ld, entry, ber)
            }
            if let ber { ber_free(ber, 0) }
            for (name, end) in ranged {
                values[name, default: []] += try remainingRange(dn: dn, attribute: name, after: end)
            }
            entries.append(DirectoryEntry(dn: dn, attributes: values))
            current = ldap_next_entry(ld, entry)
        }
        return entries
    }

    /// Range retrieval (as AD does for attributes with more than 1500 values): ask for
    /// `name;range=N-*` until the server answers with a range ending in `*`.
    private func remainingRange(dn: String, attribute: String, after end: String) throws -> [[UInt8]] {
        var collected: [[UInt8]] = []
        var last = end
        for _ in 0..<10_000 {
            guard let previous = Int(last) else { break }
            let request = "\(attribute);range=\(previous + 1)-*"
            let ld = try live()
            var result: OpaquePointer?
            defer { if let result { ldap_msgfree(result) } }
            let rc = withAttributeList([request]) { list -> Int32 in
                var timeout = timeval(tv_sec: server.operationTimeoutSeconds, tv_usec: 0)
                return ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", list, 0, nil, nil, &timeout, 0, &result)
            }
            try check(rc, base: dn)
            guard let entry = ldap_first_entry(ld, result) else { break }
            var ber: OpaquePointer?
            var attribute = ldap_first_attribute(ld, entry, &ber)
            var nextEnd: String?
            while let name = attribute {
                let full = String(cString: name).lowercased()
                if let range = AttributeRange(full), let list = ldap_get_values_len(ld, entry, name) {
                    var index = 0
                    while let value = list[index] {
                        collected.append(Array(UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))))
                        index += 1
                    }
                    ldap_value_free_len(list)
                    nextEnd = range.end
                }
                ldap_memfree(name)
                attribute = ldap_next_attribute(ld, entry, ber)
            }
            if let ber { ber_free(ber, 0) }
            guard let nextEnd, nextEnd != "*" else { break }
            last = nextEnd
        }
        return collected
    }
}

/// `name;range=low-high` as an attribute description.
struct AttributeRange {
    var attribute: String
    var end: String

    init?(_ description: String) {
        guard let marker = description.range(of: ";range=") else { return nil }
        attribute = String(description[..<marker.lowerBound])
        let bounds = description[marker.upperBound...].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2 else { return nil }
        end = String(bounds[1])
    }
}

/// A NULL-terminated `char **` of attribute names, freed after use.
private func withAttributeList<T>(_ names: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> T) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = names.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
