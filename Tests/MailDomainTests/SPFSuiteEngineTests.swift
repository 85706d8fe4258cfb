import DoH
import Foundation
import XCTest
import Yams
@testable import MailDomain

/// A scenario's zone data as an in-memory resolver, following the suites' conventions: an SPF
/// entry is also served as TXT unless the name has its own TXT; "TIMEOUT" makes the name time out.
struct SuiteResolver: DNSResolving {
    var records: [String: [ResourceRecord]] = [:]
    var timeouts: Set<String> = []
    var existing: Set<String> = []

    init(zone: [String: Any]) {
        var spf: [String: [ResourceRecord]] = [:]
        var hasTXT: Set<String> = []
        for (rawName, value) in zone {
            let name = DNSName.normalize(rawName)
            existing.insert(name)
            for entry in (value as? [Any]) ?? [] {
                // "TIMEOUT" in the RFC suites; "TIMEOUT: true" and "SERVFAIL: true" in blitiri's, both DNS failures.
                let map = entry as? [String: Any]
                if (entry as? String) == "TIMEOUT" || map?["TIMEOUT"] != nil || map?["SERVFAIL"] != nil { timeouts.insert(name); continue }
                guard let map = entry as? [String: Any], let (type, data) = map.first else { continue }
                func strings(_ value: Any) -> [[UInt8]] {
                    if let text = value as? String { return [Array(text.utf8)] }
                    return ((value as? [Any]) ?? []).map { Array("\($0)".utf8) }
                }
                switch type {
                case "SPF": spf[name, default: []].append(ResourceRecord(name: name, type: .txt, ttl: 60, data: .txt(strings(data))))
                case "TXT":
                    hasTXT.insert(name)
                    if (data as? String) != "NONE" { records[name, default: []].append(ResourceRecord(name: name, type: .txt, ttl: 60, data: .txt(strings(data)))) }
                case "A":
                    for item in (data as? [Any]) ?? [data] {
                        if let bytes = IPAddressText.parseIPv4("\(item)") { records[name, default: []].append(ResourceRecord(name: name, type: .a, ttl: 60, data: .a(bytes))) }
                    }
                case "AAAA":
                    for item in (data as? [Any]) ?? [data] {
                        if let bytes = IPAddressText.parseIPv6("\(item)") { records[name, default: []].append(ResourceRecord(name: name, type: .aaaa, ttl: 60, data: .aaaa(bytes))) }
                    }
                case "MX":
                    if let pair = data as? [Any], pair.count == 2 {
                        records[name, default: []].append(ResourceRecord(name: name, type: .mx, ttl: 60,
                                                                         data: .mx(preference: UInt16("\(pair[0])") ?? 0, exchange: DNSName.normalize("\(pair[1])"))))
                    }
                case "PTR": records[name, default: []].append(ResourceRecord(name: name, type: .ptr, ttl: 60, data: .name(DNSName.normalize("\(data)"))))
                case "CNAME": records[name, default: []].append(ResourceRecord(name: name, type: .cname, ttl: 60, data: .name(DNSName.normalize("\(data)"))))
                default: break
                }
            }
        }
        for (name, list) in spf where !hasTXT.contains(name) && !timeouts.contains(name) { records[name, default: []] += list }
    }

    func lookup(_ rawName: String, _ type: RecordType) async -> DNSLookup {
        var name = DNSName.normalize(rawName)
        var chain: [String] = []
        for _ in 0..<10 {
            let here = records[name] ?? []
            // TIMEOUT: the name does not answer, except for the types the zone data lists for it.
            if timeouts.contains(name) && !here.contains(where: { $0.type == type }) {
                return DNSLookup(name: rawName, type: type, status: .error("TIMEOUT"))
            }
            let matching = here.filter { $0.type == type }
            if !matching.isEmpty { return DNSLookup(name: rawName, type: type, status: .found, records: matching, cnameChain: chain) }
            if type != .cname, let alias = here.first(where: { $0.type == .cname }), case let .name(target) = alias.data {
                chain.append(target); name = target; continue
            }
            return DNSLookup(name: rawName, type: type, status: existing.contains(name) || !here.isEmpty ? .noData : .nxDomain, cnameChain: chain)
        }
        return DNSLookup(name: rawName, type: type, status: .error("CNAME chain too long"))
    }
}

/// Every scenario of the SPF suites through the engine with an in-memory resolver: the engine's
/// logic tested fast and alone. Each test's expected result (or one of its alternatives) is
/// asserted; failures are listed with what the engine said.
final class SPFSuiteEngineTests: XCTestCase {
    private func run(_ file: String) async throws {
        var passed = 0, total = 0
        var failures: [String] = []
        // MAILAUDIT_SPF_SUITE_TEST=NAME runs that one test only: for looking into a single case.
        let only = ProcessInfo.processInfo.environment["MAILAUDIT_SPF_SUITE_TEST"]
        for document in try Yams.load_all(yaml: try Conformance.text("spf/\(file)")) {
            guard let scenario = document as? [String: Any], var tests = scenario["tests"] as? [String: Any] else { continue }
            if let only { tests = tests.filter { $0.key == only }; if tests.isEmpty { continue } }
            let resolver = SuiteResolver(zone: scenario["zonedata"] as? [String: Any] ?? [:])
            for (name, value) in tests.sorted(by: { $0.key < $1.key }) {
                guard let test = value as? [String: Any], let host = test["host"] as? String else { continue }
                total += 1
                let expected = (test["result"] as? [String]) ?? [(test["result"] as? String) ?? ""]
                guard let ip = IPAddressText.parseIPv4(host) ?? IPAddressText.parseIPv6(host) else { failures.append("\(name): bad host \(host)"); continue }
                let engine = SPFEngine(resolver: resolver)
                let outcome = await engine.checkHost(ip: ip, sender: (test["mailfrom"] as? String) ?? "", helo: (test["helo"] as? String) ?? "")
                var ok = expected.contains(outcome.result.rawValue)
                if ok, let explanation = test["explanation"] as? String, outcome.result == .fail, explanation != "DEFAULT" {
                    ok = outcome.explanation == explanation
                }
                if ok { passed += 1 } else {
                    failures.append("\(name): expected \(expected), got \(outcome.result.rawValue)\(outcome.explanation.map { " (\($0))" } ?? "")"
                                    + " via \(outcome.path.joined(separator: " > "))\(outcome.reason.map { "; \($0)" } ?? "")")
                }
            }
        }
        print("\(file): \(passed) of \(total) tests pass through the in-memory resolver")
        if !failures.isEmpty { print("not passed:\n" + failures.joined(separator: "\n")) }
        let unexplained = failures.filter { failure in !SPFSuiteDeliberate.differences.keys.contains { failure.hasPrefix($0 + ":") } }
        XCTAssert(unexplained.isEmpty, "\(file): tests not passed without a listed reason:\n" + unexplained.joined(separator: "\n"))
    }

    func testRFC7208Suite() async throws { try await run("rfc7208-tests.yml") }
    func testRFC4408Suite() async throws { try await run("rfc4408-tests.yml") }
    func testBlitiriSuite() async throws { try await run("blitirispf-tests.yml") }
}
