import XCTest
@testable import MailDomain

final class RecordConformanceTests: XCTestCase {
    func testDMARCVectors() throws {
        let vectors = try XCTUnwrap(Conformance.json("dmarc/dmarc-record-vectors.json")["vectors"] as? [[String: Any]])
        // We implement RFC 7489's grammar and read DMARCbis's new tags (np, psd, t). Where the
        // sources disagree with each other, or are lenient where an auditor must not be, we differ:
        let strictValues = "an invalid value of a known tag makes the record invalid; receivers disagree on what to do with it, so an audit reports it"
        let bisRelaxation = "DMARCbis stops validating pct/ri/rf; receivers still applying RFC 7489 act on them, so they are validated"
        let orderWarning = "RFC 7489 6.3 wants p straight after v; receivers accept it anywhere, so this is a warning, not invalidity"
        let keywordFormats = "rf takes Keywords (RFC 7489 6.4 ABNF); unknown formats are a warning, as receivers ignore them"
        let deliberate: [String: String] = [
            "mox-dmarc-parse-L27": orderWarning,
            "dmarcparser-test_failing-L231": orderWarning,
            "mox-dmarc-parse-L91": strictValues,
            "opendmarc-parse-L23": "p=n is not a policy; OpenDMARC's abbreviation is not in the RFC",
            "opendmarc-parse-L30": keywordFormats,
            "opendmarc-parse-L37": keywordFormats,
            "dmarcparser-test_failing-L226": keywordFormats,
            "dmarcparser-test_failing-L230": keywordFormats,
            "dmarcparser-NewTests.test_p_downgrade": strictValues,
            "dmarcparser-NewTests.test_p_downgrade_1": strictValues,
            "dmarcparser-NewTests.test_p_missing_downgrade_2": strictValues,
            "dmarcparser-NewTests.test_p_missing_downgrade_3": strictValues,
            "dmarcparser-NewTests.test_p_missing_downgrade_4": strictValues,
            "dmarcparser-NewTests.test_downgrade_2": strictValues,
            "dmarcparser-NewTests.test_p_missing": "RFC 7489 6.6.3: no p but a valid rua is read as p=none (as mox does), with a warning",
            "mail-auth-dmarc-parse-5": "the ABNF allows no space inside a size limit (\"!10 K\")",
            "mail-auth-dmarc-parse-6": "an empty tag between separators (\";;\") is outside the grammar",
            "mail-dmarc-policy-L225": "records arrive unescaped from DNS; a backslash is part of the text",
            "mail-dmarc-policy-L257": "without p (and without a mailto rua) an RFC 7489 record is invalid; DMARCbis PSD records are out of scope",
            "mail-dmarc-parse-L166": strictValues,
            "checkdmarc-test_dmarc.py::testDMARCPctRemovedNotValidated#2": bisRelaxation,
            "checkdmarc-test_dmarc.py::testDMARCPctRemovedNotValidated#3": bisRelaxation,
            "checkdmarc-test_dmarc.py::testDMARCPctRemovedNotValidated#4": bisRelaxation,
            "checkdmarc-test_dmarc.py::testDMARCRiRemovedNotValidated": bisRelaxation,
        ]
        _ = Conformance.compare(vectors, key: "record", deliberate: deliberate) { text in
            if case .success = DMARCRecord.parse(text) { return true }
            return false
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
