import ArgumentParser
import ConfigFile
import Directory
import Foundation
import MailDomain
import Policy
import Register
import Report

/// The Member, their domain's fresh check, and what the evidence already answers.
struct AssessmentContext {
    var site: SiteConfiguration
    var policy: MemberEmailPolicy
    var register: AuditRegister
    var member: Member
    var domain: String
    var report: DomainReport
    var evidenceAnswers: [AssessmentAnswer]

    static func prepare(config: String, member wanted: String) async throws -> AssessmentContext {
        let (site, policy, register) = try SiteSupport.open(config)
        let member = try SiteSupport.member(wanted, in: try await SiteSupport.readDirectory(site))
        switch policy.classifier.classify(member.effectiveAddress) {
        case .external: break
        case .organisation: throw CommandFailure("\(member.effectiveAddress ?? wanted) is a CPCA account: the 10-minute assessment is for council and business accounts")
        case .personal: throw CommandFailure("\(member.effectiveAddress ?? wanted) is personal webmail, which the rule does not accept whatever an assessment finds")
        case .noAddress: throw CommandFailure("\(member.displayName ?? wanted) has no email address on record: record the account they use first")
        }
        guard let raw = AccountClassifier.domain(of: member.effectiveAddress), let domain = try? DomainNames.asciiName(raw) else {
            throw CommandFailure("\(member.effectiveAddress ?? wanted): the domain is not a valid domain name")
        }
        let kit = SiteSupport.checkerKit(site, policy: policy)
        defer { kit.shutdown() }
        let report = await kit.checker.check(domain)
        return AssessmentContext(site: site, policy: policy, register: register, member: member, domain: domain, report: report,
                                 evidenceAnswers: Assessment.evidenceAnswers(policy.checklist, report: report))
    }

    var memberName: String { member.displayName ?? member.dn }

    var evidenceLines: [String] { report.checks.map { "\($0.id): \($0.status.rawValue) — \($0.summary)" } }

    /// Stores the finished assessment (removing its draft) and says what was recorded.
    func record(answers: [AssessmentAnswer], assessor: String, startedAt: Date) throws -> StoredAssessment {
        let (passed, failed) = Assessment.result(policy.checklist, answers: answers)
        let now = Date()
        let validUntil = Calendar(identifier: .gregorian).date(byAdding: .month, value: policy.assessmentValidMonths, to: now)!
        let assessment = StoredAssessment(id: 0, memberId: member.id, memberName: memberName, domain: domain, assessor: assessor,
                                          startedAt: startedAt, completedAt: now, passed: passed, failedItems: failed, answers: answers,
                                          evidence: evidenceLines, validUntil: validUntil)
        do { return try register.recordAssessment(assessment) } catch let error as RegisterError { throw CommandFailure(error.description) }
    }
}

struct AssessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Run the 10-minute assessment of a Member's council or business mail system.",
        discussion: """
        Checks the Member's mail domain afresh and answers what the evidence shows (mailbox, SPF/DKIM/DMARC, \
        MTA-STS/TLS-RPT); asks the assessor the rest (MFA, platform, devices, Cyber Essentials, \
        forwarding, leavers, data location, guest access): yes, no or n/a, with a note. Shows the time \
        taken. The result (pass, or fail with the failed items), assessor, answers, evidence and a \
        valid-until date are stored in the register; the audit uses the latest.

        Every answer is saved as it is given: after Ctrl-C (or 'q') the same command offers to resume \
        or discard the unfinished assessment. Nothing half-finished is ever taken as an assessment.

        Examples:
          mailaudit assess --config site.yaml --member sarah.mills@council.example --assessor "J Smith (ICT)"
          mailaudit assess --config site.yaml --member <id> --answers answers.yaml --assessor "J Smith (ICT)"

        answers.yaml maps question ids to yes, no or n/a, with an optional note:
          mfa: yes
          cyber-essentials: {answer: yes, note: "CE Plus 1234-5678, expires 2027-05-01"}
        """)

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @Option(name: .long, help: ArgumentHelp("The Member: directory id or email address.", valueName: "id-or-email")) var member: String
    @Option(name: .long, help: ArgumentHelp("Who assesses (default $MAILAUDIT_ASSESSOR).", valueName: "name")) var assessor: String?
    @Option(name: .long, help: ArgumentHelp("Answer from this YAML file instead of asking.", valueName: "path")) var answers: String?

    func run() async throws {
        guard let assessor = assessor ?? ProcessInfo.processInfo.setting("MAILAUDIT_ASSESSOR"), !assessor.isEmpty else {
            throw ValidationError("say who assesses: --assessor \"Name\" (or $MAILAUDIT_ASSESSOR)")
        }
        let context = try await AssessmentContext.prepare(config: config, member: member)
        if let answers {
            try runFromFile(answers, context: context, assessor: assessor)
        } else {
            guard isatty(STDIN_FILENO) == 1 else {
                throw CommandFailure("standard input is not a terminal: answer interactively in one, or give --answers FILE")
            }
            try InteractiveAssessment(context: context, assessor: assessor).run()
        }
    }

    private func runFromFile(_ file: String, context: AssessmentContext, assessor: String) throws {
        let started = Date()
        var given: [AssessmentAnswer] = []
        do {
            let root = try YAMLMapping.load(file: file)
            let checklist = context.policy.checklist
            try root.allowOnly(checklist.questions.map(\.id))
            for question in checklist.questions where root.has(question.id) {
                if context.evidenceAnswers.contains(where: { $0.question == question.id }) {
                    throw root.error(question.id, "the evidence answers this question; leave it out")
                }
                var text: String?
                var note: String?
                if let entry = try? root.mapping(question.id) {
                    try entry.allowOnly(["answer", "note"])
                    text = try entry.requiredString("answer")
                    note = try entry.string("note")
                } else {
                    text = try root.string(question.id)
                }
                guard let value = InteractiveAssessment.parse(text ?? "") else {
                    throw root.error(question.id, "answer yes, no or n/a")
                }
                if value == .notApplicable && !question.allowsNotApplicable {
                    throw root.error(question.id, "this question cannot be answered n/a")
                }
                given.append(AssessmentAnswer(question: question.id, value: value, source: .assessor, note: note))
            }
            let all = context.evidenceAnswers + given
            let missing = Assessment.remaining(checklist, answers: all)
            guard missing.isEmpty else {
                throw root.error(nil, "no answer for \(missing.map(\.id).joined(separator: ", "))")
            }
            let ordered = checklist.questions.compactMap { question in all.first { $0.question == question.id } }
            let stored = try context.record(answers: ordered, assessor: assessor, startedAt: started)
            FileHandle.standardOutput.write(Data(AssessmentText.outcome(stored).utf8))
        } catch let error as ConfigError {
            throw CommandFailure(error.description)
        }
    }
}

/// The assessment asked question by question in a terminal.
struct InteractiveAssessment {
    let context: AssessmentContext
    let assessor: String
    let sessionStart = Date()

    static func parse(_ text: String) -> AssessmentAnswer.Value? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "y", "yes": return .yes
        case "n", "no": return .no
        case "na", "n/a", "not applicable": return .notApplicable
        default: return nil
        }
    }

    private func say(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

    private func ask(_ prompt: String) -> String? {
        say(prompt)
        return readLine(strippingNewline: true)
    }

    private var clock: String {
        let seconds = Int(Date().timeIntervalSince(sessionStart))
        return String(format: "%02d:%02d", seconds / 60, seconds % 60)
    }

    func run() throws {
        let checklist = context.policy.checklist
        say(AssessmentText.header(context))
        var draft = AssessmentDraft(memberId: context.member.id, memberName: context.memberName, assessor: assessor,
                                    startedAt: sessionStart, answers: [])
        if let saved = try context.register.draft(memberId: context.member.id) {
            let started = ISO8601DateFormatter().string(from: saved.startedAt)
            let answered = saved.answers.count
            while true {
                guard let choice = ask("An unfinished assessment started \(started) by \(saved.assessor) has \(answered) answer\(answered == 1 ? "" : "s"). [r]esume or [d]iscard? ") else { return }
                if choice.lowercased().hasPrefix("r") { draft = saved; draft.answers = saved.answers.filter { $0.source == .assessor }; break }
                if choice.lowercased().hasPrefix("d") { try context.register.discardDraft(memberId: context.member.id); break }
            }
        }
        var answers = context.evidenceAnswers + draft.answers
        let remaining = Assessment.remaining(checklist, answers: answers)
        for (index, question) in remaining.enumerated() {
            say("\n[\(clock)] Question \(index + 1) of \(remaining.count) for you: \(question.question)\n")
            say("   Why: \(question.why)\n   Pass: \(question.pass)\n")
            if !question.evidence.isEmpty {
                for check in question.evidence.compactMap({ context.report.check($0) }) {
                    say("   Evidence: \(check.id) \(check.status.rawValue): \(TerminalText.sanitize(check.summary))\n")
                }
            }
            var value: AssessmentAnswer.Value?
            while value == nil {
                let options = question.allowsNotApplicable ? "(y)es, (n)o, n/a" : "(y)es, (n)o"
                guard let reply = ask("   Answer \(options), or (q)uit to finish later: ") else { return stopped() }
                if reply.lowercased() == "q" { return stopped() }
                value = Self.parse(reply)
                if value == .notApplicable && !question.allowsNotApplicable { value = nil }
                if value == nil { say("   Please answer \(options).\n") }
            }
            guard let note = ask("   Note (Enter for none): ") else { return stopped() }
            let answer = AssessmentAnswer(question: question.id, value: value!, source: .assessor,
                                          note: note.trimmingCharacters(in: .whitespaces).isEmpty ? nil : note)
            draft.answers.append(answer)
            answers.append(answer)
            try context.register.saveDraft(draft)   // one transaction an answer: Ctrl-C loses nothing given
        }
        let ordered = checklist.questions.compactMap { question in answers.first { $0.question == question.id } }
        let stored = try context.record(answers: ordered, assessor: assessor, startedAt: draft.startedAt)
        say("\n[\(clock)] " + AssessmentText.outcome(stored))
    }

    private func stopped() {
        say("\nStopped. The answers given so far are saved; run the same command to resume or discard them.\n")
    }
}

/// Text shown around an assessment.
enum AssessmentText {
    static func header(_ context: AssessmentContext) -> String {
        var lines = ["Ten-minute assessment: \(TerminalText.sanitize(context.memberName))"
                     + (context.member.organisation.map { " (\(TerminalText.sanitize($0)))" } ?? ""),
                     "Address: \(TerminalText.sanitize(context.member.effectiveAddress ?? "")); domain checked now: \(context.domain)", ""]
        for line in context.evidenceLines { lines.append("  " + TerminalText.sanitize(line)) }
        lines.append("")
        for answer in context.evidenceAnswers {
            lines.append("Answered from the evidence: \(answer.question) = \(answer.value.rawValue) (\(answer.note ?? ""))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func outcome(_ stored: StoredAssessment) -> String {
        let day = String(ISO8601DateFormatter().string(from: stored.validUntil).prefix(10))
        let took = Int(stored.completedAt.timeIntervalSince(stored.startedAt))
        let result = stored.passed ? "PASS" : "FAIL (failed: \(stored.failedItems.joined(separator: ", ")))"
        return "Recorded assessment #\(stored.id) of \(TerminalText.sanitize(stored.memberName)): \(result); valid until \(day). "
            + "Took \(took / 60) min \(took % 60) s.\n"
    }
}

struct ChecklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checklist",
        abstract: "Print the 10-minute assessment's checklist for a Member, pre-filled from a fresh domain check.",
        discussion: """
        For a call with the organisation's IT contact: the Member, the evidence the tool found, the \
        questions it answered, and the rest with boxes to tick. --format html is a printable page.

        Example:
          mailaudit checklist --config site.yaml --member <id> --format html > checklist.html
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, html }

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @Option(name: .long, help: ArgumentHelp("The Member: directory id or email address.", valueName: "id-or-email")) var member: String
    @Option(name: .long, help: "text or html (printable).") var format: Format = .text

    func run() async throws {
        let context = try await AssessmentContext.prepare(config: config, member: member)
        let sheet = ChecklistSheet(memberName: context.memberName, organisation: context.member.organisation,
                                   address: context.member.effectiveAddress ?? "", domain: context.domain,
                                   checklist: context.policy.checklist, evidence: context.report, answers: context.evidenceAnswers,
                                   preparedAt: Date())
        let output = format == .html ? ChecklistHTML.render(sheet) : ChecklistHTML.text(sheet)
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
