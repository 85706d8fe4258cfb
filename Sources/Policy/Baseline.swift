import ConfigFile
import Foundation
import MailDomain

/// The baseline file: the domain controls' descriptions and the thresholds of the checks.
public struct Baseline: Sendable {
    public var file: String
    public var name: String
    public var reference: String
    public var settings: DomainCheckSettings
    public var descriptions: [String: ControlDescription]

    public static func load(file: String) throws -> Baseline {
        try read(YAMLMapping.load(file: file))
    }

    /// The baseline from a parsed file, so that text need not come from disk (the fuzz targets read it so).
    public static func read(_ root: YAMLMapping) throws -> Baseline {
        let file = root.file
        try root.allowOnly(["name", "reference", "thresholds", "controls"])
        var settings = DomainCheckSettings()
        if let thresholds = try root.mapping("thresholds") {
            try thresholds.allowOnly(["spf", "dmarc", "mta-sts", "dkim"])
            if let spf = try thresholds.mapping("spf") {
                try spf.allowOnly(["maxLookups", "maxVoidLookups", "acceptedAll"])
                settings.spfMaxLookups = try spf.int("maxLookups", in: 1...100) ?? settings.spfMaxLookups
                settings.spfMaxVoidLookups = try spf.int("maxVoidLookups", in: 0...100) ?? settings.spfMaxVoidLookups
                if let accepted = try spf.strings("acceptedAll") {
                    settings.spfAcceptedAllQualifiers = Set(try accepted.map { text in
                        guard text.count == 1, let qualifier = SPFRecord.Qualifier(rawValue: text.first!) else {
                            throw spf.error("acceptedAll", "\"\(text)\" is not an SPF qualifier (+, -, ~ or ?)")
                        }
                        return qualifier
                    })
                }
            }
            if let dmarc = try thresholds.mapping("dmarc") {
                try dmarc.allowOnly(["enforcingPolicies", "requiredPercent", "requiredReportAddress", "retiredReportAddresses"])
                if let policies = try dmarc.strings("enforcingPolicies") {
                    settings.dmarcEnforcingPolicies = Set(try policies.map { text in
                        guard let policy = DMARCRecord.Policy(rawValue: text) else {
                            throw dmarc.error("enforcingPolicies", "\"\(text)\" is not none, quarantine or reject")
                        }
                        return policy
                    })
                }
                settings.dmarcRequiredPercent = try dmarc.int("requiredPercent", in: 0...100) ?? settings.dmarcRequiredPercent
                settings.dmarcRequiredReportAddress = try dmarc.string("requiredReportAddress")
                settings.retiredReportAddresses = Set((try dmarc.strings("retiredReportAddresses") ?? []).map { $0.lowercased() })
            }
            if let mtaSTS = try thresholds.mapping("mta-sts") {
                try mtaSTS.allowOnly(["minMaxAge", "maxPolicyBytes"])
                settings.mtaStsMinMaxAge = try mtaSTS.int("minMaxAge", in: 0...31_557_600) ?? settings.mtaStsMinMaxAge
                settings.mtaStsMaxPolicyBytes = try mtaSTS.int("maxPolicyBytes", in: 1024...1_048_576) ?? settings.mtaStsMaxPolicyBytes
            }
            if let dkim = try thresholds.mapping("dkim") {
                try dkim.allowOnly(["minimumRSABits", "recommendedRSABits", "selectors"])
                settings.dkimMinimumRSABits = try dkim.int("minimumRSABits", in: 512...16384) ?? settings.dkimMinimumRSABits
                settings.dkimRecommendedRSABits = try dkim.int("recommendedRSABits", in: 512...16384) ?? settings.dkimRecommendedRSABits
                if let selectors = try dkim.strings("selectors") { settings.dkimSelectors = selectors }
            }
        }
        var descriptions: [String: ControlDescription] = [:]
        if let controls = try root.mapping("controls") {
            try controls.allowOnly(Controls.domain)
            for id in controls.keys {
                guard let control = try controls.mapping(id) else { continue }
                try control.allowOnly(["title", "severity", "reference", "explanation", "fix"])
                let severity = try control.requiredString("severity")
                guard ["high", "medium", "low", "info"].contains(severity) else {
                    throw control.error("severity", "must be high, medium, low or info")
                }
                descriptions[id] = ControlDescription(title: try control.requiredString("title"), severity: severity,
                                                      reference: try control.requiredString("reference"),
                                                      explanation: try control.requiredString("explanation"),
                                                      fix: try control.requiredString("fix"))
            }
        }
        for id in Controls.domain where descriptions[id] == nil {
            throw root.error("controls", "control \(id) has no description")
        }
        return Baseline(file: file, name: try root.requiredString("name"), reference: try root.requiredString("reference"),
                        settings: settings, descriptions: descriptions)
    }
}
