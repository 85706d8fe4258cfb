import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Site
import MailDomain
import Policy
import Register
import Report

/// What `assess` and `checklist` are about: an organisation, named through a Member or by its domains.
struct AssessedOrganisation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A Member of the organisation: directory id or email address.", valueName: "id-or-email"))
    var member: String?
    @Option(name: .long, help: ArgumentHelp("A mail domain the assessment covers (repeatable).", valueName: "domain"))
    var domain: [String] = []
    @Option(name: .long, help: ArgumentHelp("The organisation assessed (default: the Member's organisation in the directory).", valueName: "name"))
    var organisation: String?

    func validate() throws {
        if member == nil && domain.isEmpty { throw ValidationError("say what is assessed: --member <id or email>, or --domain <mail domain>") }
    }

    func prepare(config: String) async throws -> AssessmentContext {
        try await AssessmentContext.prepare(try SiteSupport.context(config), member: member, extraDomains: domain, organisation: organisation)
    }
}

struct AssessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Run the 10-minute assessment of a council's or business's mail system.",
        discussion: """
        The assessment is of the organisation's mail system, not of one Member: once it passes, \
        every Member whose address is on the domains it covers is current until its end. Name the \
        organisation through one of its Members (--member: their domain, their organisation), or by \
        its domains (--domain, repeatable; add more to a Member's, e.g. a council with two domains).

        Checks each domain afresh and answers what the evidence shows (mailbox, SPF/DKIM/DMARC, \
        MTA-STS/TLS-RPT); asks the assessor the rest (MFA, platform, devices, Cyber Essentials, \
        forwarding, leavers, data location, guest access): yes, no or n/a, with a note. A "yes" to \
        Cyber Essentials records the certificate number, expiry and question set; the assessment is \
        current until the earlier of assessment.validMonths (12) and the certificate's expiry. Since \
        Cyber Essentials v3.3 (Danzell, 27 April 2026), "no" to MFA on a cloud mail service also \
        fails the Cyber Essentials question. The result, the organisation, its IT contact, the \
        assessor, the answers and the evidence are stored in the register.

        If the checklist has questions about a Member's own account (about: member), they are asked \
        for each Member: --member on a domain already covered asks only those.

        Every answer is saved as it is given: after Ctrl-C (or 'q') the same command offers to resume \
        or discard the unfinished assessment. Nothing half-finished is ever taken as an assessment.

        Examples:
          mailaudit assess --config site.yaml --member sarah.mills@council.example --it-contact "R Patel (IT)" --assessor "J Smith (ICT)"
          mailaudit assess --config site.yaml --domain fenland.gov.uk --domain fenland.org.uk --organisation "Fenland DC" \\
              --it-contact "R Patel (IT)" --answers answers.yaml --assessor "J Smith (ICT)"

        answers.yaml maps question ids to yes, no or n/a, with an optional note:
          mfa: yes
          devices: {answer: yes, note: "Intune, BitLocker"}
          cyber-essentials: {answer: yes, certificate: "IASME-CE-012345", expires: 2027-05-01, questionSet: Danzell}
        """)

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @OptionGroup var assessed: AssessedOrganisation
    @Option(name: .long, help: ArgumentHelp("The organisation's IT contact at the assessment (asked for if not given).", valueName: "name"))
    var itContact: String?
    @Option(name: .long, help: ArgumentHelp("Who assesses (default $MAILAUDIT_ASSESSOR).", valueName: "name")) var assessor: String?
    @Option(name: .long, help: ArgumentHelp("Answer from this YAML file instead of asking.", valueName: "path")) var answers: String?

    func run() async throws {
        guard let assessor = assessor ?? ProcessInfo.processInfo.setting("MAILAUDIT_ASSESSOR"), !assessor.isEmpty else {
            throw ValidationError("say who assesses: --assessor \"Name\" (or $MAILAUDIT_ASSESSOR)")
        }
        let context = try await assessed.prepare(config: config)
        if let answers {
            guard let itContact = itContact?.trimmingCharacters(in: .whitespaces), !itContact.isEmpty else {
                throw ValidationError("say who the organisation's IT contact is: --it-contact \"Name\"")
            }
            try runFromFile(answers, context: context, assessor: assessor, itContact: itContact)
        } else {
            guard isatty(STDIN_FILENO) == 1 else {
                throw CommandFailure("standard input is not a terminal: answer interactively in one, or give --answers FILE")
            }
            try InteractiveAssessment(context: context, assessor: assessor, itContact: itContact).run()
        }
    }

    private func runFromFile(_ file: String, context: AssessmentContext, assessor: String, itContact: String) throws {
        let started = Date()
        var given: [AssessmentAnswer] = []
        var certificate: CyberEssentialsCertificate?
        let checklist = context.policy.checklist
        do {
            let root = try YAMLMapping.load(file: file)
            try root.allowOnly(context.questions.map(\.id))
            for question in context.questions where root.has(question.id) {
                if context.evidenceAnswers.contains(where: { $0.question == question.id }) {
                    throw root.error(question.id, "the evidence answers this question; leave it out")
                }
                let isCertificate = question.id == checklist.cyberEssentials?.question
                var text: String?
                var note: String?
                var entry: YAMLMapping?
                if let mapping = try? root.mapping(question.id) {
                    try mapping.allowOnly(isCertificate ? ["answer", "note", "certificate", "expires", "questionSet"] : ["answer", "note"])
                    text = try mapping.requiredString("answer")
                    note = try mapping.string("note")
                    entry = mapping
                } else {
                    text = try root.string(question.id)
                }
                guard let value = InteractiveAssessment.parse(text ?? "") else {
                    throw root.error(question.id, "answer yes, no or n/a")
                }
                if value == .notApplicable && !question.allowsNotApplicable {
                    throw root.error(question.id, "this question cannot be answered n/a")
                }
                if isCertificate && value == .yes {
                    guard let entry else {
                        throw root.error(question.id, "a yes records the certificate: {answer: yes, certificate: ..., expires: YYYY-MM-DD, questionSet: ...}")
                    }
                    certificate = try AssessmentContext.certificate(
                        number: try entry.string("certificate"), expires: try entry.string("expires"), questionSet: try entry.string("questionSet"),
                        checklist: checklist, fail: { key, message in entry.error(key.isEmpty ? nil : key, message) })
                }
                given.append(AssessmentAnswer(question: question.id, value: value, source: .assessor, note: note))
            }
            let all = context.evidenceAnswers + given
            let missing = context.questions.filter { question in !all.contains { $0.question == question.id } }
            guard missing.isEmpty else {
                throw root.error(nil, "no answer for \(missing.map(\.id).joined(separator: ", "))")
            }
            let ordered = context.questions.compactMap { question in all.first { $0.question == question.id } }
            let stored = try context.record(answers: ordered, assessor: assessor, itContact: itContact, startedAt: started,
                                            cyberEssentials: certificate)
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
    let itContact: String?
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
        var contact = itContact?.trimmingCharacters(in: .whitespaces) ?? ""
        while contact.isEmpty {
            guard let reply = ask("The organisation's IT contact at this assessment (name and role): ") else { return stopped() }
            contact = reply.trimmingCharacters(in: .whitespaces)
        }
        var draft = AssessmentDraft(memberId: context.draftKey, memberName: context.subjectName, assessor: assessor,
                                    startedAt: sessionStart, answers: [])
        if let saved = try context.register.draft(memberId: context.draftKey) {
            let started = ISO8601DateFormatter().string(from: saved.startedAt)
            let answered = saved.answers.count
            while true {
                guard let choice = ask("An unfinished assessment started \(started) by \(saved.assessor) has \(answered) answer\(answered == 1 ? "" : "s"). [r]esume or [d]iscard? ") else { return }
                if choice.lowercased().hasPrefix("r") { draft = saved; draft.answers = saved.answers.filter { $0.source == .assessor }; break }
                if choice.lowercased().hasPrefix("d") { try context.register.discardDraft(memberId: context.draftKey); break }
            }
        }
        var answers = context.evidenceAnswers + draft.answers
        Interruption.shared.install()
        func saved(_ count: Int) {
            Interruption.shared.say("Stopped. \(count == 0 ? "No answer was given yet" : "The \(count) answer\(count == 1 ? "" : "s") given so far \(count == 1 ? "is" : "are") saved in the register"); "
                                    + "nothing is recorded as an assessment. To resume (or discard) it, run the same command again:\n  \(Self.sameCommand)")
        }
        saved(draft.answers.count)
        let remaining = context.questions.filter { question in !answers.contains { $0.question == question.id } }
        for (index, question) in remaining.enumerated() {
            say("\n[\(clock)] Question \(index + 1) of \(remaining.count) for you: \(question.question)\n")
            say("   Why: \(question.why)\n   Pass: \(question.pass)\n")
            for report in context.reports {
                for check in question.evidence.compactMap({ report.check($0) }) {
                    let domain = context.reports.count > 1 ? "\(report.asciiDomain) " : ""
                    say("   Evidence: \(domain)\(check.id) \(check.status.rawValue): \(TerminalText.sanitize(check.summary))\n")
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
            if value == .yes && question.id == checklist.cyberEssentials?.question {
                guard let certificate = askCertificate(checklist) else { return stopped() }
                draft.cyberEssentials = certificate
            }
            guard let note = ask("   Note (Enter for none): ") else { return stopped() }
            let answer = AssessmentAnswer(question: question.id, value: value!, source: .assessor,
                                          note: note.trimmingCharacters(in: .whitespaces).isEmpty ? nil : note)
            draft.answers.append(answer)
            answers.append(answer)
            try context.register.saveDraft(draft)   // one transaction an answer: Ctrl-C loses nothing given
            saved(draft.answers.count)
        }
        let ordered = context.questions.compactMap { question in answers.first { $0.question == question.id } }
        let stored = try context.record(answers: ordered, assessor: assessor, itContact: contact, startedAt: draft.startedAt,
                                        cyberEssentials: draft.cyberEssentials)
        say("\n[\(clock)] " + AssessmentText.outcome(stored))
    }

    /// Asks for the certificate until it is complete and current; nil when input ends.
    private func askCertificate(_ checklist: Checklist) -> CyberEssentialsCertificate? {
        let sets = checklist.cyberEssentials?.questionSets ?? []
        while true {
            guard let number = ask("   Certificate number: "),
                  let expires = ask("   Certificate expires (YYYY-MM-DD): "),
                  let set = ask("   Question set assessed [\(sets.first ?? "")] (\(sets.joined(separator: ", "))): ") else { return nil }
            do {
                return try AssessmentContext.certificate(number: number, expires: expires, questionSet: set.isEmpty ? sets.first : set,
                                                         checklist: checklist, fail: { _, message in CommandFailure(message) })
            } catch {
                say("   \(error) — please give it again.\n")
            }
        }
    }

    private func stopped() {
        say("\nStopped. The answers given so far are saved; to resume or discard them, run the same command again:\n  \(Self.sameCommand)\n")
    }

    /// This command line, to give again (it holds no secret: those never come on the command line).
    static var sameCommand: String {
        let words = ["mailaudit"] + CommandLine.arguments.dropFirst()
        return TerminalText.sanitize(words.map { word in
            word.allSatisfy { $0.isLetter || $0.isNumber || "-_./@:=".contains($0) } ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " "))
    }
}

/// Text shown around an assessment.
enum AssessmentText {
    static func header(_ context: AssessmentContext) -> String {
        var lines = ["Ten-minute assessment of \(TerminalText.sanitize(context.organisation))'s mail system: \(context.domains.joined(separator: ", "))"]
        if let member = context.member {
            lines.append("Through: \(TerminalText.sanitize(member.displayName ?? member.dn)) <\(TerminalText.sanitize(member.effectiveAddress ?? ""))>")
        }
        if let covering = context.coveringAssessment {
            lines.append("Assessment #\(covering.id) of \(TerminalText.sanitize(covering.organisation)) covers this domain until "
                         + "\(String(ISO8601DateFormatter().string(from: covering.validUntil).prefix(10))): only the questions about this Member's own account are asked.")
        }
        lines.append("Domains checked now:")
        lines.append("")
        for line in context.evidenceLines { lines.append("  " + TerminalText.sanitize(line)) }
        lines.append("")
        for answer in context.evidenceAnswers {
            lines.append("Answered from the evidence: \(answer.question) = \(answer.value.rawValue) (\(TerminalText.sanitize(answer.note ?? "")))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func outcome(_ stored: StoredAssessment) -> String {
        let day = String(ISO8601DateFormatter().string(from: stored.validUntil).prefix(10))
        let took = Int(stored.completedAt.timeIntervalSince(stored.startedAt))
        let result = stored.passed ? "PASS" : "FAIL (failed: \(stored.failedItems.joined(separator: ", ")))"
        let covers = stored.scope == .organisation
            ? "of \(TerminalText.sanitize(stored.organisation)) (\(stored.domains.joined(separator: ", ")))"
            : "of \(TerminalText.sanitize(stored.memberName))'s own account, under assessment #\(stored.basedOn.map(String.init) ?? "?")"
        var text = "Recorded assessment #\(stored.id) \(covers): \(result); valid until \(day). Took \(took / 60) min \(took % 60) s.\n"
        for remark in stored.remarks { text += "  \(remark)\n" }
        if stored.passed && stored.scope == .organisation {
            text += "Every Member whose address is on \(stored.domains.joined(separator: ", ")) is covered until \(day).\n"
        }
        return text
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
    @OptionGroup var assessed: AssessedOrganisation
    @Option(name: .long, help: "text or html (printable).") var format: Format = .text

    func run() async throws {
        let context = try await assessed.prepare(config: config)
        let sheet = ChecklistSheet(memberName: context.subjectName, organisation: context.organisation,
                                   address: context.member?.effectiveAddress ?? "", domain: context.domains.joined(separator: ", "),
                                   checklist: context.policy.checklist, evidence: context.report, answers: context.evidenceAnswers,
                                   preparedAt: Date())
        let output = format == .html ? ChecklistHTML.render(sheet) : ChecklistHTML.text(sheet)
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
