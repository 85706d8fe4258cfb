import Curl
import DoH
import Foundation
import MailDomain
import XCTest

/// The smtp-starttls check against a real Postfix (scripts/fixtures/start-postfix): STARTTLS with
/// a test-CA certificate, no STARTTLS, a certificate from another CA, and a closed port 25.
final class SMTPStartTLSTests: XCTestCase {
    private var client: CurlClient!
    private var checker: DomainChecker!

    override func setUpWithError() throws {
        let fixtures = try Fixtures.load()
        client = CurlClient()
        var settings = fixtures.settings()
        settings.smtpProbe = true
        settings.smtpTimeout = .seconds(5)
        checker = DomainChecker(resolver: DoHResolver(configuration: fixtures.resolverConfiguration(), client: client),
                                client: client, settings: settings)
    }

    override func tearDown() { client?.shutdown() }

    private func starttls(_ domain: String) async throws -> CheckResult {
        let report = await checker.check(domain)
        XCTAssertEqual(report.checks.map(\.id), DomainChecker.checkIDs + ["smtp-starttls"], "the optional check comes last")
        return try XCTUnwrap(report.check("smtp-starttls"))
    }

    private func hostResults(_ check: CheckResult) -> [String] {
        (check.details["hosts"]?.arrayValue ?? []).compactMap { $0["result"]?.stringValue }
    }

    func testSTARTTLSWithATrustedCertificatePasses() async throws {
        let check = try await starttls("smtptls.test")
        XCTAssertEqual(check.status, .pass, check.summary)
        XCTAssertEqual(hostResults(check), ["secured"])
        let host = try XCTUnwrap(check.details["hosts"]?.arrayValue?.first)
        XCTAssertEqual(host["certificate"]?["issuer"]?.stringValue?.contains("mailaudit test-ca"), true)
        XCTAssertTrue(check.evidence.contains { $0.kind == .smtp && $0.query.hasPrefix("STARTTLS mx.smtptls.test:25") })
    }

    func testNoSTARTTLSFails() async throws {
        let check = try await starttls("smtpplain.test")
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(hostResults(check), ["no-starttls"])
        XCTAssertTrue(check.summary.contains("mx.smtpplain.test does not offer STARTTLS"), check.summary)
    }

    func testCertificateFromAnotherCAFails() async throws {
        let check = try await starttls("smtpuntrusted.test")
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(hostResults(check), ["certificate-rejected"])
    }

    /// One good host does not make up for another: every MX host is probed.
    func testEveryMXHostCounts() async throws {
        let check = try await starttls("smtpmixed.test")
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(hostResults(check), ["secured", "no-starttls"], "in preference order")
    }

    /// A closed or blocked port 25 says nothing about the domain: error, never pass or fail.
    func testUnreachableServerIsAnError() async throws {
        let check = try await starttls("smtpclosed.test")
        XCTAssertEqual(check.status, .error)
        XCTAssertEqual(hostResults(check), ["unreachable"])
        XCTAssertTrue(check.summary.contains("Port 25 may be blocked"), check.summary)
    }

    func testNullMXIsNotApplicable() async throws {
        let check = try await starttls("nullmx.test")
        XCTAssertEqual(check.status, .notApplicable)
    }

    func testTheProbeIsOffUnlessTurnedOn() async throws {
        let fixtures = try Fixtures.load()
        let plain = DomainChecker(resolver: DoHResolver(configuration: fixtures.resolverConfiguration(), client: client),
                                  client: client, settings: fixtures.settings())
        let report = await plain.check("smtptls.test")
        XCTAssertEqual(report.checks.map(\.id), DomainChecker.checkIDs)
    }

    func testCheckDomainCommandWithSMTP() throws {
        let fixtures = try Fixtures.load()
        let run = try CommandRun.mailaudit(["check-domain", "smtptls.test", "smtpplain.test", "--smtp", "--format", "json",
                                            "--no-tenant-discovery", "--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile])
        XCTAssertEqual(run.status, 0, run.stderr)
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]])
        let statuses = reports.map { report in
            ((report["checks"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == "smtp-starttls" }?["status"] as? String
        }
        XCTAssertEqual(statuses, ["pass", "fail"])
        let text = try CommandRun.mailaudit(["check-domain", "smtpplain.test", "--smtp", "--no-tenant-discovery",
                                             "--resolver", fixtures.resolverURL, "--ca-file", fixtures.caFile])
        let line = text.stdoutText.components(separatedBy: "\n").first { $0.contains("smtp-starttls Not every MX host protects mail in transit") }
        XCTAssertTrue(line?.trimmingCharacters(in: .whitespaces).hasPrefix("FAIL ") == true, text.stdoutText)
    }
}
