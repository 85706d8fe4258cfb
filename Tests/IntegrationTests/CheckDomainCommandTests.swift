import Foundation
import MailDomain
import Report
import XCTest

/// The `check-domain` command as a user runs it: arguments, exit codes and the JSON contract.
final class CheckDomainCommandTests: XCTestCase {
    private func arguments(_ fixtures: Fixtures) -> [String] {
        ["--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile, "--microsoft-login-url", fixtures.microsoftLogin]
    }

    func testJSONOutputFollowsTheDocumentedSchema() throws {
        let fixtures = try Fixtures.load()
        let domains = ["good.test", "bücher.test", "slow.test", "hostile.test"]
        let run = try CommandRun.mailaudit(["check-domain", "--format", "json", "--dns-timeout", "1"] + arguments(fixtures) + domains)
        XCTAssertEqual(run.status, 0, run.stderr)
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]])
        XCTAssertEqual(array.map { $0["domain"] as? String }, domains, "one object per argument, in order")
        let statuses: Set<String> = ["pass", "fail", "warn", "not-present", "error", "not-applicable"]
        let rfc3339 = ISO8601DateFormatter()
        for object in array {
            XCTAssertNotNil(rfc3339.date(from: try XCTUnwrap(object["checkedAt"] as? String)))
            let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
            XCTAssertEqual(checks.compactMap { $0["id"] as? String }, ["mx", "spf", "dmarc", "mta-sts", "tls-rpt", "dkim", "provider"])
            for check in checks {
                let id = try XCTUnwrap(check["id"] as? String)
                XCTAssertTrue(statuses.contains(try XCTUnwrap(check["status"] as? String)))
                XCTAssertNotNil(check["summary"] as? String)
                XCTAssertNotNil(check["evidence"] as? [Any])
                let details = try XCTUnwrap(check["details"] as? [String: Any], id)
                var required: [String] = []
                switch id {
                case "spf": required = ["record", "valid", "errors", "lookups", "voidLookups"]
                case "dmarc": required = ["record", "valid", "errors", "p", "sp", "pct", "rua", "source"]
                case "mta-sts": required = ["record", "valid", "errors", "mode", "maxAge", "mxCovered"]
                case "tls-rpt": required = ["record", "valid", "errors"]
                default: break
                }
                // On an invalid domain name, the details are empty; otherwise every key is present (null allowed).
                if (object["domain"] as? String) != "not a domain" {
                    for key in required { XCTAssertTrue(details.keys.contains(key), "\(id).details.\(key)") }
                }
            }
        }
    }

    /// The array is written domain by domain as each is done (in input order), and is the same
    /// bytes the encoder writes for the whole array; the text form likewise, block by block.
    func testStreamedOutputIsTheWholeArraysBytesInOrder() throws {
        let fixtures = try Fixtures.load()
        let domains = ["good.test", "slow.test", "m365.test", "hostile.test", "nomx.test"] + (0..<min(fixtures.bulkDomains, 12)).map { String(format: "bulk%03d.test", $0) }
        let run = try CommandRun.mailaudit(["check-domain", "--format", "json", "--dns-timeout", "1", "--concurrency", "4"] + arguments(fixtures) + domains)
        XCTAssertEqual(run.status, 0, run.stderr)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let reports = try decoder.decode([DomainReport].self, from: run.stdout)
        XCTAssertEqual(reports.map(\.domain), domains, "in input order, whatever order they finished in")
        XCTAssertEqual(String(decoding: try JSONOutput.encode(reports), as: UTF8.self) + "\n", run.stdoutText)
        // The text form, block by block, over the domains whose results do not depend on timing.
        let steady = domains.filter { $0 != "slow.test" }
        let text = try CommandRun.mailaudit(["check-domain", "--color", "never", "--dns-timeout", "1"] + arguments(fixtures) + steady)
        XCTAssertEqual(text.stdoutText, DomainReportText(colour: false, verbose: false).render(reports.filter { $0.domain != "slow.test" }))
    }

    func testFileOfDomainsAndTextOutputIsEscaped() throws {
        let fixtures = try Fixtures.load()
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("domains-\(UUID().uuidString).txt")
        try "# demo list\ngood.test\n\nhostile.test   # hostile records\n".write(to: list, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: list) }
        let run = try CommandRun.mailaudit(["check-domain", "--verbose", "--file", list.path] + arguments(fixtures))
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = String(decoding: run.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("good.test") && text.contains("hostile.test"))
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x00 }, "no raw control characters from DNS")
        XCTAssertTrue(text.contains("\\x1b") || text.contains("\\027"), "the escape byte is shown escaped")
    }

    /// On a terminal, progress is shown at once, naming the resolver, before any answer.
    func testProgressIsShownAtOnceOnATerminal() throws {
        let fixtures = try Fixtures.load()
        let words = [Fixtures.executable.path, "check-domain", "good.test", "slow.test", "--dns-timeout", "1"] + arguments(fixtures)
        let command = words.map { "'\($0)'" }.joined(separator: " ") + " > /dev/null"
        // script(1) gives the command a terminal of its own and copies what it shows.
        let run = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let shown = run.stdoutText
        let first = try XCTUnwrap(shown.range(of: "Checking 2 domains via \(fixtures.resolverURL)…"), shown)
        let done = try XCTUnwrap(shown.range(of: "2 done"), shown)
        XCTAssertLessThan(first.lowerBound, done.lowerBound)
    }

    func testUsageErrorsExitTwo() throws {
        _ = try Fixtures.load()
        XCTAssertEqual(try CommandRun.mailaudit(["check-domain"]).status, 2, "no domains")
        XCTAssertEqual(try CommandRun.mailaudit(["check-domain", "--file", "/nonexistent/list"]).status, 2)
        XCTAssertEqual(try CommandRun.mailaudit(["check-domain", "--resolver", "ftp://x", "a.test"]).status, 2)
        XCTAssertEqual(try CommandRun.mailaudit(["check-domain", "--ca-file", "/nonexistent.pem", "a.test"]).status, 2)
        // Not a domain: a usage error with the subcommand's own usage, not seven error lines and exit 0.
        let notADomain = try CommandRun.mailaudit(["check-domain", "not a domain"])
        XCTAssertEqual(notADomain.status, 2)
        XCTAssertTrue(notADomain.stderr.contains("is not a domain name or an email address"), notADomain.stderr)
        XCTAssertTrue(notADomain.stderr.contains("Usage: mailaudit check-domain"), notADomain.stderr)
    }

    /// An address is checked by its domain; text output names statuses as the JSON does.
    func testAnAddressIsCheckedByItsDomain() throws {
        let fixtures = try Fixtures.load()
        let network = ["--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile, "--no-tenant-discovery"]
        let run = try CommandRun.mailaudit(["check-domain", "sarah.mills@good.test", "--format", "json"] + network)
        XCTAssertEqual(run.status, 0, run.stderr)
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]])
        XCTAssertEqual(reports.first?["asciiDomain"] as? String, "good.test")
        let text = try CommandRun.mailaudit(["check-domain", "good.test", "--color", "never"] + network)
        XCTAssertTrue(text.stdoutText.contains("NOT-PRESENT provider"), text.stdoutText)
    }

    func testResolverThatAnswersNothingExitsTwo() throws {
        _ = try Fixtures.load()
        let run = try CommandRun.mailaudit(["check-domain", "--resolver", "https://127.0.0.1:9/dns-query", "--dns-timeout", "1",
                                            "--no-tenant-discovery", "good.test"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("answered no question"), run.stderr)
    }
}

/// `mailaudit spf-check` through the real DoH fixture.
final class SPFCheckCommandTests: XCTestCase {
    func testResultsPathAndLookups() throws {
        let fixtures = try Fixtures.load()
        let network = ["--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile]
        let pass = try CommandRun.mailaudit(["spf-check", "--ip", "192.0.2.10", "--sender", "member@good.test", "--format", "json"] + network)
        XCTAssertEqual(pass.status, 0, pass.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: pass.stdout) as? [String: Any])
        XCTAssertEqual(json["result"] as? String, "pass")
        XCTAssertEqual(json["lookups"] as? Int, 2)
        XCTAssertEqual(json["path"] as? [String], ["good.test: mx", "good.test: include:_spf.provider.test", "_spf.provider.test: ip4:192.0.2.0/24"])
        XCTAssertTrue(json.keys.contains("explanation") && json.keys.contains("voidLookups"))
        let fail = try CommandRun.mailaudit(["spf-check", "--ip", "203.0.113.5", "--sender", "member@good.test", "--format", "json"] + network)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: fail.stdout) as? [String: Any])?["result"] as? String, "fail")
        let limit = try CommandRun.mailaudit(["spf-check", "--ip", "203.0.113.5", "--sender", "x@spflimit.test", "--format", "json"] + network)
        let limitJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: limit.stdout) as? [String: Any])
        // The tree needs 11 look-ups, but its third void look-up stops a receiver first.
        XCTAssertEqual(limitJSON["result"] as? String, "permerror")
        XCTAssertEqual(limitJSON["reason"] as? String, "more than 2 void look-ups (RFC 7208 4.6.4)")
        let loop = try CommandRun.mailaudit(["spf-check", "--ip", "203.0.113.5", "--sender", "x@spfloop.test"] + network)
        XCTAssertTrue(loop.stdoutText.contains("Why: loop: spfloop.test → loop.spfloop.test → spfloop.test"), loop.stdoutText)
        // An internationalised sender domain is asked in A-labels (RFC 8616); a broken one is a usage error.
        let idn = try CommandRun.mailaudit(["spf-check", "--ip", "192.0.2.10", "--sender", "member@bücher.test"] + network)
        XCTAssertTrue(idn.stdoutText.hasPrefix("SPF result: pass"), idn.stdoutText)
        XCTAssertTrue(idn.stdoutText.contains("xn--bcher-kva.test: include:_spf.provider.test"), idn.stdoutText)
        let broken = try CommandRun.mailaudit(["spf-check", "--ip", "192.0.2.10", "--sender", "x@a..ü"] + network)
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.contains("a..ü: not a valid domain name"), broken.stderr)
        let helo = try CommandRun.mailaudit(["spf-check", "--ip", "192.0.2.10", "--helo", "good.test"] + network)
        XCTAssertTrue(helo.stdoutText.hasPrefix("SPF result: pass"), helo.stdoutText)
        let down = try CommandRun.mailaudit(["spf-check", "--ip", "192.0.2.10", "--sender", "x@slow.test", "--dns-timeout", "1", "--format", "json"] + network)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: down.stdout) as? [String: Any])?["result"] as? String, "temperror")
        XCTAssertEqual(down.status, 2, "a resolver that answered nothing is the tool failing, as for check-domain")
        XCTAssertTrue(down.stderr.contains("answered no question"), down.stderr)
    }

    /// The `spf` control of check-domain and spf-check are one engine: for an address the
    /// record does not list, both spend the same look-ups (up to the receivers' limit of 10).
    func testCheckDomainCountsWhatSPFCheckSpends() throws {
        let fixtures = try Fixtures.load()
        let network = ["--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile]
        for domain in ["good.test", "voidspf.test", "ptrspf.test", "m365.test", "spflimit.test", "v4only.test", "includeall.test"] {
            let check = try CommandRun.mailaudit(["check-domain", domain, "--format", "json", "--microsoft-login-url", fixtures.microsoftLogin] + network)
            let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: check.stdout) as? [[String: Any]], check.stderr)
            let checks = try XCTUnwrap(reports.first?["checks"] as? [[String: Any]])
            let control = try XCTUnwrap(checks.first { $0["id"] as? String == "spf" }?["details"] as? [String: Any])
            let spf = try CommandRun.mailaudit(["spf-check", "--ip", "240.0.0.1", "--sender", "postmaster@\(domain)", "--format", "json"] + network)
            let evaluation = try XCTUnwrap(try JSONSerialization.jsonObject(with: spf.stdout) as? [String: Any])
            let ipv4 = try XCTUnwrap((control["unlistedSender"] as? [String: Any])?["ipv4"] as? [String: Any])
            let counted = try XCTUnwrap(ipv4["lookups"] as? Int), void = try XCTUnwrap(ipv4["voidLookups"] as? Int)
            if counted <= 10, void <= 2 {
                XCTAssertEqual(evaluation["lookups"] as? Int, counted, domain)
                XCTAssertEqual(evaluation["voidLookups"] as? Int, void, domain)
                XCTAssertEqual(evaluation["result"] as? String, ipv4["result"] as? String, domain)
            } else {
                XCTAssertEqual(evaluation["result"] as? String, "permerror", "\(domain): over a limit for a receiver")
            }
        }
    }
}
