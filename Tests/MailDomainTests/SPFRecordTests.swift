import XCTest
@testable import MailDomain

final class SPFRecordTests: XCTestCase {
    private func parse(_ text: String) throws -> SPFRecord {
        switch SPFRecord.parse(text) {
        case let .success(record): return record
        case let .failure(error): throw error
        }
    }

    func testCandidateSelection() {
        XCTAssertTrue(SPFRecord.isCandidate("v=spf1"))
        XCTAssertTrue(SPFRecord.isCandidate("V=SPF1 -all"))
        XCTAssertFalse(SPFRecord.isCandidate("v=spf10 -all"))
        XCTAssertFalse(SPFRecord.isCandidate(" v=spf1 -all"))
    }

    func testMechanismsAndModifiers() throws {
        let record = try parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.org/24//64 -include:_spf.example.net ~exists:%{i}.x.example ?ptr redirect=other.example exp=why.example foo=bar")
        XCTAssertEqual(record.directives.map(\.mechanism.name), ["ip4", "ip6", "a", "mx", "include", "exists", "ptr"])
        XCTAssertEqual(record.directives.map(\.qualifier), [.pass, .pass, .pass, .pass, .fail, .softfail, .neutral])
        XCTAssertEqual(record.directives[3].mechanism, .mx(domain: "mail.example.org", ip4Prefix: 24, ip6Prefix: 64))
        XCTAssertEqual(record.directives.filter(\.mechanism.queriesDNS).count, 5)
        XCTAssertEqual(record.redirect, "other.example")
        XCTAssertEqual(record.explanation, "why.example")
        XCTAssertEqual(record.unknownModifiers, [Tag(name: "foo", value: "bar")])
    }

    func testSyntaxErrorsAreRefused() {
        for bad in [
            "v=spf1 ip4:192.0.2.300", "v=spf1 ip4:192.0.2.1/33", "v=spf1 ip6:2001:db8::/129", "v=spf1 ip4:192.0.2.01",
            "v=spf1 foo", "v=spf1 all:x", "v=spf1 include", "v=spf1 a:example.-com", "v=spf1 -all redirect=a.example redirect=b.example",
            "v=spf1 exists:%{z}.example", "v=spf1 a/0012", "v=spf1 include:%", "v=spf1 -all\u{1}",
        ] {
            XCTAssertThrowsError(try parse(bad), bad)
        }
    }

    func testCIDRAfterADomainContainingASlash() throws {
        let record = try parse("v=spf1 a:foo:bar/baz.example.com/24")
        XCTAssertEqual(record.directives[0].mechanism, .a(domain: "foo:bar/baz.example.com", ip4Prefix: 24, ip6Prefix: nil))
    }

    func testMacroSyntax() {
        XCTAssertNoThrow(try SPFMacro.checkMacroString("%{ir}.%{v}._spf.%{d2}", inExplanation: false).get())
        XCTAssertNoThrow(try SPFMacro.checkMacroString("%{c} is not allowed %%", inExplanation: true).get())
        XCTAssertThrowsError(try SPFMacro.checkMacroString("%{c}", inExplanation: false).get())
        XCTAssertThrowsError(try SPFMacro.checkMacroString("%{d0}", inExplanation: false).get())
        XCTAssertThrowsError(try SPFMacro.checkMacroString("%{d", inExplanation: false).get())
    }
}

final class DomainNameTests: XCTestCase {
    func testInternationalisedNamesBecomeALabels() throws {
        XCTAssertEqual(try DomainNames.asciiName("Bücher.test."), "xn--bcher-kva.test")
        XCTAssertEqual(try DomainNames.asciiName("EXAMPLE.org"), "example.org")
        XCTAssertThrowsError(try DomainNames.asciiName("localhost"))
        XCTAssertThrowsError(try DomainNames.asciiName("a..b"))
        XCTAssertThrowsError(try DomainNames.asciiName("exa mple.org"))
        XCTAssertThrowsError(try DomainNames.asciiName("-bad.org"))
        XCTAssertThrowsError(try DomainNames.asciiName(""))
    }

    func testOrganisationalDomainFromThePublicSuffixList() {
        XCTAssertEqual(OrganizationalDomain.shared.of("mail.cambridge.gov.uk"), "cambridge.gov.uk")
        XCTAssertEqual(OrganizationalDomain.shared.of("a.b.example.co.uk"), "example.co.uk")
        XCTAssertEqual(OrganizationalDomain.shared.of("sub.orgdmarc.test"), "orgdmarc.test")
    }
}

final class RecordParserTests: XCTestCase {
    func testDMARCEffectivePolicies() throws {
        let record = try DMARCRecord.parse("v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@example.org!10m").get()
        XCTAssertEqual(record.effectivePolicy, .reject)
        XCTAssertEqual(record.effectiveSubdomainPolicy, DMARCRecord.Policy.none)
        XCTAssertEqual(record.effectivePercent, 50)
        XCTAssertEqual(record.aggregateReports.first?.mailDomain, "example.org")
        let inherited = try DMARCRecord.parse("v=DMARC1; p=quarantine").get()
        XCTAssertEqual(inherited.effectiveSubdomainPolicy, .quarantine)
        XCTAssertEqual(inherited.effectivePercent, 100)
    }

    func testMTASTSPolicyCoverage() throws {
        let policy = try MTASTSPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmx: *.backup.example.org\r\nmax_age: 604800\r\n").get()
        XCTAssertTrue(policy.covers("MAIL.example.org."))
        XCTAssertTrue(policy.covers("mx1.backup.example.org"))
        XCTAssertFalse(policy.covers("a.mx1.backup.example.org"))
        XCTAssertFalse(policy.covers("backup.example.org"))
    }

    func testDKIMKeySizes() throws {
        // RFC 6376 Appendix C's example key: 1024-bit RSA.
        let example = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"
        let record = try DKIMKeyRecord.parse(example).get()
        XCTAssertEqual(record.keyBits, 1024)
        XCTAssertFalse(record.isBarePKCS1)
        let ed25519 = try DKIMKeyRecord.parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").get()
        XCTAssertEqual(ed25519.keyBits, 256)
        XCTAssertTrue(try DKIMKeyRecord.parse("v=DKIM1; p=").get().isRevoked)
    }
}
