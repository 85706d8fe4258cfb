import ConfigFile
import Directory
import DoH
import Foundation
import MailDomain
import Policy
import Site

/// What the fuzzer feeds: each target takes arbitrary bytes to one parser the tool points at
/// data it does not control (DNS answers, TXT records, HTTPS bodies, LDIF, YAML). A target
/// never checks that parsing succeeds, only that it returns: an error is the right answer to
/// most inputs, and a crash, a hang or runaway memory is the finding.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable ([UInt8]) -> Void

    /// Every target, by the name `scripts/fuzz` and the corpus folders use.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "dns-message", summary: "a DoH answer (RFC 1035 wire format) and its records' presentation") { bytes in
            guard let message = try? DNSMessageParser.parse(bytes) else { return }
            for record in message.answers + message.authority {
                _ = record.presentation
                _ = record.joinedText
            }
        },
        FuzzTarget(name: "domain-name", summary: "a mail domain as typed or read from the directory (IDNA through libidn2)") { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            if let ascii = try? DomainNames.asciiName(text) { _ = OrganizationalDomain.shared.of(ascii) }
        },
        FuzzTarget(name: "spf-record", summary: "an SPF TXT record (RFC 7208 section 4.6)") { bytes in
            _ = SPFRecord.parse(text(bytes))
        },
        FuzzTarget(name: "dmarc-record", summary: "a DMARC TXT record (RFC 9989)") { bytes in
            _ = DMARCRecord.parse(text(bytes))
        },
        FuzzTarget(name: "mta-sts-record", summary: "an _mta-sts TXT record (RFC 8461 section 3.1)") { bytes in
            _ = MTASTSRecord.parse(text(bytes))
        },
        FuzzTarget(name: "mta-sts-policy", summary: "an MTA-STS policy file as fetched over HTTPS (RFC 8461 section 3.2)") { bytes in
            _ = MTASTSPolicy.parse(String(decoding: bytes, as: UTF8.self))
        },
        FuzzTarget(name: "tls-rpt-record", summary: "a _smtp._tls TXT record (RFC 8460 section 3)") { bytes in
            _ = TLSRPTRecord.parse(text(bytes))
        },
        FuzzTarget(name: "dkim-key", summary: "a DKIM key record with its base64 key (RFC 6376 section 3.6.1, RFC 8463)") { bytes in
            _ = DKIMKeyRecord.parse(text(bytes))
        },
        FuzzTarget(name: "ldif", summary: "an LDIF member list (RFC 2849) and the Members read from it under both profiles") { bytes in
            guard let entries = try? LDIFReader.parse(Data(bytes), file: "fuzz.ldif") else { return }
            for kind in [DirectoryProfileKind.activeDirectory, .openldap] {
                let profile = DirectoryProfile(kind: kind)
                for entry in entries { _ = try? profile.member(from: entry, now: fixedNow) }
            }
        },
        FuzzTarget(name: "yaml-config", summary: "a YAML file read as site.yaml, as a baseline and as a checklist") { bytes in
            guard let root = try? YAMLMapping.parse(String(decoding: bytes, as: UTF8.self), file: "/nonexistent/fuzz.yaml") else { return }
            _ = try? SiteConfiguration.read(root)
            _ = try? Baseline.read(root)
            _ = try? Checklist.read(root)
        },
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// A TXT record's strings reach the record parsers joined and decoded as UTF-8, as here.
private func text(_ bytes: [UInt8]) -> String {
    ResourceRecord(name: "fuzz.test", type: .txt, ttl: 0, data: .txt([bytes])).joinedText ?? ""
}

/// Account ages are computed from a clock; a fixed one keeps a run of the fuzzer repeatable.
private let fixedNow = Date(timeIntervalSince1970: 1_790_000_000)
