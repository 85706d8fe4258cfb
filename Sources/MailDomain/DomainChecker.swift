import Curl
import DoH
import Foundation

/// Runs every mail-domain check for a domain. Checks run concurrently; all DNS goes through
/// one resolver, whose cache means a name shared by many domains is asked once.
public struct DomainChecker: Sendable {
    public static let checkIDs = ["mx", "spf", "dmarc", "mta-sts", "tls-rpt", "dkim", "provider"]
    /// Checks run only when the settings turn them on, reported after the others.
    public static let optionalCheckIDs = ["smtp-starttls"]

    /// The checks these settings run, in report order.
    public static func checkIDs(_ settings: DomainCheckSettings) -> [String] {
        checkIDs + (settings.smtpProbe ? optionalCheckIDs : [])
    }

    let resolver: DNSResolving
    let client: CurlClient
    let fetcher: HTTPSFetcher
    let settings: DomainCheckSettings

    public init(resolver: DNSResolving, client: CurlClient, settings: DomainCheckSettings) {
        self.resolver = resolver
        self.client = client
        self.settings = settings
        fetcher = HTTPSFetcher(client: client, resolver: resolver, caFile: settings.caFile, timeout: settings.httpsTimeout)
    }

    public func check(_ input: String) async -> DomainReport {
        let checkedAt = Date()
        let domain: String
        do {
            domain = try DomainNames.asciiName(input)
        } catch {
            let checks = Self.checkIDs(settings).map {
                CheckResult(id: $0, status: .error, summary: "Not checked: \(error).")
            }
            return DomainReport(domain: input, asciiDomain: input, checkedAt: checkedAt, checks: checks)
        }
        let mxCheck = MXCheck(resolver: resolver)
        // MTA-STS waits for the MX hosts; ask its record now so both answers arrive together.
        async let _ = resolver.lookup("_mta-sts.\(domain)", .txt)
        async let spfOutcome = SPFCheck(resolver: resolver, settings: settings).run(domain)
        async let dmarc = DMARCCheck(resolver: resolver, settings: settings).run(domain)
        async let tlsrpt = TLSRPTCheck(resolver: resolver, retiredReportAddresses: settings.retiredReportAddresses).run(domain)
        async let dkim = DKIMCheck(resolver: resolver, settings: settings).run(domain)
        let mxObservation = await mxCheck.observe(domain)
        async let mx = mxCheck.run(mxObservation)
        async let mtasts = MTASTSCheck(resolver: resolver, fetcher: fetcher, settings: settings).run(domain, mx: mxObservation)
        let spf = await spfOutcome
        async let provider = ProviderCheck(fetcher: fetcher, settings: settings)
            .run(domain, mx: mxObservation, spfIncludes: spf.includedDomains)
        async let starttls = settings.smtpProbe ? SMTPStartTLSCheck(resolver: resolver, client: client, settings: settings)
            .run(domain, mx: mxObservation) : nil
        let checks = await [mx, spf.result, dmarc, mtasts, tlsrpt, dkim, provider] + [starttls].compactMap { $0 }
        return DomainReport(domain: input, asciiDomain: domain, checkedAt: checkedAt, checks: checks)
    }

    /// Checks many domains with at most `concurrency` in progress at once, in input order.
    public func check(_ domains: [String], concurrency: Int,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) async -> [DomainReport] {
        var reports: [DomainReport] = []
        reports.reserveCapacity(domains.count)
        await check(domains, concurrency: concurrency, progress: progress) { reports.append($0) }
        return reports
    }

    /// The same, handing each report to `each` in input order as soon as those before it are
    /// done, so that a long list's reports need not all be held at once: only those finished
    /// ahead of a slower one wait.
    public func check(_ domains: [String], concurrency: Int, progress: (@Sendable (Int, Int) -> Void)? = nil,
                      each: (DomainReport) -> Void) async {
        if !domains.isEmpty { progress?(0, domains.count) }   // said at once, before the first answer
        await withTaskGroup(of: (Int, DomainReport).self) { group in
            var next = 0
            var done = 0
            var waiting: [Int: DomainReport] = [:]
            var nextToHandOver = 0
            func launch() {
                guard next < domains.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await self.check(domains[index])) }
            }
            for _ in 0..<max(1, concurrency) { launch() }
            for await (index, report) in group {
                waiting[index] = report
                while let ready = waiting.removeValue(forKey: nextToHandOver) {
                    each(ready)
                    nextToHandOver += 1
                }
                done += 1
                progress?(done, domains.count)
                launch()
            }
        }
    }
}
