/// Mail services recognisable from MX host names and SPF includes. Suffixes match whole labels.
struct KnownMailProvider: Sendable {
    enum Kind: String, Sendable { case cloudMailbox = "cloud-mailbox", gateway }
    var name: String
    var kind: Kind
    var mxSuffixes: [String]
    var spfIncludes: [String]

    static let all: [KnownMailProvider] = [
        KnownMailProvider(name: "Microsoft 365", kind: .cloudMailbox,
                          mxSuffixes: ["mail.protection.outlook.com", "mx.microsoft"],
                          spfIncludes: ["spf.protection.outlook.com"]),
        KnownMailProvider(name: "Google Workspace", kind: .cloudMailbox,
                          mxSuffixes: ["aspmx.l.google.com", "googlemail.com", "smtp.google.com"],
                          spfIncludes: ["_spf.google.com"]),
        KnownMailProvider(name: "Mimecast", kind: .gateway, mxSuffixes: ["mimecast.com", "mimecast.co.za"],
                          spfIncludes: ["_netblocks.mimecast.com", "eu._netblocks.mimecast.com", "uk._netblocks.mimecast.com"]),
        KnownMailProvider(name: "Proofpoint", kind: .gateway, mxSuffixes: ["pphosted.com", "ppe-hosted.com"],
                          spfIncludes: ["spf.protection.pphosted.com"]),
        KnownMailProvider(name: "Broadcom Email Security.cloud", kind: .gateway, mxSuffixes: ["messagelabs.com"],
                          spfIncludes: ["spf.messagelabs.com"]),
        KnownMailProvider(name: "Barracuda Email Protection", kind: .gateway, mxSuffixes: ["barracudanetworks.com"],
                          spfIncludes: ["_spf.ess.barracudanetworks.com"]),
        KnownMailProvider(name: "Cisco Secure Email", kind: .gateway, mxSuffixes: ["iphmx.com"], spfIncludes: []),
        KnownMailProvider(name: "Sophos Email", kind: .gateway, mxSuffixes: ["hydra.sophos.com"],
                          spfIncludes: ["_spf.prod.hydra.sophos.com"]),
        KnownMailProvider(name: "Forcepoint Email Security", kind: .gateway, mxSuffixes: ["mailcontrol.com"],
                          spfIncludes: ["mailcontrol.com"]),
        KnownMailProvider(name: "Trend Micro Email Security", kind: .gateway, mxSuffixes: ["tmes.trendmicro.eu", "tmes.trendmicro.com"],
                          spfIncludes: ["spf.tmes.trendmicro.eu", "spf.tmes.trendmicro.com"]),
        KnownMailProvider(name: "Hornetsecurity", kind: .gateway, mxSuffixes: ["hornetsecurity.com"],
                          spfIncludes: ["spf.hornetsecurity.com"]),
    ]

    /// The host is the suffix or a name below it. Compared on the bytes (host names here are in
    /// presentation form): joining "." to each suffix took an allocation for every host and suffix.
    static func hostMatches(_ host: String, suffix: String) -> Bool {
        let host = host.utf8, suffix = suffix.utf8
        guard host.count >= suffix.count else { return false }
        let start = host.index(host.endIndex, offsetBy: -suffix.count)
        guard host[start...].elementsEqual(suffix) else { return false }
        return start == host.startIndex || host[host.index(before: start)] == UInt8(ascii: ".")
    }
}
