import Foundation
import Policy
import XCTest

/// Installed like a system tool: the systemd units verify, and the .deb built by
/// scripts/package-deb (scripts/test builds it first) installs, runs and is removed cleanly.
final class PackagingTests: XCTestCase {
    /// `systemd-analyze verify` on the units, naming the binary under test; any warning fails.
    func testTheSystemdUnitsVerify() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("systemd-analyze is missing (scripts/install-packages installs systemd)") }
            throw XCTSkip("systemd-analyze is not installed")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        var units: [String] = []
        for name in ["mailaudit-audit.service", "mailaudit-audit.timer"] {
            let text = try String(contentsOf: DemoSite.root.appendingPathComponent("packaging/systemd/\(name)"), encoding: .utf8)
            let copy = folder.appendingPathComponent(name)
            try text.replacingOccurrences(of: "/usr/bin/mailaudit", with: Fixtures.executable.path).write(to: copy, atomically: true, encoding: .utf8)
            units.append(copy.path)
        }
        let verify = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", "--man=no"] + units)
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertEqual(verify.stderr, "", "no warning either (an unknown key is only a warning)")
        let service = try String(contentsOfFile: units[0], encoding: .utf8)
        for line in ["User=mailaudit", "ProtectSystem=strict", "PrivateTmp=yes", "SuccessExitStatus=1", "LoadCredential=smtp-password:/etc/mailaudit/smtp-password"] {
            XCTAssertTrue(service.contains("\n\(line)\n"), line)
        }
        XCTAssertFalse(service.contains("--password"), "no secret on the command line")
        // The cron example: one job line, minute hour day month weekday user command.
        let cron = try String(contentsOf: DemoSite.root.appendingPathComponent("packaging/cron/mailaudit"), encoding: .utf8)
        let jobs = cron.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.range(of: "^[A-Z_]+=", options: .regularExpression) == nil }
        XCTAssertEqual(jobs.count, 1, "\(jobs)")
        XCTAssertEqual(jobs.first?.split(separator: " ").prefix(6).joined(separator: " "), "0 6 1 * * mailaudit")
    }

    func testTheDebianPackageInstallsRunsAndIsRemoved() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let deb = environment["MAILAUDIT_TEST_DEB"] else {
            if environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil && environment["MAILAUDIT_SANITIZE"] == nil {
                XCTFail("MAILAUDIT_TEST_DEB is not set: run ./scripts/test (it builds the package)")
            }
            throw XCTSkip("no package built (scripts/package-deb; scripts/test sets MAILAUDIT_TEST_DEB)")
        }
        guard getuid() == 0 else { throw XCTSkip("installing a package needs root") }
        let dpkgDeb = URL(fileURLWithPath: "/usr/bin/dpkg-deb"), dpkg = URL(fileURLWithPath: "/usr/bin/dpkg")
        let contents = try CommandRun.run(dpkgDeb, ["-c", deb])
        XCTAssertEqual(contents.status, 0, contents.stderr)
        for path in ["./usr/bin/mailaudit", "./usr/share/man/man1/mailaudit.1.gz", "./usr/share/man/man1/mailaudit.audit.1.gz",
                     "./usr/share/bash-completion/completions/mailaudit", "./usr/share/zsh/site-functions/_mailaudit",
                     "./usr/share/fish/vendor_completions.d/mailaudit.fish", "./lib/systemd/system/mailaudit-audit.service",
                     "./lib/systemd/system/mailaudit-audit.timer", "./etc/mailaudit/site.yaml",
                     "./usr/share/mailaudit/policies/cpca-member-email.yaml", "./usr/share/doc/mailaudit/examples/cron.d-mailaudit"] {
            XCTAssertTrue(contents.stdoutText.contains(" \(path)\n"), "\(path) is not in the package")
        }
        let depends = try CommandRun.run(dpkgDeb, ["-f", deb, "Depends"]).stdoutText
        for package in ["libcurl4", "libldap", "libpsl5", "libidn2-0", "libssl3", "zlib1g"] {
            XCTAssertTrue(depends.contains(package), "Depends: \(depends)")
        }
        XCTAssertFalse(depends.contains("swift"), "the Swift runtime is linked in")

        let install = try CommandRun.run(dpkg, ["-i", deb])
        addTeardownBlock { _ = try? CommandRun.run(dpkg, ["--purge", "mailaudit"]) }
        XCTAssertEqual(install.status, 0, install.stdoutText + install.stderr)
        let version = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/mailaudit"), ["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertEqual(version.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), ToolVersion.current)
        // Runs without the build machine's Swift runtime on its library path.
        let help = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["-i", "/usr/bin/mailaudit", "audit", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdoutText.contains("--replay") && help.stdoutText.contains("--notify"))
        let manual = try CommandRun.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "zcat /usr/share/man/man1/mailaudit.audit.1.gz"])
        XCTAssertTrue(manual.stdoutText.contains(".Dt MAILAUDIT.AUDIT 1") && manual.stdoutText.contains("replay"), "an mdoc page for the audit command")
        let user = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/getent"), ["passwd", "mailaudit"])
        XCTAssertEqual(user.status, 0, "the system user is made")
        let state = try FileManager.default.attributesOfItem(atPath: "/var/lib/mailaudit")
        XCTAssertEqual(state[.ownerAccountName] as? String, "mailaudit", "the register's folder belongs to the user")
        let verify = try CommandRun.run(URL(fileURLWithPath: "/usr/bin/systemd-analyze"), ["verify", "--man=no", "/lib/systemd/system/mailaudit-audit.service",
                                                                                            "/lib/systemd/system/mailaudit-audit.timer"])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertEqual(verify.stderr, "")

        let remove = try CommandRun.run(dpkg, ["--purge", "mailaudit"])
        XCTAssertEqual(remove.status, 0, remove.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/usr/bin/mailaudit"))
    }
}
