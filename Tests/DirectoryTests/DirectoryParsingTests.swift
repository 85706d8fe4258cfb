import ConfigFile
import Foundation
import XCTest
@testable import Directory
@testable import Policy

final class DirectoryTimeTests: XCTestCase {
    private func iso(_ date: Date?) -> String? { date.map { ISO8601DateFormatter().string(from: $0) } }

    func testGeneralizedTime() {
        XCTAssertEqual(iso(DirectoryTime.generalizedTime("20261120083000Z")), "2026-11-20T08:30:00Z")
        XCTAssertEqual(iso(DirectoryTime.generalizedTime("20261120083000.123Z")), "2026-11-20T08:30:00Z")
        XCTAssertEqual(iso(DirectoryTime.generalizedTime("20260101090000+0100")), "2026-01-01T08:00:00Z")
        XCTAssertEqual(iso(DirectoryTime.generalizedTime("2026010109-0530")), "2026-01-01T14:30:00Z")
        XCTAssertEqual(iso(DirectoryTime.generalizedTime("20240101120000.0Z")), "2024-01-01T12:00:00Z")
        XCTAssertEqual(DirectoryTime.generalizedTime("000001010000Z"), .distantPast, "ppolicy's administrative lock")
        for bad in ["", "2026", "20261320083000Z", "20261120083000", "20261120083000Q", "2026112008300.Z"] {
            XCTAssertNil(DirectoryTime.generalizedTime(bad), bad)
        }
    }

    func testFileTime() {
        XCTAssertEqual(DirectoryTime.fileTime("0"), .never)
        XCTAssertEqual(DirectoryTime.fileTime("9223372036854775807"), .never)
        XCTAssertEqual(DirectoryTime.fileTime("116444736000000000"), .at(Date(timeIntervalSince1970: 0)))
        XCTAssertNil(DirectoryTime.fileTime("-5"))
        XCTAssertNil(DirectoryTime.fileTime("soon"))
    }
}

final class LDIFReaderTests: XCTestCase {
    func testFoldingBase64AndComments() throws {
        let text = """
        version: 1
        # a comment
        dn: CN=Folded Name,OU=Members,
         DC=cpca,DC=test
        objectClass: user
        displayName:: SsO8cmdlbg==
        description: one
         two

        dn: CN=Second,DC=cpca,DC=test
        objectClass: contact
        """
        let entries = try LDIFReader.parse(Data(text.utf8), file: "t.ldif")
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0].dn, "CN=Folded Name,OU=Members,DC=cpca,DC=test")
        XCTAssertEqual(try entries[0].string("displayName"), "Jürgen")
        XCTAssertEqual(try entries[0].string("description"), "onetwo")
    }

    /// ldifde on Windows writes CRLF. Split on Characters, "\r\n" is no "\n" and the whole file read as
    /// one line: no Member at all, silently. The same file with either line end reads the same.
    func testWindowsLineEndsReadAsUnixOnes() throws {
        let text = """
        version: 1
        dn: CN=Folded Name,OU=Members,
         DC=cpca,DC=test
        objectClass: user
        mail: folded@cpca.test

        dn: CN=Second,DC=cpca,DC=test
        objectClass: contact
        description: a
         b

        """
        let unix = try LDIFReader.parse(Data(text.utf8), file: "t.ldif")
        let windows = try LDIFReader.parse(Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), file: "t.ldif")
        XCTAssertEqual(unix.count, 2)
        XCTAssertEqual(windows.map(\.dn), unix.map(\.dn))
        XCTAssertEqual(windows.map(\.attributes), unix.map(\.attributes))
        XCTAssertEqual(try windows[1].string("description"), "ab")
        // The line numbers in errors count CRLF lines too.
        XCTAssertThrowsError(try LDIFReader.parse(Data("dn: cn=a,dc=t\r\nno colon\r\n".utf8), file: "t.ldif")) { error in
            guard case let .ldif(_, line, _)? = error as? DirectoryError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 2)
        }
    }

    /// A file of groups only (or the wrong file) gives no Member: refused, never a clean audit of nobody.
    func testADirectoryThatYieldsNoMemberIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let ldif = folder.appendingPathComponent("groups.ldif")
        try "dn: cn=Board,dc=t\nobjectClass: groupOfNames\nmember: cn=a,dc=t\n".write(to: ldif, atomically: true, encoding: .utf8)
        let section = try YAMLMapping.parse("ldif: \(ldif.path)\n", file: folder.appendingPathComponent("site.yaml").path)
        let configuration = try DirectoryConfiguration.read(section)
        XCTAssertThrowsError(try DirectoryReader.readBlocking(configuration)) { error in
            XCTAssertTrue("\(error)".contains("no Members were read from \(ldif.path)"), "\(error)")
        }
    }

    /// A value folded over many lines (a photo, a certificate) is joined whole.
    func testAValueFoldedOverManyLinesIsJoinedWhole() throws {
        let text = "dn: cn=a,dc=t\nobjectClass: person\ndescription: x" + String(repeating: "\n " + String(repeating: "y", count: 76), count: 2_000) + "\n"
        let entries = try LDIFReader.parse(Data(text.utf8), file: "t.ldif")
        XCTAssertEqual(try entries.first?.string("description")?.count, 1 + 76 * 2_000)
    }

    func testErrorsNameTheLine() {
        let cases: [(String, Int)] = [
            ("dn: cn=a,dc=t\nno colon here\n", 2),
            ("objectClass: user\n", 1),
            ("dn: cn=a,dc=t\nphoto:: ***\n", 2),
            ("dn: cn=a,dc=t\nphoto:< file:///etc/passwd\n", 2),
            ("dn: cn=a,dc=t\nchangetype: add\n", 2),
        ]
        for (text, line) in cases {
            XCTAssertThrowsError(try LDIFReader.parse(Data(text.utf8), file: "t.ldif"), text) { error in
                guard case let .ldif(file, found, _)? = error as? DirectoryError else { return XCTFail("\(error)") }
                XCTAssertEqual(file, "t.ldif")
                XCTAssertEqual(found, line, text)
            }
        }
    }
}

final class DirectoryProfileTests: XCTestCase {
    private func entry(_ pairs: [(String, String)], binary: [String: [UInt8]] = [:]) -> DirectoryEntry {
        var entry = DirectoryEntry(dn: "CN=Test,DC=cpca,DC=test")
        for (name, value) in pairs { entry.attributes[name.lowercased(), default: []].append(Array(value.utf8)) }
        for (name, value) in binary { entry.attributes[name.lowercased()] = [value] }
        return entry
    }

    func testActiveDirectoryAccountSemantics() throws {
        let guid: [UInt8] = [0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]
        let member = try DirectoryProfile(kind: .activeDirectory).member(from: entry([
            ("objectClass", "user"), ("displayName", "Test"), ("userAccountControl", "66082"),
            ("msDS-User-Account-Control-Computed", "16"), ("pwdLastSet", "0"), ("accountExpires", "0"),
            ("lastLogonTimestamp", "133000000000000000"), ("proxyAddresses", "smtp:alias@x.test"),
            ("proxyAddresses", "SMTP:primary@x.test"), ("whenCreated", "20210601090000.0Z"),
        ], binary: ["objectGUID": guid]))
        XCTAssertEqual(member.id, "12345678-1234-5678-1234-56789abcdef0")
        XCTAssertEqual(member.email, "primary@x.test", "the SMTP: (upper case) proxy address is the primary")
        let account = try XCTUnwrap(member.account)
        XCTAssertEqual(account.enabled, false, "0x2 ACCOUNTDISABLE")
        XCTAssertEqual(account.passwordNotRequired, true, "0x20")
        XCTAssertEqual(account.passwordNeverExpires, true, "0x10000")
        XCTAssertEqual(account.locked, true, "from msDS-User-Account-Control-Computed")
        XCTAssertTrue(account.mustChangePassword, "pwdLastSet 0 means must change, not ancient")
        XCTAssertNil(account.passwordLastSet)
        XCTAssertEqual(account.expired, false, "accountExpires 0 means never")
        XCTAssertEqual(account.lastLogonMayLagDays, 14)
    }

    func testContactsHaveNoAccount() throws {
        let member = try DirectoryProfile(kind: .activeDirectory).member(from: entry([
            ("objectClass", "contact"), ("cn", "Cllr X"), ("targetAddress", "SMTP:x@council.test"),
        ]))
        XCTAssertEqual(member.kind, .contact)
        XCTAssertNil(member.account)
        XCTAssertEqual(member.externalAddress, "x@council.test")
        XCTAssertEqual(member.effectiveAddress, "x@council.test")
    }

    func testMalformedValuesAreErrorsNamingTheAttribute() {
        let profile = DirectoryProfile(kind: .activeDirectory)
        XCTAssertThrowsError(try profile.member(from: entry([("objectClass", "user"), ("userAccountControl", "lots")])))
        XCTAssertThrowsError(try profile.member(from: entry([("objectClass", "user")], binary: ["objectGUID": [1, 2, 3]]))) { error in
            XCTAssertTrue("\(error)".contains("objectGUID"), "\(error)")
        }
        XCTAssertThrowsError(try profile.member(from: entry([("objectClass", "user")], binary: ["title": [0xFF, 0xFE]]))) { error in
            XCTAssertEqual(error as? DirectoryError, .undecodable(dn: "CN=Test,DC=cpca,DC=test", attribute: "title", why: "the value is not UTF-8 text"))
        }
    }

    func testOpenLDAPPasswordPolicyStates() throws {
        let profile = DirectoryProfile(kind: .openldap)
        let disabled = try profile.member(from: entry([("objectClass", "inetOrgPerson"), ("uid", "d"), ("pwdAccountLockedTime", "000001010000Z")]))
        XCTAssertEqual(disabled.account?.enabled, false)
        XCTAssertEqual(disabled.account?.state, "disabled")
        XCTAssertEqual(disabled.account?.locked, false)
        let locked = try profile.member(from: entry([("objectClass", "inetOrgPerson"), ("uid", "l"), ("pwdAccountLockedTime", "20261121101500Z")]))
        XCTAssertEqual(locked.account?.state, "locked")
        let contact = try profile.member(from: entry([("objectClass", "inetOrgPerson"), ("cn", "C"), ("mail", "c@x.test")]))
        XCTAssertEqual(contact.kind, .contact, "no uid: a contact")
    }
}

final class LDAPFilterTests: XCTestCase {
    /// As ssh does with keys: a password file others can read is refused, with the fix.
    func testAPasswordFileOthersCanReadIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("password-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "s3cret\n".write(to: file, atomically: true, encoding: .utf8)
        chmod(file.path, 0o644)
        let source = DirectoryConfiguration.SecretSource.file(file.path)
        XCTAssertThrowsError(try source.read()) { error in
            XCTAssertTrue("\(error)".contains("chmod 600") && "\(error)".contains("644"), "\(error)")
        }
        chmod(file.path, 0o640)
        XCTAssertThrowsError(try source.read(), "group-readable is refused too")
        chmod(file.path, 0o600)
        XCTAssertEqual(try source.read(), "s3cret")
    }

    func testDuplicateMemberIDsAreRefused() {
        let read = DirectoryRead(members: [Member(id: "1", dn: "CN=A", kind: .contact), Member(id: "1", dn: "CN=B", kind: .contact),
                                           Member(id: "2", dn: "CN=C", kind: .contact)],
                                 profile: .openldap, source: "d.ldif", warnings: [])
        XCTAssertThrowsError(try read.refuseDuplicateIDs()) { error in
            XCTAssertTrue("\(error)".contains("CN=A") && "\(error)".contains("CN=B"), "\(error)")
        }
    }

    func testRFC4515Escaping() {
        XCTAssertEqual(LDAPFilter.escape("CN=Members (All)*,DC=x"), "CN=Members \\28All\\29\\2a,DC=x")
        XCTAssertEqual(LDAPFilter.escape("back\\slash\u{0}"), "back\\5cslash\\00")
        XCTAssertEqual(LDAPFilter.escape("Jürgen"), "J\\c3\\bcrgen")
        XCTAssertEqual(LDAPFilter.equals("mail", "*)(uid=*"), "(mail=\\2a\\29\\28uid=\\2a)")
    }
}

final class ConfigurationTests: XCTestCase {
    private func directory(_ yaml: String) throws -> DirectoryConfiguration {
        let root = try YAMLMapping.parse(yaml, file: "site.yaml")
        return try DirectoryConfiguration.read(try XCTUnwrap(try root.mapping("directory")))
    }

    private func assertConfigError(_ yaml: String, line: Int, key: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try directory(yaml), file: file, line: lineNumber) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.file, "site.yaml", file: file, line: lineNumber)
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: lineNumber)
        }
    }

    func testErrorsNameFileLineAndKey() {
        assertConfigError("directory:\n  url: ldaps://x\n  baseDN: dc=x\n  members: {group: cn=g}\n  pasword: {env: X}\n", line: 5, key: "directory.pasword")
        assertConfigError("directory:\n  url: ldaps://x\n  baseDN: dc=x\n  members: {group: cn=g}\n  password: hunter2\n", line: 5, key: "directory.password")
        assertConfigError("directory:\n  url: http://x\n", line: 2, key: "directory.url")
        assertConfigError("directory:\n  url: ldaps://x\n  baseDN: dc=x\n", line: 2, key: "directory.members")
        assertConfigError("directory:\n  url: ldaps://x\n  baseDN: dc=x\n  members:\n    filter: objectClass=user\n", line: 5, key: "directory.members.filter")
        assertConfigError("directory:\n  url: ldaps://x\n  baseDN: dc=x\n  pageSize: many\n  members: {group: g}\n", line: 4, key: "directory.pageSize")
        assertConfigError("directory:\n  ldif: m.ldif\n  url: ldaps://x\n", line: 3, key: "directory.url")
    }

    func testYAMLSyntaxErrorHasALine() {
        XCTAssertThrowsError(try YAMLMapping.parse("directory:\n  url: [unclosed\n  baseDN: x\n", file: "site.yaml")) { error in
            XCTAssertNotNil((error as? ConfigError)?.line, "\(error)")
        }
    }

    func testSecretsComeFromEnvironmentOrFile() throws {
        let config = try directory("directory:\n  url: ldaps://x\n  baseDN: dc=x\n  bindDN: cn=a\n  password: {env: MAILAUDIT_TEST_UNSET_VARIABLE}\n  members: {group: cn=g}\n")
        guard case let .ldap(source) = config.source else { return XCTFail() }
        XCTAssertEqual(source.password, .environment("MAILAUDIT_TEST_UNSET_VARIABLE"))
        XCTAssertThrowsError(try source.password?.read()) { error in
            XCTAssertTrue("\(error)".contains("MAILAUDIT_TEST_UNSET_VARIABLE"))
        }
    }
}

final class AccountClassifierTests: XCTestCase {
    func testClasses() {
        let classifier = AccountClassifier(organisationDomains: ["cpca.test"], personalDomains: ["gmail.com", "btinternet.com"])
        XCTAssertEqual(classifier.classify("a@cpca.test"), .organisation)
        XCTAssertEqual(classifier.classify("a@members.cpca.test"), .organisation)
        XCTAssertEqual(classifier.classify("a@notcpca.test"), .external)
        XCTAssertEqual(classifier.classify("A@GMAIL.COM"), .personal)
        XCTAssertEqual(classifier.classify("a@council.gov.uk"), .external)
        XCTAssertEqual(classifier.classify(nil), .noAddress)
        XCTAssertEqual(classifier.classify("no-at-sign"), .noAddress)
    }

    func testShippedPolicyAndListLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let policy = try MemberEmailPolicy.load(file: root.appendingPathComponent("policies/cpca-member-email.yaml").path)
        XCTAssertEqual(policy.classifier.classify("someone@btinternet.com"), .personal)
        XCTAssertEqual(policy.classifier.classify("someone@googlemail.com"), .personal)
        XCTAssertEqual(policy.classifier.classify("clerk@cambridgeshirepeterborough-ca.gov.uk"), .organisation)
        let demo = try MemberEmailPolicy.load(file: root.appendingPathComponent("examples/demo-policy.yaml").path)
        XCTAssertEqual(demo.classifier.classify("mayor@cpca.test"), .organisation)
    }

    func testAListSavedOnWindowsReads() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("list-\(UUID().uuidString).txt")
        try "gmail.com\r\n# a comment\r\nOutlook.com\r\n\r\nnot a domain\r\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try AccountClassifier.readDomainList(file: file.path)) { error in
            XCTAssertEqual((error as? ConfigError)?.line, 5)
        }
        try "gmail.com\r\n# a comment\r\nOutlook.com\r\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try AccountClassifier.readDomainList(file: file.path), ["gmail.com", "outlook.com"])
    }

    func testMalformedListNamesTheLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("list-\(UUID().uuidString).txt")
        try "gmail.com\n# fine\nnot a domain\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try AccountClassifier.readDomainList(file: file.path)) { error in
            XCTAssertEqual((error as? ConfigError)?.line, 3)
        }
    }
}
