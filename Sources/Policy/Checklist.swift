import ConfigFile
import Foundation
import MailDomain

/// The 10-minute assessment's questions (`policies/checklists/ten-minute-assessment.yaml`).
public struct Checklist: Sendable {
    public struct Question: Sendable, Equatable {
        public var id: String
        public var question: String
        public var why: String
        public var pass: String
        /// Domain checks that answer the question when they all pass; empty: the assessor answers.
        public var evidence: [String]
        public var required: Bool
        public var allowsNotApplicable: Bool
        /// `organisation` (the mail system: one assessment covers every Member on its domains)
        /// or `member` (the Member's own account: asked for each Member).
        public var about: About
    }

    public enum About: String, Sendable { case organisation, member }

    /// How Cyber Essentials is asked about (`cyberEssentials:`).
    public struct CyberEssentials: Sendable, Equatable {
        /// The question whose "yes" records the certificate: number, expiry, question set.
        public var question: String
        /// The question on MFA: since Cyber Essentials v3.3 (Danzell, 27 April 2026) a cloud service
        /// with MFA available but not on for every user is an automatic fail.
        public var mfaQuestion: String?
        /// The question sets an assessor may name, newest first, e.g. "Danzell (v3.3)".
        public var questionSets: [String]
    }

    public var file: String
    public var name: String
    public var questions: [Question]
    public var cyberEssentials: CyberEssentials?

    public init(file: String, name: String, questions: [Question], cyberEssentials: CyberEssentials? = nil) {
        self.file = file; self.name = name; self.questions = questions; self.cyberEssentials = cyberEssentials
    }

    /// The questions asked for each Member rather than once for the organisation.
    public var memberQuestionIDs: [String] { questions.filter { $0.about == .member }.map(\.id) }

    public static func load(file: String) throws -> Checklist {
        try read(YAMLMapping.load(file: file))
    }

    /// The checklist from a parsed file.
    public static func read(_ root: YAMLMapping) throws -> Checklist {
        let file = root.file
        try root.allowOnly(["name", "questions", "cyberEssentials"])
        guard let items = try root.sequence("questions"), !items.isEmpty else {
            throw root.error("questions", "list the assessment's questions")
        }
        var questions: [Question] = []
        var ids: Set<String> = []
        for item in items {
            try item.allowOnly(["id", "question", "why", "pass", "evidence", "required", "notApplicable", "about"])
            let id = try item.requiredString("id")
            guard ids.insert(id).inserted else { throw item.error("id", "question \(id) appears twice") }
            let evidence = try item.strings("evidence") ?? []
            if let unknown = evidence.first(where: { !Controls.domain.contains($0) }) {
                throw item.error("evidence", "\"\(unknown)\" is not a domain check; known: \(Controls.domain.joined(separator: ", "))")
            }
            questions.append(Question(id: id, question: try item.requiredString("question"), why: try item.requiredString("why"),
                                      pass: try item.requiredString("pass"), evidence: evidence,
                                      required: try item.bool("required") ?? true, allowsNotApplicable: try item.bool("notApplicable") ?? true,
                                      about: try about(item)))
        }
        var cyberEssentials: CyberEssentials?
        if let ce = try root.mapping("cyberEssentials") {
            try ce.allowOnly(["question", "mfaQuestion", "questionSets"])
            let question = try ce.requiredString("question")
            guard ids.contains(question) else { throw ce.error("question", "no question has the id \(question)") }
            let mfa = try ce.string("mfaQuestion")
            if let mfa, !ids.contains(mfa) { throw ce.error("mfaQuestion", "no question has the id \(mfa)") }
            guard let sets = try ce.strings("questionSets"), !sets.isEmpty else {
                throw ce.error("questionSets", "list the Cyber Essentials question sets an assessor may name, newest first")
            }
            cyberEssentials = CyberEssentials(question: question, mfaQuestion: mfa, questionSets: sets)
        }
        return Checklist(file: file, name: try root.requiredString("name"), questions: questions, cyberEssentials: cyberEssentials)
    }

    private static func about(_ item: YAMLMapping) throws -> About {
        guard let text = try item.string("about") else { return .organisation }
        guard let about = About(rawValue: text) else { throw item.error("about", "must be organisation or member") }
        let evidence = try item.strings("evidence") ?? []
        if about == .member && !evidence.isEmpty {
            throw item.error("about", "a question about the Member's own account cannot be answered from the domain's evidence")
        }
        return about
    }
}

/// One answer, by the tool from evidence or by the assessor.
public struct AssessmentAnswer: Codable, Sendable, Equatable {
    public enum Value: String, Codable, Sendable { case yes, no, notApplicable = "n/a" }
    public enum Source: String, Codable, Sendable { case evidence, assessor }
    public var question: String
    public var value: Value
    public var source: Source
    public var note: String?
    /// For a question about the Member's own account: whose account.
    public var memberId: String?

    public init(question: String, value: Value, source: Source, note: String?, memberId: String? = nil) {
        self.question = question; self.value = value; self.source = source; self.note = note; self.memberId = memberId
    }
}

public enum Assessment {
    /// Answers the questions the evidence settles: yes when every named check passes, no when
    /// one fails or is absent. A check that could not run (or warns) leaves it to the assessor,
    /// who sees the evidence.
    public static func evidenceAnswers(_ checklist: Checklist, report: DomainReport) -> [AssessmentAnswer] {
        checklist.questions.compactMap { question in
            guard !question.evidence.isEmpty else { return nil }
            let checks = question.evidence.compactMap { report.check($0) }
            guard checks.count == question.evidence.count else { return nil }
            let summary = checks.map { "\($0.id): \($0.status.rawValue)" }.joined(separator: ", ")
            if checks.allSatisfy({ $0.status == .pass }) {
                return AssessmentAnswer(question: question.id, value: .yes, source: .evidence, note: summary)
            }
            if checks.contains(where: { $0.status == .fail || $0.status == .notPresent }) {
                return AssessmentAnswer(question: question.id, value: .no, source: .evidence, note: summary)
            }
            return nil
        }
    }

    /// The same over several domains of one organisation: yes when every domain's checks pass,
    /// no when any domain's fail; otherwise the assessor answers.
    public static func evidenceAnswers(_ checklist: Checklist, reports: [DomainReport]) -> [AssessmentAnswer] {
        guard reports.count > 1 else { return reports.first.map { evidenceAnswers(checklist, report: $0) } ?? [] }
        let perDomain = reports.map { report in (report.asciiDomain, evidenceAnswers(checklist, report: report)) }
        return checklist.questions.compactMap { question in
            let answers = perDomain.compactMap { domain, answers in answers.first { $0.question == question.id }.map { (domain, $0) } }
            let note = answers.map { "\($0.0): \($0.1.note ?? "")" }.joined(separator: "; ")
            if answers.contains(where: { $0.1.value == .no }) {
                return AssessmentAnswer(question: question.id, value: .no, source: .evidence, note: note)
            }
            guard answers.count == reports.count, answers.allSatisfy({ $0.1.value == .yes }) else { return nil }
            return AssessmentAnswer(question: question.id, value: .yes, source: .evidence, note: note)
        }
    }

    /// Passed when no required question is answered no. Returns the failed question ids and
    /// remarks on why. `cloudService`: the domain's mail is on a cloud service (the provider
    /// check): then "no" to MFA also fails Cyber Essentials, an automatic fail since v3.3.
    public static func result(_ checklist: Checklist, answers: [AssessmentAnswer], cloudService: String? = nil)
        -> (passed: Bool, failed: [String], remarks: [String]) {
        func answer(_ id: String) -> AssessmentAnswer.Value? { answers.first { $0.question == id }?.value }
        var failed = checklist.questions.filter { $0.required && answer($0.id) == .no }.map(\.id)
        var remarks: [String] = []
        if let ce = checklist.cyberEssentials, let mfa = ce.mfaQuestion, answer(mfa) == .no, let cloudService {
            remarks.append("Cyber Essentials v3.3 (Danzell, from 27 April 2026): MFA is available on \(cloudService) but not enforced, "
                           + "which is an automatic fail, so a Cyber Essentials certificate cannot be relied on.")
            if !failed.contains(ce.question) { failed.append(ce.question) }
        }
        return (failed.isEmpty, failed, remarks)
    }

    /// The assessor's questions still unanswered, in checklist order.
    public static func remaining(_ checklist: Checklist, answers: [AssessmentAnswer]) -> [Checklist.Question] {
        checklist.questions.filter { question in !answers.contains { $0.question == question.id } }
    }
}
