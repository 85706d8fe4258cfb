import Curl
import DoH
import Foundation
import MailDomain
import XCTest

/// The fixture servers started by scripts/fixtures/start (BIND answering DoH, nginx serving
/// MTA-STS policies and tenant discovery), as described by the variables it writes.
/// `./scripts/test` starts them; run alone, these tests are skipped unless
/// MAILAUDIT_REQUIRE_FIXTURES is set, in which case a missing fixture is a failure.
struct Fixtures {
    let resolverURL: String
    let caFile: String
    let otherCAFile: String
    let microsoftLogin: String
    let directory: String
    let bulkDomains: Int
    /// scripts/fixtures/faulty-doh: DoH in front of BIND, injecting the faults in `faultRules`.
    let faultyResolverURL: String
    let faultRules: String

    static func load(file: StaticString = #filePath, line: UInt = #line) throws -> Fixtures {
        let environment = ProcessInfo.processInfo.environment
        guard let resolver = environment["MAILAUDIT_TEST_RESOLVER"], let ca = environment["MAILAUDIT_TEST_CA"] else {
            if environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil {
                XCTFail("the fixture servers are not running: MAILAUDIT_TEST_RESOLVER is not set", file: file, line: line)
            }
            throw XCTSkip("fixture servers not running; ./scripts/test starts them")
        }
        return Fixtures(resolverURL: resolver, caFile: ca,
                        otherCAFile: environment["MAILAUDIT_TEST_OTHER_CA"] ?? "",
                        microsoftLogin: environment["MAILAUDIT_TEST_MICROSOFT_LOGIN"] ?? "",
                        directory: environment["MAILAUDIT_TEST_FIXTURE_DIR"] ?? "",
                        bulkDomains: Int(environment["MAILAUDIT_TEST_BULK_DOMAINS"] ?? "") ?? 0,
                        faultyResolverURL: environment["MAILAUDIT_TEST_FAULTY_RESOLVER"] ?? "",
                        faultRules: environment["MAILAUDIT_TEST_FAULT_RULES"] ?? "")
    }

    func resolverConfiguration(timeout: Duration = .seconds(2)) -> DoHConfiguration {
        var configuration = DoHConfiguration(url: resolverURL, caFile: caFile)
        configuration.timeout = timeout
        return configuration
    }

    func settings() -> DomainCheckSettings {
        var settings = DomainCheckSettings()
        settings.caFile = caFile
        settings.microsoftLoginBaseURL = microsoftLogin
        settings.httpsTimeout = .seconds(5)
        return settings
    }

    /// The built mailaudit executable, beside the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mailaudit")
    }
}

/// Runs a program (mailaudit, by default) and captures what it prints.
struct CommandRun {
    var status: Int32
    var stdout: Data
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    static func mailaudit(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandRun {
        try run(Fixtures.executable, arguments, environment: environment)
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a large output cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandRun(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A site of the demo authority (examples/members.ldif, the demo policy) in a folder of its
/// own, checked through the fixture servers, with a register of its own.
struct DemoSite {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var folder: URL
    var site: URL
    var environment: [String: String] = ["MAILAUDIT_ASSESSOR": "J Smith (ICT)"]

    var register: URL { folder.appendingPathComponent("register.sqlite") }

    /// `registerSettings` replaces the `register:` line, e.g. "{file: register.sqlite, busyTimeout: 2}".
    static func make(_ test: XCTestCase, name: String, registerSettings: String = "register.sqlite") throws -> DemoSite {
        let fixtures = try Fixtures.load()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("site.yaml")
        try """
        directory: {ldif: \(root.appendingPathComponent("examples/members.ldif").path)}
        policy: \(root.appendingPathComponent("examples/demo-policy.yaml").path)
        register: \(registerSettings)
        accounts: {mfaGroup: "CN=MFA Enforced,OU=Groups,DC=cpca,DC=test"}
        checks: {resolver: \(fixtures.resolverURL), caFile: \(fixtures.caFile), microsoftLoginURL: \(fixtures.microsoftLogin), dnsTimeout: 1}
        """.write(to: site, atomically: true, encoding: .utf8)
        return DemoSite(folder: folder, site: site)
    }

    /// Runs mailaudit with `--config` this site's file after the subcommand words.
    func run(_ words: [String], _ options: [String] = []) throws -> CommandRun {
        try CommandRun.mailaudit(words + ["--config", site.path] + options, environment: environment)
    }

    /// The audit as JSON, and each Member by name.
    func audit(_ options: [String] = []) throws -> (run: CommandRun, json: [String: Any], members: [String: [String: Any]]) {
        let run = try run(["audit"], ["--format", "json"] + options)
        let json = (try? JSONSerialization.jsonObject(with: run.stdout) as? [String: Any]) ?? [:]
        let members = (json["members"] as? [[String: Any]]) ?? []
        return (run, json, Dictionary(uniqueKeysWithValues: members.map { ($0["name"] as! String, $0) }))
    }

    static func day(_ daysFromNow: Int) -> String {
        String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(Double(daysFromNow) * 86_400)).prefix(10))
    }

    /// An answers file for `assess --answers`: every assessor question yes, with a current
    /// Cyber Essentials certificate, changed by `overrides` ("" leaves a question out).
    func answers(_ overrides: [String: String] = [:]) throws -> URL {
        var values = ["mfa": "yes", "platform": "yes", "devices": "yes",
                      "cyber-essentials": "{answer: yes, certificate: \"IASME-CE-1234\", expires: \(Self.day(200)), questionSet: Danzell, note: \"CE Plus\"}",
                      "auto-forwarding": "yes", "leavers": "yes", "data-location": "yes", "guest-access": "yes"]
        for (key, value) in overrides { values[key] = value }
        let file = folder.appendingPathComponent("answers-\(UUID().uuidString).yaml")
        try values.filter { !$0.value.isEmpty }.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "\n")
            .write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}
