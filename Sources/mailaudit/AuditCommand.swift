import ArgumentParser
import ConfigFile
import Directory
import Foundation
import MailDomain
import Policy
import Register
import Report

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit every Member against the rule and write the assessment report.",
        discussion: """
        Reads the Members from the directory, checks each distinct mail domain once, applies the \
        policy (policies/cpca-member-email.yaml and its baseline) and gives every Member exactly one \
        verdict: compliant, non-compliant, assessment-due, exception or unknown. The run is stored \
        in the register, so the report says what changed since the last one.

        With --out DIR it writes DIR/index.html (for the Monitoring Officer), DIR/audit.json \
        (versioned schema, see the README), DIR/action-plan.csv and DIR/summary.md, and prints a \
        summary. With --format json it prints the JSON instead.

        Exit codes, for cron: 0 every Member compliant or excepted; 1 anyone non-compliant, \
        assessment-due or unknown; 2 the audit could not run.

        Examples:
          mailaudit audit --config site.yaml --out reports/2026-11
          mailaudit audit --config site.yaml --format json > audit.json
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("The site configuration (see examples/site.yaml).", valueName: "path"))
    var config: String

    @Option(name: .long, help: ArgumentHelp("Write the report files into this folder (created if needed).", valueName: "dir"))
    var out: String?

    @Option(name: .long, help: "What to print: text (a summary) or json (the whole audit).")
    var format: Format = .text

    @Option(name: .long, help: ArgumentHelp("Judge as of this day (YYYY-MM-DD) instead of now: for reproducing a past audit.", valueName: "date"))
    var asOf: String?

    @Flag(name: .long, help: "Do not record this run in the register (a trial run).")
    var noRecord = false

    func run() async throws {
        let now = try asOfDate() ?? Date()
        let site: SiteConfiguration
        let policy: MemberEmailPolicy
        do {
            site = try SiteConfiguration.load(config)
            policy = try MemberEmailPolicy.load(file: site.policyFile)
            try site.validate(against: policy)
        } catch let error as ConfigError {
            throw CommandFailure(error.description)
        }
        for warning in site.directory.warnings { FileHandle.standardError.write(Data("mailaudit: warning: \(warning)\n".utf8)) }
        let register: AuditRegister
        let previous: PreviousRun?
        let exceptions: [ExceptionGrant]
        let assessments: [String: AssessmentRecord]
        let read: DirectoryRead
        do {
            register = try AuditRegister(path: site.registerFile)
            previous = try register.lastRun()
            exceptions = try register.exceptions()
            assessments = try register.latestAssessments()
            read = try await DirectoryReader.read(site.directory)
        } catch let error as DirectoryError {
            throw CommandFailure(error.description)
        } catch let error as RegisterError {
            throw CommandFailure(error.description)
        }

        let kit = SiteSupport.checkerKit(site, policy: policy)
        defer { kit.shutdown() }
        let runner = AuditRunner(policy: policy, mfaGroup: site.mfaGroup, checker: kit.checker, now: now,
                                 concurrency: site.checks.concurrency)
        let result = await runner.run(read, assessments: assessments, exceptions: exceptions, previous: previous, warnings: read.warnings,
                                      progress: DomainCheckerKit.progressReporter(label: "Checked domains:"))
        let statistics = await kit.resolver.statistics
        if statistics.httpRequests > 0 && statistics.answered == 0 {
            throw CommandFailure("the resolver answered no question: no domain could be checked, so no verdicts are given")
        }
        if !noRecord {
            do { try register.record(result) } catch let error as RegisterError { throw CommandFailure(error.description) }
        }
        if let out { try write(result, to: out) }
        switch format {
        case .json:
            FileHandle.standardOutput.write(try JSONOutput.encode(result))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            FileHandle.standardOutput.write(Data(AuditSummaryText.render(result, reportFolder: out).utf8))
        }
        if result.needsAction { throw ExitCode(1) }
    }

    private func asOfDate() throws -> Date? {
        guard let asOf else { return nil }
        return try SiteSupport.day(asOf, option: "--as-of", at: 12 * 3600)   // midday
    }

    /// Writes the four report files; each is written whole or not at all.
    private func write(_ result: AuditResult, to folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let files: [(String, Data)] = [
                ("index.html", Data(HTMLReport.render(result).utf8)),
                ("audit.json", try JSONOutput.encode(result)),
                ("action-plan.csv", Data(CSVActionPlan.render(result).utf8)),
                ("summary.md", Data(MarkdownReport.render(result).utf8)),
            ]
            for (name, data) in files {
                try data.write(to: URL(fileURLWithPath: folder).appendingPathComponent(name), options: .atomic)
            }
        } catch {
            throw CommandFailure("cannot write the report into \(folder): \(error.localizedDescription)")
        }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List past audit runs from the register, with their counts.",
        discussion: "Example:\n  mailaudit history --config site.yaml")

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path"))
    var config: String

    @Option(name: .long, help: "Output format: text or json.")
    var format: AuditCommand.Format = .text

    func run() async throws {
        let runs: [AuditRegister.RunSummary]
        do {
            let site = try SiteConfiguration.load(config)
            guard FileManager.default.fileExists(atPath: site.registerFile) else {
                throw CommandFailure("no register yet at \(site.registerFile): run mailaudit audit first")
            }
            runs = try AuditRegister(path: site.registerFile).runs()
        } catch let error as ConfigError {
            throw CommandFailure(error.description)
        } catch let error as RegisterError {
            throw CommandFailure(error.description)
        }
        switch format {
        case .json:
            FileHandle.standardOutput.write(try JSONOutput.encode(runs))
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text:
            let formatter = ISO8601DateFormatter()
            var lines = ["Run  When                  Members  Compliant  Non-compliant  Assessment due  Exception  Unknown  Policy"]
            for run in runs {
                let counts = [Verdict.compliant, .nonCompliant, .assessmentDue, .exception, .unknown].map { run.summary[$0.rawValue] ?? 0 }
                lines.append(String(format: "%-4lld %-21@ %7d  %9d  %13d  %14d  %9d  %7d  %@", run.id,
                                    formatter.string(from: run.startedAt), run.memberCount, counts[0], counts[1], counts[2],
                                    counts[3], counts[4], String(run.policyHash.prefix(12))))
            }
            if runs.isEmpty { lines.append("(no runs yet)") }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
