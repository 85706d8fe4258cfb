import Foundation
import SwiftASN1

/// A DKIM public-key record at `<selector>._domainkey.<domain>` (RFC 6376 3.6.1, RFC 8463).
public struct DKIMKeyRecord: Sendable, Equatable {
    public enum KeyType: String, Sendable, Codable { case rsa, ed25519 }

    public var keyType: KeyType
    /// Empty `p=`: the key has been revoked (RFC 6376 3.6.1).
    public var isRevoked: Bool
    /// RSA modulus length or 256 for Ed25519; nil when revoked.
    public var keyBits: Int?
    public var hashAlgorithms: [String]
    public var serviceTypes: [String]
    public var flags: [String]
    /// The key was a bare PKCS#1 RSAPublicKey rather than a SubjectPublicKeyInfo; most
    /// verifiers accept it, RFC 6376 asks for the latter.
    public var isBarePKCS1: Bool

    public static func parse(_ text: String) -> Result<DKIMKeyRecord, RecordSyntaxError> {
        let tags: [Tag]
        switch TagValueList.parse(text, caseSensitiveNames: true, blankAfterLastSeparator: false) {
        case let .success(parsed): tags = parsed
        case let .failure(error): return .failure(error)
        }
        if let index = tags.firstIndex(where: { $0.name == "v" }) {
            guard index == 0 else { return .failure(RecordSyntaxError("v= must be the first tag")) }
            guard tags[0].value == "DKIM1" else { return .failure(RecordSyntaxError("v=\(tags[0].value) is not DKIM1")) }
        }
        func list(_ name: String) -> [String] {
            guard let value = tags.first(where: { $0.name == name })?.value else { return [] }
            return value.split(separator: ":").map { TagValueList.trim($0) }
        }
        let typeName = tags.first(where: { $0.name == "k" })?.value ?? "rsa"
        guard let keyType = KeyType(rawValue: typeName) else {
            return .failure(RecordSyntaxError("k=\(typeName) is not a known key type (rsa or ed25519)"))
        }
        guard let rawKey = tags.first(where: { $0.name == "p" })?.value else {
            return .failure(RecordSyntaxError("the p= tag (public key) is missing"))
        }
        let base64 = rawKey.filter { !TagValueList.whitespace.contains($0) }
        var record = DKIMKeyRecord(keyType: keyType, isRevoked: base64.isEmpty, keyBits: nil,
                                   hashAlgorithms: list("h"), serviceTypes: list("s").isEmpty ? ["*"] : list("s"),
                                   flags: list("t"), isBarePKCS1: false)
        if record.isRevoked { return .success(record) }
        guard let der = Data(base64Encoded: base64) else {
            return .failure(RecordSyntaxError("p= is not valid base64"))
        }
        switch keyType {
        case .ed25519:
            guard der.count == 32 else {
                return .failure(RecordSyntaxError("an Ed25519 key is 32 octets; this one is \(der.count)"))
            }
            record.keyBits = 256
        case .rsa:
            guard let key = RSAKeyLength.read(Array(der)) else {
                return .failure(RecordSyntaxError("p= is not an RSA public key"))
            }
            record.keyBits = key.bits
            record.isBarePKCS1 = key.bare
        }
        return .success(record)
    }
}

/// Reads the modulus length of an RSA public key from DER: a SubjectPublicKeyInfo, or a bare
/// PKCS#1 RSAPublicKey.
enum RSAKeyLength {
    private static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]

    static func read(_ der: [UInt8]) -> (bits: Int, bare: Bool)? {
        guard let root = try? DER.parse(der) else { return nil }
        if let bits = try? fromSubjectPublicKeyInfo(root) { return (bits, false) }
        if let bits = try? fromRSAPublicKey(root) { return (bits, true) }
        return nil
    }

    private static func fromSubjectPublicKeyInfo(_ node: ASN1Node) throws -> Int {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let algorithm = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes)
            guard let first = algorithm.first,
                  let oid = try? ASN1ObjectIdentifier(asn1Any: first), oid == rsaEncryption else {
                throw ASN1Error.invalidASN1Object(reason: "not rsaEncryption")
            }
            let bits = try ASN1BitString(derEncoded: &nodes)
            return try fromRSAPublicKey(try DER.parse(Array(bits.bytes)))
        }
    }

    private static func fromRSAPublicKey(_ node: ASN1Node) throws -> Int {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let modulus = try ArraySlice<UInt8>(derEncoded: &nodes)
            _ = try ArraySlice<UInt8>(derEncoded: &nodes)
            let significant = modulus.drop(while: { $0 == 0 })
            guard let lead = significant.first else { throw ASN1Error.invalidASN1Object(reason: "zero modulus") }
            return (significant.count - 1) * 8 + (8 - lead.leadingZeroBitCount)
        }
    }
}
