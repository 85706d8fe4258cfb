import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Site
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

        --as-of DAY judges an earlier day as it stood then: only assessments and exception \
        decisions recorded on or before that day count, and they are judged at its end. The \
        report still says when it was really made (generatedAt) beside the day judged (asOf). A \
        backdated run is not recorded unless --record is given, and is never the run that later \
        audits compare with. A day in the future is refused.

        --replay N asks what recorded run N would have said under the current policy ("what \
        would last month's audit say under the new threshold?"): run N's directory read and its \
        domains' checks, as the register kept them, are judged again at run N's moment with the \
        current policy and the assessments and decisions recorded by then. Nothing is asked of \
        the directory or the network. The domain checks keep the statuses run N found, so a \
        changed threshold of a domain check counts from the next audit. Every output says it is \
        a replay and shows what changed against run N. It is not recorded unless --record is \
        given, and a recorded replay is never the run that later audits compare with.

        --redact is for papers that are published: in every output (the four files and what is \
        printed) the names and addresses of Members without one of the authority's own accounts \
        become initials and organisation ("Cllr D.B. (St Ives Town Council)", \
        "(withheld)@gmail.com"). The register keeps the run as it was.

        --notify mails the report to the recipients in site.yaml notify: (see the README, \
        Running it every month), after the run is recorded and the reports are written; \
        --print-mail prints that message instead of sending it.

        Exit codes, for cron: 0 every Member compliant or excepted; 1 anyone non-compliant, \
        assessment-due or unknown; 2 the audit could not run, or ran but could not be recorded \
        (the reports are then written with a banner saying so); 3 the run is recorded and the \
        reports are written, but the mail could not be sent (the server's reply is printed).

        Examples:
          mailaudit audit --config site.yaml --out reports/2026-11
          mailaudit audit --config site.yaml --format json > audit.json
          mailaudit audit --config site.yaml --as-of 2026-09-30 --out reports/as-of-september
          mailaudit audit --config site.yaml --replay 12 --out reports/run-12-under-the-new-policy
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .long, help: ArgumentHelp("The site configuration (see examples/site.yaml).", valueName: "path"))
    var config: String

    @Option(name: .long, help: ArgumentHelp("Write the report files into this folder (created if needed).", valueName: "dir"))
    var out: String?

    @Option(name: .long, help: "What to print: text (a summary) or json (the whole audit).")
    var format: Format = .text

    @Option(name: .long, help: ArgumentHelp("Judge as of the end of this earlier day (YYYY-MM-DD), with only the assessments and decisions recorded by then.", valueName: "date"))
    var asOf: String?

    @Flag(name: .long, help: "Replace the names and addresses of Members without the authority's own accounts by initials and organisation, in every output (for published papers).")
    var redact = false

    @Flag(name: .long, help: "Do not record this run in the register (a trial run).")
    var noRecord = false

    @Flag(name: .long, help: "Record a backdated (--as-of) run or a replay (--replay) too. It is kept in the history, never compared with.")
    var record = false

    @OptionGroup var mail: NotifyOptions

    @Option(name: .long, help: ArgumentHelp("Judge recorded run N's directory read and domain checks again under the current policy, without the network (not recorded unless --record).", valueName: "N"))
    var replay: Int64?

    func validate() throws {
        if noRecord && record { throw ValidationError("--record and --no-record cannot both be given") }
        if replay != nil && asOf != nil { throw ValidationError("--replay judges the run's own moment: --as-of cannot be given with it") }
        if mail.printMail && format == .json { throw ValidationError("--print-mail prints the message instead of the summary: it cannot be given with --format json") }
    }

    func run() async throws {
        let generatedAt = Date()
        let judged: Judged
        if let replay { judged = try replayed(replay, generatedAt: generatedAt) } else { judged = try await audited(generatedAt: generatedAt) }
        var result = judged.result
        let register = judged.register
        let mailer = judged.mailer
        // The run's number goes into every report, so the run is recorded first. A run that
        // cannot be recorded is not thrown away: its reports are written with a banner, exit 2.
        var recordingFailed = false
        if noRecord {
            result.notRecorded = "a trial run (--no-record)"
        } else if let replay, !record {
            result.notRecorded = "a replay of run #\(replay) (--replay without --record)"
        } else if result.backdated && !record {
            result.notRecorded = "a backdated run (--as-of without --record)"
        } else {
            do {
                let reports = out.map { "the reports in \($0) were not all written" } ?? "nothing more was lost"
                result.runId = try Interruption.shared.held({ try register.record(result, directory: judged.directory) }) { outcome in
                    switch outcome {
                    case .success(let id): return "mailaudit: interrupted: run #\(id) is recorded in the register; \(reports) (run the audit again for fresh ones)."
                    case .failure: return "mailaudit: interrupted: this run could not be recorded, and its reports were not written."
                    }
                }
            } catch let error as RegisterError {
                result.notRecorded = error.description
                recordingFailed = true
            }
        }
        // The trend is a convenience: a register that cannot give it leaves the point of this run.
        result.trend = (try? register.trend(endingWith: result)) ?? [TrendPoint(runId: result.runId, at: result.generatedAt, counts: result.summary)]
        if result.runId == nil {
            Interruption.shared.say("mailaudit: interrupted: this run is not recorded (\(result.notRecorded ?? "")) and its reports were not all written.")
        }
        // The register holds the run as it was; only what is written out is redacted.
        let shown = redact ? try Redaction.redact(result) : result
        if let out {
            try write(shown, to: out)
            Interruption.shared.say("mailaudit: interrupted after the reports were written to \(out); "
                                    + (result.runId.map { "run #\($0) is recorded." } ?? "the run is not recorded."))
        }
        switch format {
        case .json:
            try AuditJSON.write(shown) { FileHandle.standardOutput.write($0) }
            FileHandle.standardOutput.write(Data("\n".utf8))
        case .text where !mail.printMail:
            FileHandle.standardOutput.write(Data(AuditSummaryText.render(shown, reportFolder: out).utf8))
        case .text: break
        }
        // Mail goes last: the run is recorded and the reports are written whatever the mail does.
        let mailFailure = await mail.deliver(shown, reportFolder: out, with: mailer)
        if recordingFailed {
            throw CommandFailure("this run was not recorded: \(result.notRecorded ?? "")"
                                 + (out.map { "; the reports in \($0) say so" } ?? ""))
        }
        if let mailFailure {
            let kept = (result.runId.map { "run #\($0) is recorded" } ?? "the run is not recorded") + (out.map { " and the reports are in \($0)" } ?? "")
            let again = result.runId.map { "; send it again with: mailaudit report --run \($0) --out DIR --notify --config \(config)" } ?? ""
            let said = "mailaudit: the report could not be mailed: \(mailFailure). Nothing else is lost: \(kept)\(again)\n"
            FileHandle.standardError.write(Data(said.utf8))
            throw ExitCode(3)
        }
        if result.needsAction { throw ExitCode(1) }
    }

    /// What an audit judges: the result, the directory read behind it and the register it goes to.
    private struct Judged {
        var result: AuditResult
        var directory: DirectoryRead
        var register: AuditRegister
        var mailer: ReportMailer?
    }

    /// A live audit: the directory read now and every domain checked now.
    private func audited(generatedAt: Date) async throws -> Judged {
        let asOfInstant = try asOfDate(now: generatedAt) ?? generatedAt
        let site: SiteConfiguration
        let policy: MemberEmailPolicy
        do {
            site = try SiteConfiguration.load(config)
            policy = try MemberEmailPolicy.load(file: site.policyFile)
            try site.validate(against: policy)
        } catch let error as ConfigError {
            throw CommandFailure(error.description)
        }
        let mailer = try mail.mailer(site)
        Interruption.shared.install()
        Interruption.shared.say("mailaudit: interrupted before the checks were done: nothing was recorded and no report was written; the register is as it was.")
        for warning in site.directory.warnings { FileHandle.standardError.write(Data("mailaudit: warning: \(warning)\n".utf8)) }
        let register: AuditRegister
        let previous: PreviousRun?
        let exceptions: [ExceptionGrant]
        let assessments: [AssessmentRecord]
        let read: DirectoryRead
        do {
            register = try SiteSupport.openRegister(site)
            previous = try register.previousRun()
            exceptions = try register.exceptions()
            assessments = try register.assessments().map(\.record)
            read = try await DirectoryReader.read(site.directory)
        } catch let error as DirectoryError {
            throw CommandFailure(error.description)
        } catch let error as RegisterError {
            throw CommandFailure(error.description)
        }

        let kit = try SiteSupport.checkerKit(site, policy: policy)
        defer { kit.shutdown() }
        let runner = AuditRunner(policy: policy, mfaGroup: site.mfaGroup, checker: kit.checker, asOf: asOfInstant,
                                 generatedAt: generatedAt, concurrency: site.checks.concurrency)
        var result = await runner.run(read, assessments: assessments, exceptions: exceptions, previous: previous, warnings: read.warnings,
                                      progress: kit.progressReporter())
        try kit.refuseIfLocalFailure()
        let statistics = await kit.resolver.statistics
        result.warnings += kit.runWarnings(deadline: site.checks.runDeadline, statistics: statistics)
        if statistics.httpRequests > 0 && statistics.answered == 0 {
            throw CommandFailure("the resolver answered no question: no domain could be checked, so no verdicts are given")
        }
        return Judged(result: result, directory: read, register: register, mailer: mailer)
    }

    /// A replay: run N's directory read and domain checks from the register, no network.
    private func replayed(_ runId: Int64, generatedAt: Date) throws -> Judged {
        let context = try SiteSupport.context(config)
        let mailer = try mail.mailer(context.site)
        do {
            let replay = try RunReplay.of(runId, in: context, generatedAt: generatedAt)
            Interruption.shared.install()
            return Judged(result: replay.result, directory: replay.directory, register: context.register, mailer: mailer)
        } catch let failure as SiteContext.Failure {
            throw CommandFailure(failure.description)
        } catch let error as RegisterError {
            throw CommandFailure(error.description)
        }
    }

    /// The end of the day given (today: now). A day after today is refused: nobody can judge it.
    private func asOfDate(now: Date) throws -> Date? {
        guard let asOf else { return nil }
        let start = try SiteSupport.day(asOf, option: "--as-of", at: 0)
        let today = try SiteSupport.day(String(ISO8601DateFormatter().string(from: now).prefix(10)), option: "--as-of", at: 0)
        if start > today { throw ValidationError("--as-of \(asOf) is in the future: an audit can only judge today or an earlier day") }
        return start == today ? nil : start.addingTimeInterval(86_399)
    }

    /// Writes the four report files; each is written whole or not at all.
    private func write(_ result: AuditResult, to folder: String) throws {
        do { try ReportFiles.write(result, to: folder) } catch let failure as ReportFiles.Failure { throw CommandFailure(failure.description) }
    }
}

/// `mailaudit report --run N`: a recorded run's four files again, from the result the register kept.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a recorded run's report files again, from the result the register kept.",
        discussion: """
        The register keeps each run's whole result (every Member's findings and every domain's \
        evidence), so a past run's index.html, audit.json, action-plan.csv and summary.md can be \
        written again as they were (the same bytes, for the same tool version). Runs recorded \
        before results were kept (registers older than this version) cannot be.

        Examples:
          mailaudit report --run 12 --out reports/run-12 --config site.yaml
          mailaudit report --run 12 --out reports/run-12-published --redact --config site.yaml
          mailaudit report --run 12 --out reports/run-12 --notify --config site.yaml   (mail it again)
        """)

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @Option(name: .long, help: ArgumentHelp("The run's number (see mailaudit history).", valueName: "N")) var run: Int64
    @Option(name: .long, help: ArgumentHelp("The folder to write the four files into (created if needed).", valueName: "dir")) var out: String
    @Flag(name: .long, help: "Replace the names and addresses of Members without the authority's own accounts, as audit --redact does.")
    var redact = false
    @OptionGroup var mail: NotifyOptions

    func run() async throws {
        let context = try SiteSupport.context(config)
        let mailer = try mail.mailer(context.site)
        var result = try context.register.requireStored(runId: run, unavailable: "its report cannot be written again").result
        result.trend = (try? context.register.trend(endingWith: result)) ?? []
        let shown = redact ? try Redaction.redact(result) : result
        do { try ReportFiles.write(shown, to: out) } catch let failure as ReportFiles.Failure { throw CommandFailure(failure.description) }
        if !mail.printMail {
            print("Run #\(run) of \(ISO8601DateFormatter().string(from: result.generatedAt)): \(ReportFiles.names.map { "\(out)/\($0)" }.joined(separator: ", "))")
        }
        if let failure = await mail.deliver(shown, reportFolder: out, with: mailer) {
            FileHandle.standardError.write(Data("mailaudit: the report could not be mailed: \(failure). The reports are in \(out).\n".utf8))
            throw ExitCode(3)
        }
    }
}

/// `mailaudit diff A B`: two recorded runs compared Member by Member.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two recorded runs Member by Member: verdicts that moved and the controls that changed.",
        discussion: """
        Any two runs, not only adjacent ones: newly non-compliant, resolved, now excepted, other \
        verdict changes, same verdict with controls changed, new and departed Members, each with the \
        controls whose status changed. Unchanged Members are left out unless --all.

        Examples:
          mailaudit diff 3 12 --config site.yaml
          mailaudit diff 3 12 --format html --config site.yaml > changes.html
          mailaudit diff 3 12 --format json --all --config site.yaml
        """)

    enum DiffFormat: String, ExpressibleByArgument, CaseIterable { case text, html, json }

    @Argument(help: ArgumentHelp("The earlier run's number.", valueName: "A")) var from: Int64
    @Argument(help: ArgumentHelp("The later run's number.", valueName: "B")) var to: Int64
    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @Option(name: .long, help: "text, html or json.") var format: DiffFormat = .text
    @Flag(name: .long, help: "Show unchanged Members too.") var all = false

    func run() async throws {
        let context = try SiteSupport.context(config)
        func load(_ id: Int64) throws -> AuditResult {
            try context.register.requireStored(runId: id, domains: false, unavailable: "it cannot be compared").result
        }
        let diff = RunDiff.between(try load(from), try load(to))
        switch format {
        case .text: FileHandle.standardOutput.write(Data(RunDiffReport.text(diff, all: all).utf8))
        case .html: FileHandle.standardOutput.write(Data(RunDiffReport.page(diff, all: all).utf8))
        case .json:
            var shown = diff
            shown.entries = diff.shown(all: all)
            FileHandle.standardOutput.write(try JSONOutput.encode(shown))
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List past audit runs from the register, with their counts.",
        discussion: """
        Newest first, by when each run happened: its number (for report --run, diff and \
        --replay), the real time, the day it judged ("the same day", a backdated day, or "replay \
        of #N" for a recorded replay), the counts per verdict and the policy's SHA-256.

        Example:
          mailaudit history --config site.yaml
        """)

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
            runs = try SiteSupport.openRegister(site).runs()
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
            // Newest first by when the run happened; "As of" is the day it judged.
            var lines = ["Run  Recorded at           As of                   Members  Compliant  Non-compliant  Assessment due  Exception  Unknown  Policy"]
            for run in runs {
                let counts = [Verdict.compliant, .nonCompliant, .assessmentDue, .exception, .unknown].map { run.summary[$0.rawValue] ?? 0 }
                let asOf = run.replayOf.map { "replay of #\($0)" }
                    ?? (run.backdated ? String(formatter.string(from: run.asOf).prefix(10)) + " (backdated)" : "the same day")
                let when = formatter.string(from: run.startedAt).padding(toLength: 21, withPad: " ", startingAt: 0)
                lines.append(String(format: "%-4lld ", run.id) + when + asOf.padding(toLength: 24, withPad: " ", startingAt: 0)
                             + String(format: "%7d  %9d  %13d  %14d  %9d  %7d  ", run.memberCount, counts[0], counts[1], counts[2],
                                      counts[3], counts[4]) + String(run.policyHash.prefix(12)))
            }
            if runs.isEmpty { lines.append("(no runs yet)") }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
