import DoH

/// The domain's MX records (RFC 5321 5.1), including the null MX of RFC 7505.
public struct MXObservation: Sendable {
    public var lookup: DNSLookup
    /// Exchange host names in preference order; empty for a null MX.
    public var hosts: [String]
    public var isNullMX: Bool
}

struct MXCheck {
    let resolver: DNSResolving

    func observe(_ domain: String) async -> MXObservation {
        let lookup = await resolver.lookup(domain, .mx)
        var exchanges: [(UInt16, String)] = []
        for record in lookup.records {
            if case let .mx(preference, exchange) = record.data { exchanges.append((preference, DNSName.normalize(exchange))) }
        }
        exchanges.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        let isNull = exchanges.contains { $0.1.isEmpty }
        return MXObservation(lookup: lookup, hosts: exchanges.map(\.1).filter { !$0.isEmpty }, isNullMX: isNull)
    }

    func run(_ observation: MXObservation) async -> CheckResult {
        let log = EvidenceLog()
        log.add(observation.lookup)
        let lookup = observation.lookup
        var details: [(String, JSONValue)] = [
            ("hosts", .strings(observation.hosts)),
            ("nullMX", .bool(observation.isNullMX)),
            ("dnssecValidated", .bool(lookup.authenticated)),
        ]
        switch lookup.status {
        case let .error(message):
            return CheckResult(id: "mx", status: .error, summary: "The MX records could not be read: \(message).",
                               details: .object(details), evidence: log.all)
        case .nxDomain:
            return CheckResult(id: "mx", status: .fail, summary: "The domain does not exist in DNS (NXDOMAIN).",
                               advice: "Check the address: mail to this domain cannot be delivered.",
                               details: .object(details), evidence: log.all)
        case .noData:
            return CheckResult(id: "mx", status: .notPresent,
                               summary: "The domain has no MX records; senders fall back to its address record (RFC 5321 5.1).",
                               advice: "Publish MX records naming the servers that receive this domain's mail.",
                               details: .object(details), evidence: log.all)
        case .found:
            break
        }
        if observation.isNullMX {
            let mixed = !observation.hosts.isEmpty
            return CheckResult(id: "mx", status: .fail,
                               summary: mixed ? "The domain mixes a null MX with other MX records, which RFC 7505 forbids."
                                              : "The domain publishes a null MX (RFC 7505): it receives no mail.",
                               advice: "A mailbox on this domain cannot receive mail; use another address.",
                               details: .object(details), evidence: log.all)
        }
        // Each exchange should have an address; one without is mail that will queue and bounce.
        var unresolved: [String] = []
        var undetermined: [MissingAnswer] = []
        await withTaskGroup(of: (String, DNSLookup, DNSLookup).self) { group in
            for host in observation.hosts {
                group.addTask {
                    // Hosts are kept in presentation form; ask the octets they stand for.
                    guard let name = DNSName.unescape(host) else {
                        let unaskable = DNSLookup.Status.error("the name holds octets that are not text; not asked")
                        return (host, DNSLookup(name: host, type: .a, status: unaskable), DNSLookup(name: host, type: .aaaa, status: unaskable))
                    }
                    return (host, await resolver.lookup(name, .a), await resolver.lookup(name, .aaaa))
                }
            }
            // Taken in the MX records' order, not the answers', so the evidence reads the same every run.
            var answers: [String: (DNSLookup, DNSLookup)] = [:]
            for await (host, v4, v6) in group { answers[host] = (v4, v6) }
            for host in observation.hosts {
                guard let (v4, v6) = answers.removeValue(forKey: host) else { continue }
                log.add(v4); log.add(v6)
                if v4.status == .found || v6.status == .found { continue }
                if let missing = MissingAnswer("the addresses of \(host)", v4.isError ? v4 : v6) {
                    undetermined.append(missing)
                } else {
                    unresolved.append(host)
                }
            }
        }
        details.append(("hostsWithoutAddress", .strings(unresolved.sorted())))
        let missing = undetermined.sorted { $0.what < $1.what }
        if !unresolved.isEmpty {
            return CheckResult(id: "mx", status: .warn,
                               summary: "MX host \(unresolved.sorted().joined(separator: ", ")) has no address record.",
                               advice: "Remove MX records that name hosts without addresses, or give the hosts addresses.",
                               details: .object(details), evidence: log.all).unless(missing: missing)
        }
        return CheckResult(id: "mx", status: .pass, summary: "Mail is received by \(observation.hosts.joined(separator: ", ")).",
                           details: .object(details), evidence: log.all).unless(missing: missing)
    }
}
