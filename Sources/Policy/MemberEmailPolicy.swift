import ConfigFile
import Crypto
import Foundation

/// The rule file (`policies/cpca-member-email.yaml`) with the files it names: what it
/// implements, the organisation and its domains, the personal webmail list, the baseline, and
/// what each class of account must meet. Nothing is evaluated against a half-read policy: any
/// error stops the read with the file, line and key.
public struct MemberEmailPolicy: Sendable {
    public struct ClassRule: Sendable, Equatable {
        public var require: [String]
        public var advise: [String]
    }

    public var file: String
    public var implements: String
    public var organisationName: String
    public var classifier: AccountClassifier
    public var baseline: Baseline
    public var classes: [AccountClass: ClassRule]
    public var staleAfterDays: Int
    public var passwordMaxAgeDays: Int?
    public var assessmentValidMonths: Int
    public var checklist: Checklist
    /// The longest an exception may be granted for.
    public var exceptionMaxMonths: Int
    /// SHA-256 of the policy, the baseline and the list, as read: two runs with the same hash
    /// applied the same rule.
    public var hash: String

    public static func load(file: String) throws -> MemberEmailPolicy {
        let root = try YAMLMapping.load(file: file)
        try root.allowOnly(["implements", "organisation", "personalWebmail", "baseline", "classes", "accounts", "assessment", "exceptions"])
        guard let organisation = try root.mapping("organisation") else {
            throw root.error("organisation", "is required: the organisation's name and mail domains")
        }
        try organisation.allowOnly(["name", "domains"])
        let domains = try organisation.strings("domains") ?? []
        guard !domains.isEmpty else { throw organisation.error("domains", "list at least one mail domain") }
        for domain in domains where !domain.contains(".") || domain.contains("@") || domain.contains(" ") {
            throw organisation.error("domains", "\"\(domain)\" is not a domain name")
        }
        guard let listFile = try root.path("personalWebmail") else {
            throw root.error("personalWebmail", "is required: the file listing consumer mail domains")
        }
        let personal = try AccountClassifier.readDomainList(file: listFile)
        guard let baselineFile = try root.path("baseline") else {
            throw root.error("baseline", "is required: the file of mail-domain controls and thresholds")
        }
        let baseline = try Baseline.load(file: baselineFile)

        guard let classSection = try root.mapping("classes") else {
            throw root.error("classes", "is required: what each class of account must meet")
        }
        try classSection.allowOnly(AccountClass.allCases.map(\.rawValue))
        var classes: [AccountClass: ClassRule] = [:]
        for accountClass in AccountClass.allCases {
            guard let section = try classSection.mapping(accountClass.rawValue) else {
                throw classSection.error(nil, "class \(accountClass.rawValue) is not described")
            }
            try section.allowOnly(["require", "advise"])
            let require = try section.strings("require") ?? []
            let advise = try section.strings("advise") ?? []
            for (key, ids) in [("require", require), ("advise", advise)] {
                if let unknown = ids.first(where: { !Controls.all.contains($0) }) {
                    throw section.error(key, "unknown control \"\(unknown)\"; known: \(Controls.all.joined(separator: ", "))")
                }
            }
            if let both = require.first(where: advise.contains) {
                throw section.error("advise", "\(both) is both required and advised")
            }
            guard !require.isEmpty else { throw section.error("require", "name at least one control") }
            classes[accountClass] = ClassRule(require: require, advise: advise)
        }
        var staleAfterDays = 90
        var passwordMaxAgeDays: Int?
        if let accounts = try root.mapping("accounts") {
            try accounts.allowOnly(["staleAfterDays", "passwordMaxAgeDays"])
            staleAfterDays = try accounts.int("staleAfterDays", in: 1...3650) ?? staleAfterDays
            passwordMaxAgeDays = try accounts.int("passwordMaxAgeDays", in: 1...3650)
        }
        var validMonths = 12
        guard let assessment = try root.mapping("assessment") else {
            throw root.error("assessment", "is required: validMonths and the checklist of the 10-minute assessment")
        }
        try assessment.allowOnly(["validMonths", "checklist"])
        validMonths = try assessment.int("validMonths", in: 1...60) ?? validMonths
        guard let checklistFile = try assessment.path("checklist") else {
            throw assessment.error("checklist", "is required: the questions of the 10-minute assessment")
        }
        let checklist = try Checklist.load(file: checklistFile)
        var exceptionMaxMonths = 12
        if let exceptions = try root.mapping("exceptions") {
            try exceptions.allowOnly(["maxMonths"])
            exceptionMaxMonths = try exceptions.int("maxMonths", in: 1...60) ?? exceptionMaxMonths
        }
        var digest = SHA256()
        for path in [file, baselineFile, listFile, checklistFile] {
            digest.update(data: FileManager.default.contents(atPath: path) ?? Data())
        }
        let hash = digest.finalize().map { String(format: "%02x", $0) }.joined()
        return MemberEmailPolicy(file: file, implements: try root.requiredString("implements"),
                                 organisationName: try organisation.requiredString("name"),
                                 classifier: AccountClassifier(organisationDomains: domains, personalDomains: personal),
                                 baseline: baseline, classes: classes, staleAfterDays: staleAfterDays,
                                 passwordMaxAgeDays: passwordMaxAgeDays, assessmentValidMonths: validMonths, checklist: checklist,
                                 exceptionMaxMonths: exceptionMaxMonths, hash: hash)
    }

    /// Does any class require or advise `control`?
    public func names(_ control: String) -> Bool {
        classes.values.contains { ($0.require + $0.advise).contains(control) }
    }

    /// Does any class need the mail domain checked?
    public func needsDomainChecks(_ accountClass: AccountClass) -> Bool {
        guard let rule = classes[accountClass] else { return false }
        return !(rule.require + rule.advise).filter(Controls.domain.contains).isEmpty
    }

    public func description(of control: String) -> ControlDescription? {
        baseline.descriptions[control] ?? Controls.memberDescriptions[control]
    }
}
