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
                        bulkDomains: Int(environment["MAILAUDIT_TEST_BULK_DOMAINS"] ?? "") ?? 0)
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
