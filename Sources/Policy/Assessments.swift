import Foundation

/// A Cyber Essentials certificate as the assessor recorded it from the organisation.
public struct CyberEssentialsCertificate: Codable, Sendable, Equatable {
    public var number: String
    public var expires: Date
    /// The question set it was assessed against, e.g. "Danzell (v3.3)".
    public var questionSet: String

    public init(number: String, expires: Date, questionSet: String) {
        self.number = number; self.expires = expires; self.questionSet = questionSet
    }
}

/// A finished 10-minute assessment as the engine and the reports need it. An `organisation`
/// assessment is of a council's or business's mail system and covers every Member whose
/// address is on one of its `domains`; a `member` assessment answers only the checklist's
/// questions about one Member's own account, under the organisation's assessment.
public struct AssessmentRecord: Codable, Sendable, Equatable {
    public enum Scope: String, Codable, Sendable { case organisation, member }

    public var id: Int64
    public var scope: Scope
    /// The organisation assessed (a council or business).
    public var organisation: String
    /// The mail domains it covers (A-labels); empty for a member assessment.
    public var domains: [String]
    /// The Member it was carried out for or through ("" when it named domains only).
    public var memberId: String
    public var passed: Bool
    public var assessedAt: Date
    public var validUntil: Date
    public var assessor: String
    public var itContact: String?
    public var failedItems: [String]
    public var cyberEssentials: CyberEssentialsCertificate?
    /// The checklist's questions about this Member's own account not yet answered for them.
    public var pendingMemberQuestions: [String] = []

    public init(id: Int64 = 0, scope: Scope = .organisation, organisation: String = "", domains: [String] = [], memberId: String = "",
                passed: Bool, assessedAt: Date, validUntil: Date, assessor: String, itContact: String? = nil,
                failedItems: [String] = [], cyberEssentials: CyberEssentialsCertificate? = nil) {
        self.id = id; self.scope = scope; self.organisation = organisation; self.domains = domains; self.memberId = memberId
        self.passed = passed; self.assessedAt = assessedAt; self.validUntil = validUntil; self.assessor = assessor
        self.itContact = itContact; self.failedItems = failedItems; self.cyberEssentials = cyberEssentials
    }

    /// "Fenland District Council's mail system (fenland.gov.uk)".
    public var subject: String {
        let name = organisation.isEmpty ? "the organisation" : organisation
        return domains.isEmpty ? name : "\(name)'s mail system (\(domains.joined(separator: ", ")))"
    }
}

/// Which assessment stands for a Member on a given day: the latest organisation assessment
/// covering the Member's domain that was completed by then and, when the checklist has questions
/// about the Member's own account, the latest answers to those for this Member.
public struct AssessmentCoverage: Sendable {
    private let byDomain: [String: [AssessmentRecord]]
    private let memberOnly: [String: [AssessmentRecord]]
    /// The checklist's questions about a Member's own account (asked per Member).
    public let memberQuestions: [String]

    /// Only assessments completed on or before `asOf` count: a judgement of the past uses what
    /// was known then.
    public init(_ assessments: [AssessmentRecord], memberQuestions: [String], asOf: Date) {
        let known = assessments.filter { $0.assessedAt <= asOf }.sorted { ($0.assessedAt, $0.id) < ($1.assessedAt, $1.id) }
        var byDomain: [String: [AssessmentRecord]] = [:]
        var memberOnly: [String: [AssessmentRecord]] = [:]
        for assessment in known {
            switch assessment.scope {
            case .organisation: for domain in Set(assessment.domains) { byDomain[domain, default: []].append(assessment) }
            case .member: memberOnly[assessment.memberId, default: []].append(assessment)
            }
        }
        self.byDomain = byDomain
        self.memberOnly = memberOnly
        self.memberQuestions = memberQuestions
    }

    /// The assessment the Member is judged by, or nil when none covers them.
    public func assessment(memberId: String, domain: String?) -> AssessmentRecord? {
        guard let domain, let organisation = byDomain[domain]?.last else { return nil }
        // The organisation's assessment answered the Member questions for the Member it was
        // carried out through; anyone else needs their own answers, given after it.
        guard !memberQuestions.isEmpty, organisation.memberId != memberId else { return organisation }
        var combined = organisation
        guard let own = memberOnly[memberId]?.last(where: { $0.assessedAt >= organisation.assessedAt }) else {
            combined.pendingMemberQuestions = memberQuestions
            return combined
        }
        combined.passed = organisation.passed && own.passed
        combined.failedItems = organisation.failedItems + own.failedItems.filter { !organisation.failedItems.contains($0) }
        combined.validUntil = min(organisation.validUntil, own.validUntil)
        return combined
    }
}
