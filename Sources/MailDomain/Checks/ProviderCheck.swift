import Curl
import DoH
import Foundation

struct ProviderCheck {
    let fetcher: HTTPSFetcher
    let settings: DomainCheckSettings

    func run(_ domain: String, mx: MXObservation, spfIncludes: [String]) async -> CheckResult {
        let log = EvidenceLog()
        log.add(mx.lookup)   // the provider is told from the MX hosts first
        var matches: [(provider: KnownMailProvider, reason: String)] = []
        for provider in KnownMailProvider.all {
            if let host = mx.hosts.first(where: { host in provider.mxSuffixes.contains { KnownMailProvider.hostMatches(host, suffix: $0) } }) {
                matches.append((provider, "MX \(host)"))
            } else if let include = spfIncludes.first(where: { include in provider.spfIncludes.contains { KnownMailProvider.hostMatches(include, suffix: $0) } }) {
                matches.append((provider, "SPF include:\(include)"))
            }
        }
        let mailbox = matches.first { $0.provider.kind == .cloudMailbox }
        let gateways = matches.filter { $0.provider.kind == .gateway }

        var tenant: JSONValue = .null
        var tenantSummary = ""
        if let base = settings.microsoftLoginBaseURL {
            let discovery = await discoverMicrosoftTenant(domain, base: base, log: log)
            tenant = discovery.json
            tenantSummary = discovery.summary
        }
        let details: JSONValue = .object([
            ("provider", .optional(mailbox?.provider.name)),
            ("gateways", .strings(gateways.map(\.provider.name))),
            ("reasons", .strings(matches.map { "\($0.provider.name): \($0.reason)" })),
            ("mxHosts", .strings(mx.hosts)),
            ("microsoftTenant", tenant),
        ])
        if case let .error(message) = mx.lookup.status, matches.isEmpty {
            return CheckResult(id: "provider", status: .error, summary: "The mail provider could not be told: \(message).",
                               details: details, evidence: log.all)
        }
        var parts: [String] = []
        if let mailbox { parts.append("mail is hosted by \(mailbox.provider.name) (\(mailbox.reason))") }
        if !gateways.isEmpty { parts.append("filtered by \(gateways.map { "\($0.provider.name) (\($0.reason))" }.joined(separator: ", "))") }
        if !tenantSummary.isEmpty { parts.append(tenantSummary) }
        if parts.isEmpty {
            return CheckResult(id: "provider", status: .notPresent,
                               summary: "No known cloud mail service or gateway was recognised; the domain may run its own mail servers.",
                               advice: "Ask the organisation's IT contact how the mail platform is hosted and patched.",
                               details: details, evidence: log.all)
        }
        let sentence = parts.joined(separator: "; ")
        return CheckResult(id: "provider", status: .pass, summary: sentence.prefix(1).uppercased() + sentence.dropFirst() + ".",
                           details: details, evidence: log.all)
    }

    private struct TenantDiscovery {
        var json: JSONValue
        var summary: String
    }

    /// Microsoft's realm discovery: whether the domain is known to Entra ID, and its tenant.
    private func discoverMicrosoftTenant(_ domain: String, base: String, log: EvidenceLog) async -> TenantDiscovery {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        let realmURL = "\(trimmed)/getuserrealm.srf?login=mailaudit@\(domain)&json=1"
        var fields: [(String, JSONValue)] = [("namespaceType", .null), ("brandName", .null), ("tenantId", .null),
                                             ("region", .null), ("error", .null)]
        func set(_ key: String, _ value: JSONValue) {
            if let index = fields.firstIndex(where: { $0.0 == key }) { fields[index].1 = value }
        }
        switch await fetcher.get(realmURL, maxBytes: 65_536, accept: "application/json", log: log) {
        case let .failure(failure):
            set("error", .string("\(failure)"))
            return TenantDiscovery(json: .object(fields), summary: "")
        case let .success(response):
            guard response.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                set("error", .string("getuserrealm.srf answered HTTP \(response.status) without a JSON object"))
                return TenantDiscovery(json: .object(fields), summary: "")
            }
            let namespace = object["NameSpaceType"] as? String
            set("namespaceType", .optional(namespace))
            set("brandName", .optional(object["FederationBrandName"] as? String))
            guard namespace == "Managed" || namespace == "Federated" else {
                return TenantDiscovery(json: .object(fields), summary: "")
            }
        }
        let openIDURL = "\(trimmed)/\(domain)/v2.0/.well-known/openid-configuration"
        if case let .success(response) = await fetcher.get(openIDURL, maxBytes: 262_144, accept: "application/json", log: log),
           response.status == 200,
           let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            // The issuer is https://login.microsoftonline.com/<tenant id>/v2.0.
            if let issuer = object["issuer"] as? String,
               let id = issuer.split(separator: "/").first(where: { UUID(uuidString: String($0)) != nil }) {
                set("tenantId", .string(String(id)))
            }
            set("region", .optional(object["tenant_region_scope"] as? String))
        }
        let namespace = fields.first(where: { $0.0 == "namespaceType" })?.1.stringValue ?? ""
        var summary = "the domain is registered in a Microsoft Entra ID tenant (\(namespace.lowercased())"
        if let id = fields.first(where: { $0.0 == "tenantId" })?.1.stringValue { summary += ", tenant \(id)" }
        if let region = fields.first(where: { $0.0 == "region" })?.1.stringValue { summary += ", region \(region)" }
        return TenantDiscovery(json: .object(fields), summary: summary + ")")
    }
}
