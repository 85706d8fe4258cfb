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
    }

    public var file: String
    public var name: String
    public var questions: [Question]

    public static func load(file: String) throws -> Checklist {
        let root = try YAMLMapping.load(file: file)
        try root.allowOnly(["name", "questions"])
        guard let items = try root.sequence("questions"), !items.isEmpty else {
            throw root.error("questions", "list the assessment's questions")
        }
        var questions: [Question] = []
        for item in items {
            try item.allowOnly(["id", "question", "why", "pass", "evidence", "required", "notApplicable"])
            let id = try item.requiredString("id")
            guard !questions.contains(where: { $0.id == id }) else { throw item.error("id", "question \(id) appears twice") }
            let evidence = try item.strings("evidence") ?? []
            if let unknown = evidence.first(where: { !Controls.domain.contains($0) }) {
                throw item.error("evidence", "\"\(unknown)\" is not a domain check; known: \(Controls.domain.joined(separator: ", "))")
            }
            questions.append(Question(id: id, question: try item.requiredString("question"), why: try item.requiredString("why"),
                                      pass: try item.requiredString("pass"), evidence: evidence,
                                      required: try item.bool("required") ?? true, allowsNotApplicable: try item.bool("notApplicable") ?? true))
        }
        return Checklist(file: file, name: try root.requiredString("name"), questions: questions)
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

    public init(question: String, value: Value, source: Source, note: String?) {
        self.question = question; self.value = value; self.source = source; self.note = note
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

    /// Passed when no required question is answered no. Returns the failed question ids.
    public static func result(_ checklist: Checklist, answers: [AssessmentAnswer]) -> (passed: Bool, failed: [String]) {
        let failed = checklist.questions.filter { question in
            question.required && answers.first(where: { $0.question == question.id })?.value == .no
        }.map(\.id)
        return (failed.isEmpty, failed)
    }

    /// The assessor's questions still unanswered, in checklist order.
    public static func remaining(_ checklist: Checklist, answers: [AssessmentAnswer]) -> [Checklist.Question] {
        checklist.questions.filter { question in !answers.contains { $0.question == question.id } }
    }
}
