import DoH

/// One SPF record in the include/redirect tree an evaluation went through, with what it cost.
public struct SPFTreeNode: Sendable, Equatable {
    public var domain: String
    /// How the parent reached it: "record", "include:x" or "redirect=x".
    public var via: String
    public var record: String?
    /// The record's own `all` qualifier, if it has one.
    public var allQualifier: SPFRecord.Qualifier?
    /// DNS-querying terms in this record itself.
    public var ownLookups: Int
    /// This record's terms plus those of everything below it.
    public var totalLookups: Int
    public var voidLookups: Int
    public var problems: [String]
    public var children: [SPFTreeNode]

    /// The qualifier of the `all` that ends evaluation: the record's own, else the one its
    /// redirect target ends with (RFC 7208 6.1).
    public var effectiveAll: SPFRecord.Qualifier? {
        allQualifier ?? children.first(where: { $0.via.hasPrefix("redirect=") })?.effectiveAll
    }

    var json: JSONValue {
        .object([
            ("domain", .string(domain)), ("via", .string(via)), ("record", .optional(record)),
            ("all", .optional(allQualifier.map { String($0.rawValue) })),
            ("lookups", .int(ownLookups)), ("totalLookups", .int(totalLookups)), ("voidLookups", .int(voidLookups)),
            ("problems", .strings(problems)), ("children", .array(children.map(\.json))),
        ])
    }
}
