import XCTest
@testable import MailDomain

final class RecordConformanceTests: XCTestCase {
    func testDMARCVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("dmarc/dmarc-record-vectors.json")["vectors"] as? [[String: Any]])
        // Scored under RFC 9989: a record is "valid" when it parses, a policy takes effect (a valid
        // p, or none read from a valid rua when p is missing) and no policy value is ignored (an
        // invalid p, sp or np makes the record not enforcing, a failure, as checkdmarc's RFC 9989
        // tests score it). The vectors come mostly from RFC 7489-era projects; where RFC 9989, or
        // an auditor's duty, reads a case otherwise:
        let historic = "pct, ri and rf are historic in RFC 9989: an out-of-range value no longer invalidates the record; it is ignored, with a warning (RFC 7489 receivers still act on valid ones)"
        let orderWarning = "RFC 9989 lets p stand anywhere after v; RFC 7489 6.3 wanted it second, so it warns"
        let strictValues = "adkim, aspf, fo, psd and t keep a defined set of values; an audit reports any other as a syntax error, as receivers disagree on what they do with it"
        let downgrade = "RFC 9989 4.7 has receivers ignore an invalid p, sp or np (p falls back to none with a valid rua), which these vectors call valid; an audit reports such a record as not enforcing, so it scores it invalid"
        let deliberate: [String: String] = [
            "mox-dmarc-parse-L91": downgrade,
            "dmarcparser-NewTests.test_p_downgrade": downgrade, "dmarcparser-NewTests.test_p_downgrade_1": downgrade,
            "dmarcparser-NewTests.test_p_missing_downgrade_2": downgrade, "dmarcparser-NewTests.test_p_missing_downgrade_3": downgrade,
            "dmarcparser-NewTests.test_p_missing_downgrade_4": downgrade, "dmarcparser-NewTests.test_downgrade_2": downgrade,
            "opendmarc-parse-L23": "p=n is not a policy; OpenDMARC's abbreviation is in neither RFC",
            "mail-dmarc-policy-L257": "a psd=y record without p marks a public suffix for the tree walk (RFC 9989 4.10), but sets no policy of its own",
            "mox-dmarc-parse-L27": orderWarning,
            "dmarcparser-test_failing-L231": orderWarning,
            "opendmarc-parse-L30": historic, "opendmarc-parse-L31": historic, "opendmarc-parse-L32": historic,
            "opendmarc-parse-L37": historic,
            "dmarcparser-test_failing-L226": historic, "dmarcparser-test_failing-L227": historic,
            "dmarcparser-test_failing-L228": historic, "dmarcparser-test_failing-L230": historic,
            "dmarcparser-NewTests.test_p_missing": "RFC 9989 4.7: no p but a valid rua is read as p=none (as mox does), with a warning",
            "mail-auth-dmarc-parse-5": "the ABNF allows no space inside a size limit (\"!10 K\")",
            "mail-auth-dmarc-parse-6": "an empty tag between separators (\";;\") is outside the grammar",
            "mail-dmarc-policy-L225": "records arrive unescaped from DNS; a backslash is part of the text",
        ]
        _ = Conformance.compare(vectors, key: "record", deliberate: deliberate) { text in
            guard case let .success(record) = DMARCRecord.parse(text) else { return false }
            return record.invalidPolicies.isEmpty && record.effectivePolicy != nil
        }
    }

    func testMTASTSRecordVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("mta-sts/mta-sts-vectors.json")["records"] as? [[String: Any]])
        _ = Conformance.compare(vectors, key: "record", deliberate: [:]) { text in
            if case .success = MTASTSRecord.parse(text) { return true }
            return false
        }
    }

    func testMTASTSPolicyVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("mta-sts/mta-sts-vectors.json")["policies"] as? [[String: Any]])
        let deliberate = [
            "checkdmarc-testParseMtaStsPolicyUnexpectedKey": "RFC 8461 3.2 allows extension keys; they are kept, not refused (as mox does)",
        ]
        _ = Conformance.compare(vectors, key: "policy_text", deliberate: deliberate) { text in
            if case .success = MTASTSPolicy.parse(text) { return true }
            return false
        }
    }

    func testTLSRPTVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("tlsrpt/tlsrpt-record-vectors.json")["records"] as? [[String: Any]])
        let deliberate = [
            "mox-tlsrpt-L31": "a repeated rua is refused, as checkdmarc does (the vectors disagree); which one a sender uses is unclear",
        ]
        _ = Conformance.compare(vectors, key: "record", deliberate: deliberate) { text in
            if case .success = TLSRPTRecord.parse(text) { return true }
            return false
        }
    }

    func testDKIMVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("dkim/dkim-key-record-vectors.json")["vectors"] as? [[String: Any]])
        let revoked = "an empty p= is a well-formed revoked key (RFC 6376 3.6.1, as mox reads it); the check reports it as revoked"
        let deliberate = [
            "mail-auth-dkim-L634": "an empty tag between separators (\";;\") is outside RFC 6376's tag-list grammar",
            "mail-auth-dkim-revoked-v=DKIM1; p=": revoked,
            "mail-auth-dkim-revoked-v=DKIM1; k=rsa; p=;": revoked,
            "mail-auth-dkim-revoked-p=": revoked,
        ]
        _ = Conformance.compare(vectors, key: "record", deliberate: deliberate) { text in
            if case .success = DKIMKeyRecord.parse(text) { return true }
            return false
        }
    }

    func testMTASTSPatternVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("mta-sts/mta-sts-vectors.json")["mx_matches"] as? [[String: Any]])
        XCTAssertFalse(vectors.isEmpty)
        for vector in vectors {
            let patterns = try XCTUnwrap(vector["policy_mx"] as? [String])
            let host = try XCTUnwrap(vector["mx_host"] as? String)
            let expected = try XCTUnwrap(vector["matches"] as? Bool)
            XCTAssertEqual(MTASTSPolicy.matches(patterns: patterns, host: host), expected, "\(patterns) vs \(host)")
        }
    }

    func testMTASTSContentTypeVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("mta-sts/mta-sts-vectors.json")["content_type_vectors"] as? [[String: Any]])
        XCTAssertFalse(vectors.isEmpty)
        for vector in vectors {
            let type = try XCTUnwrap(vector["content_type"] as? String)
            XCTAssertEqual(MTASTSCheck.isTextPlain(type), try XCTUnwrap(vector["is_text_plain"] as? Bool), type)
        }
    }
}
