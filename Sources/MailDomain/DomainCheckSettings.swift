/// The thresholds and knobs of the mail-domain checks. The defaults are the UK public-sector
/// baseline (NCSC Mail Check, the GOV.UK email security standard); a policy file overrides them.
public struct DomainCheckSettings: Sendable {
    /// RFC 7208 4.6.4: at most 10 DNS-querying terms and 2 void look-ups across the whole tree.
    public var spfMaxLookups = 10
    public var spfMaxVoidLookups = 2
    /// `all` qualifiers that pass; anything else (or none) fails.
    public var spfAcceptedAllQualifiers: Set<SPFRecord.Qualifier> = [.fail, .softfail]

    /// DMARC policies that count as enforcing, for p and for sp.
    public var dmarcEnforcingPolicies: Set<DMARCRecord.Policy> = [.quarantine, .reject]
    public var dmarcRequiredPercent = 100
    /// When set, `rua` must include this address (e.g. the NCSC's Mail Check address).
    public var dmarcRequiredReportAddress: String?
    /// Report addresses of services that no longer read reports (NCSC Mail Check closed in March
    /// 2026): a record that reports only there warns that nobody reads its reports.
    public var retiredReportAddresses: Set<String> = ["dmarc-rua@dmarc.service.gov.uk", "tls-rua@mailcheck.service.ncsc.gov.uk"]

    /// RFC 8461 suggests weeks; NCSC and GOV.UK ask for at least 1209600 s (14 days) in enforce mode.
    public var mtaStsMinMaxAge = 1_209_600
    /// RFC 8461 3.3: senders may cap the policy body at 64 KiB.
    public var mtaStsMaxPolicyBytes = 65_536

    /// Selectors to try, in this order: the site's own first, then common defaults.
    public var dkimSelectors: [String] = DomainCheckSettings.commonDKIMSelectors
    public var dkimMinimumRSABits = 1024
    public var dkimRecommendedRSABits = 2048

    /// HTTPS fetches (MTA-STS policies, tenant discovery).
    public var httpsTimeout: Duration = .seconds(10)
    /// CA bundle for HTTPS fetches; nil for the system's.
    public var caFile: String?
    /// Probe each MX host for STARTTLS on port 25 (the `smtp-starttls` check). Off by default:
    /// many networks block outgoing port 25, and then every probe would only time out.
    public var smtpProbe = false
    public var smtpTimeout: Duration = .seconds(15)
    /// MX hosts probed per domain, in preference order.
    public var smtpMaxHosts = 5
    /// Microsoft's login endpoint, for tenant discovery; nil turns discovery off.
    public var microsoftLoginBaseURL: String? = "https://login.microsoftonline.com"

    /// Selectors of the large providers and common defaults. Not finding a key among them does
    /// not mean there is none.
    public static let commonDKIMSelectors = [
        "selector1", "selector2", "google", "default", "k1", "k2", "s1", "s2", "dkim", "mail", "smtp", "mx",
    ]

    public init() {}
}
