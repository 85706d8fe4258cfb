import Directory
import Foundation
import MailDomain
import Policy
import Register

/// `audit --replay N`: what run N would have said under the current policy. Run N's directory
/// read and its domains' checks, as the register kept them, are judged again at run N's moment
/// with the current policy and the assessments and decisions recorded by then. Nothing is asked
/// of the directory or the network.
public struct RunReplay: Sendable {
    public var result: AuditResult
    /// The directory read judged (run N's), kept with the replay if it is recorded.
    public var directory: DirectoryRead

    public static func of(_ runId: Int64, in context: SiteContext, generatedAt: Date = Date()) throws -> RunReplay {
        let stored = try context.register.requireStored(runId: runId, directory: true, unavailable: "it cannot be replayed")
        guard let directory = stored.directory else {
            throw SiteContext.Failure("run #\(runId) was recorded before the register kept the directory read it judged: it cannot be replayed")
        }
        let original = stored.result
        let judge = AuditJudge(policy: context.policy, mfaGroup: context.site.mfaGroup, asOf: original.asOf, generatedAt: generatedAt)
        let checked = Dictionary(original.domains.map { ($0.asciiDomain, $0) }, uniquingKeysWith: { first, _ in first })
        let domains = judge.domainsToCheck(directory).map { domain in
            completed(checked[domain], domain: domain, runId: runId, at: original.generatedAt)
        }
        let previous = PreviousRun(id: runId, at: original.generatedAt,
                                   entries: original.members.map { .init(id: $0.id, name: $0.name, verdict: $0.verdict) })
        let day = String(ISO8601DateFormatter().string(from: original.generatedAt).prefix(10))
        let samePolicy = original.policy.sha256 == context.policy.hash
        let notice = "\(AuditResult.replayNoticeOpening)\(runId) of \(day): its directory read and domain checks, judged again "
            + (samePolicy ? "under the same policy it used" : "under the current policy (\(context.policy.file), SHA-256 \(context.policy.hash.prefix(12))…; run #\(runId) used \(original.policy.sha256.prefix(12))…)")
            + ", with the assessments and decisions recorded by then. Nothing was checked again: the domain checks keep the statuses run #\(runId) found, "
            + "so a changed threshold of a domain check (DMARC policy, DKIM key size, MTA-STS max_age, SPF lookups) counts from the next audit."
        var result = judge.judge(directory, domains: domains, assessments: try context.register.assessments().map(\.record),
                                 exceptions: try context.register.exceptions(), previous: previous,
                                 warnings: [notice] + original.warnings.filter { !$0.hasPrefix(AuditResult.replayNoticeOpening) })
        result.replayOf = runId
        // A replay looks at a past moment: never the run that later audits compare with.
        result.backdated = true
        return RunReplay(result: result, directory: directory)
    }

    /// The stored checks of a domain, with every check the run did not make (a domain the
    /// policy then did not need, a check since turned on) given as not checked, never as passed.
    static func completed(_ stored: DomainReport?, domain: String, runId: Int64, at: Date) -> DomainReport {
        var report = stored ?? DomainReport(domain: domain, asciiDomain: domain, checkedAt: at, checks: [])
        let have = Set(report.checks.map(\.id))
        for id in DomainChecker.checkIDs + DomainChecker.optionalCheckIDs where !have.contains(id) {
            report.checks.append(CheckResult(id: id, status: .error,
                                             summary: "Not checked: run #\(runId) did not check this; a live audit will."))
        }
        return report
    }
}
