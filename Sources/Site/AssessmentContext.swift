import ConfigFile
import Directory
import Foundation
import MailDomain
import Policy
import Register

/// What is assessed: an organisation's mail system on one or more domains (reached through a
/// Member, or named), each domain's fresh check, and what the evidence already answers.
public struct AssessmentContext: Sendable {
    public var site: SiteConfiguration
    public var policy: MemberEmailPolicy
    public var register: AuditRegister
    /// The Member the assessment is carried out for or through, if one was named.
    public var member: Member?
    public var organisation: String
    public var domains: [String]
    public var reports: [DomainReport]
    public var evidenceAnswers: [AssessmentAnswer]
    /// With a checklist that asks about each Member's own account: the organisation assessment
    /// in date that already covers this Member's domain, so only the Member's questions are asked.
    public var coveringAssessment: StoredAssessment?

    /// The first domain's report (the Member's own, when one was named).
    public var report: DomainReport { reports[0] }

    public static func prepare(_ context: SiteContext, member wanted: String?, extraDomains: [String] = [], organisation named: String? = nil)
        async throws -> AssessmentContext {
        let (site, policy, register) = (context.site, context.policy, context.register)
        let read = try await context.readDirectory()
        var member: Member?
        var domains: [String] = []
        if let wanted {
            let found = try SiteContext.member(wanted, in: read)
            try refuseUnassessable(found.effectiveAddress, policy: policy, what: found.effectiveAddress ?? found.displayName ?? wanted)
            guard let raw = AccountClassifier.domain(of: found.effectiveAddress), let domain = try? DomainNames.asciiName(raw) else {
                throw SiteContext.Failure("\(found.effectiveAddress ?? wanted): the domain is not a valid domain name")
            }
            member = found
            domains.append(domain)
        }
        for extra in extraDomains {
            guard let domain = try? DomainNames.asciiName(extra) else { throw SiteContext.Failure(usage: "--domain \(extra) is not a valid domain name") }
            try refuseUnassessable("postmaster@\(domain)", policy: policy, what: "--domain \(extra)")
            if !domains.contains(domain) { domains.append(domain) }
        }
        guard !domains.isEmpty else { throw SiteContext.Failure(usage: "say what is assessed: --member <id or email>, or --domain <mail domain> (repeatable)") }
        let organisation = try organisationName(named, member: member, domains: domains, read: read, policy: policy)
        let memberQuestions = policy.checklist.memberQuestionIDs
        var covering: StoredAssessment?
        if let member, !memberQuestions.isEmpty, extraDomains.isEmpty, named == nil {
            covering = try register.assessments().last { stored in
                stored.scope == .organisation && stored.domains.contains(domains[0]) && stored.memberId != member.id
                    && stored.passed && stored.validUntil > Date()
            }
        }
        let kit = try context.checkerKit()
        defer { kit.shutdown() }
        let reports = await kit.checker.check(domains, concurrency: site.checks.concurrency)
        try kit.refuseIfLocalFailure()
        return AssessmentContext(site: site, policy: policy, register: register, member: member, organisation: organisation,
                                 domains: domains, reports: reports,
                                 evidenceAnswers: covering == nil ? Assessment.evidenceAnswers(policy.checklist, reports: reports) : [],
                                 coveringAssessment: covering)
    }

    /// CPCA accounts and personal webmail are never assessed: say why.
    private static func refuseUnassessable(_ address: String?, policy: MemberEmailPolicy, what: String) throws {
        switch policy.classifier.classify(address) {
        case .external: return
        case .organisation: throw SiteContext.Failure("\(what) is a CPCA account: the 10-minute assessment is for council and business accounts")
        case .personal: throw SiteContext.Failure("\(what) is personal webmail, which the rule does not accept whatever an assessment finds")
        case .noAddress: throw SiteContext.Failure("\(what) has no email address on record: record the account they use first")
        }
    }

    /// The organisation's name: as given, else the Member's organisation, else the one
    /// organisation every Member on these domains names.
    private static func organisationName(_ named: String?, member: Member?, domains: [String], read: DirectoryRead,
                                         policy: MemberEmailPolicy) throws -> String {
        if let named = named?.trimmingCharacters(in: .whitespaces), !named.isEmpty { return named }
        if let own = member?.organisation, !own.isEmpty { return own }
        let onDomains = Set(read.members.compactMap { candidate -> String? in
            guard let raw = AccountClassifier.domain(of: candidate.effectiveAddress), let domain = try? DomainNames.asciiName(raw),
                  domains.contains(domain) else { return nil }
            return candidate.organisation.flatMap { $0.isEmpty ? nil : $0 }
        })
        if onDomains.count == 1, let only = onDomains.first { return only }
        throw SiteContext.Failure(usage: "name the organisation assessed: --organisation \"Name\" (the directory "
                              + (onDomains.isEmpty ? "names none" : "names several: \(onDomains.sorted().joined(separator: ", "))") + ")")
    }

    public var subjectName: String { member.map { $0.displayName ?? $0.dn } ?? organisation }

    /// Where the unfinished assessment is kept.
    public var draftKey: String { member?.id ?? "domain:\(domains[0])" }

    /// The questions this assessment asks: the Member's own when an organisation assessment
    /// already covers them, else the whole checklist.
    public var questions: [Checklist.Question] {
        let all = policy.checklist.questions
        return coveringAssessment == nil ? all : all.filter { $0.about == .member }
    }

    public var evidenceLines: [String] {
        reports.flatMap { report in report.checks.map { (reports.count > 1 ? "\(report.asciiDomain) " : "") + "\($0.id): \($0.status.rawValue) — \($0.summary)" } }
    }

    /// The cloud mail service the provider check recognised on the first domain, if any.
    public var cloudService: String? {
        if case let .string(name)? = report.check("provider")?.details["provider"] { return name }
        return nil
    }

    /// Stores the finished assessment (removing its draft) and says what was recorded.
    public func record(answers: [AssessmentAnswer], assessor: String, itContact: String, startedAt: Date,
                cyberEssentials: CyberEssentialsCertificate?) throws -> StoredAssessment {
        let now = Date()
        let checklist = Checklist(file: policy.checklist.file, name: policy.checklist.name, questions: questions,
                                  cyberEssentials: coveringAssessment == nil ? policy.checklist.cyberEssentials : nil)
        let (passed, failed, remarks) = Assessment.result(checklist, answers: answers, cloudService: cloudService)
        var validUntil = Calendar(identifier: .gregorian).date(byAdding: .month, value: policy.assessmentValidMonths, to: now)!
        // A pass that rests on a Cyber Essentials certificate lasts no longer than the certificate.
        if let certificate = cyberEssentials { validUntil = min(validUntil, certificate.expires) }
        if let covering = coveringAssessment { validUntil = min(validUntil, covering.validUntil) }
        let memberAnswers = answers.map { answer -> AssessmentAnswer in
            var answer = answer
            if questions.first(where: { $0.id == answer.question })?.about == .member { answer.memberId = member?.id }
            return answer
        }
        let assessment = StoredAssessment(scope: coveringAssessment == nil ? .organisation : .member, organisation: organisation,
                                          domains: coveringAssessment == nil ? domains : [], memberId: member?.id ?? "",
                                          memberName: member.map { $0.displayName ?? $0.dn } ?? "", itContact: itContact, assessor: assessor,
                                          startedAt: startedAt, completedAt: now, passed: passed, failedItems: failed, remarks: remarks,
                                          answers: memberAnswers, evidence: evidenceLines, validUntil: validUntil,
                                          cyberEssentials: cyberEssentials, basedOn: coveringAssessment?.id)
        do { return try register.recordAssessment(assessment, draftKey: draftKey) } catch let error as RegisterError {
            throw SiteContext.Failure(error.description)
        }
    }

    /// The certificate given with a "yes" to the Cyber Essentials question, checked.
    public static func certificate(number: String?, expires: String?, questionSet: String?, checklist: Checklist,
                            fail: (String, String) -> Error) throws -> CyberEssentialsCertificate {
        guard let ce = checklist.cyberEssentials else { throw fail("", "the checklist does not ask about Cyber Essentials") }
        guard let number = number?.trimmingCharacters(in: .whitespaces), !number.isEmpty else {
            throw fail("certificate", "give the certificate number")
        }
        guard let expiresText = expires, let day = try? SiteContext.day(expiresText, option: "expires", at: 86_399) else {
            throw fail("expires", "give the certificate's expiry as YYYY-MM-DD")
        }
        guard day > Date() else { throw fail("expires", "the certificate expired on \(expiresText): the answer is no") }
        let set = questionSet?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let known = ce.questionSets.first(where: { $0.lowercased() == set.lowercased() || $0.lowercased().hasPrefix(set.lowercased() + " ") }),
              !set.isEmpty else {
            throw fail("questionSet", "name the question set assessed: one of \(ce.questionSets.joined(separator: ", "))")
        }
        return CyberEssentialsCertificate(number: number, expires: day, questionSet: known)
    }
}

