import Directory
import Foundation
import XCTest

/// The directory connector against a real OpenLDAP slapd: StartTLS and LDAPS with the test CA,
/// ppolicy states, nested groups (with a cycle), paging past the server's size limit, errors.
final class OpenLDAPDirectoryTests: XCTestCase {
    private func read(_ yaml: String) async throws -> DirectoryRead {
        try await DirectoryReader.read(try DirectoryFixtures.configuration(yaml))
    }

    func testMembersOfNestedGroupsOverStartTLSAndLDAPS() async throws {
        let fixtures = try DirectoryFixtures.load()
        for url in [fixtures.openldapURL, fixtures.openldapsURL] {
            let read = try await read(fixtures.openldapYAML(url: url))
            XCTAssertEqual(read.profile, .openldap, "detected from the rootDSE")
            XCTAssertEqual(Set(read.members.compactMap(\.displayName)), [
                "Morgan Mayor", "Dana Deputy", "Lee Locked", "Robin Reset", "Sam Stale",
                "Cllr Casey Council", "Pat Business", "Cllr Gail Mail", "Cllr Sid Slow",
            ], url)
            XCTAssertTrue(read.warnings.isEmpty)
        }
    }

    func testAccountStatesFromPasswordPolicy() async throws {
        let fixtures = try DirectoryFixtures.load()
        let members = Dictionary(uniqueKeysWithValues: try await read(fixtures.openldapYAML()).members.map { ($0.displayName ?? "", $0) })
        let mayor = try XCTUnwrap(members["Morgan Mayor"]?.account)
        XCTAssertEqual(mayor.state, "enabled")
        let lastLogon = try XCTUnwrap(mayor.lastLogon, "pwdLastSuccess with a fraction of a second")
        XCTAssertEqual(Date().timeIntervalSince(lastLogon) / 86_400, 2, accuracy: 1)
        XCTAssertEqual(members["Dana Deputy"]?.account?.state, "disabled")
        XCTAssertEqual(members["Lee Locked"]?.account?.state, "locked")
        XCTAssertEqual(members["Robin Reset"]?.account?.mustChangePassword, true)
        XCTAssertEqual(members["Pat Business"]?.kind, .contact)
        XCTAssertNil(members["Pat Business"]?.account)
        XCTAssertTrue(members["Morgan Mayor"]?.groups.contains { $0.lowercased().hasPrefix("cn=mfa enforced") } ?? false,
                      "group memberships for the MFA control")
        XCTAssertFalse(members["Morgan Mayor"]?.id.isEmpty ?? true)
        XCTAssertNotEqual(members["Morgan Mayor"]?.id, members["Morgan Mayor"]?.dn, "entryUUID, not the DN")
    }

    func testPagingReadsPastTheServerSizeLimit() async throws {
        let fixtures = try DirectoryFixtures.load()
        guard fixtures.openldapBulk > 1000 else { throw XCTSkip("fixture started with too few bulk entries") }
        // By filter under a base, and by group: both more than the 1000 the server returns at once.
        let byFilter = try await read(fixtures.openldapYAML(members: "{base: \"ou=bulk,dc=cpca,dc=test\", filter: \"(title=Committee Member)\"}",
                                                            extra: "  pageSize: 300"))
        XCTAssertEqual(byFilter.members.count, fixtures.openldapBulk)
        let byGroup = try await read(fixtures.openldapYAML(members: "{group: \"cn=Bulk Members,ou=groups,dc=cpca,dc=test\"}"))
        XCTAssertEqual(byGroup.members.count, fixtures.openldapBulk)
        XCTAssertEqual(Set(byGroup.members.map(\.id)).count, fixtures.openldapBulk, "no entry twice")
    }

    func testAPageLargerThanTheServerAllowsIsAnErrorNotAPartialList() async throws {
        let fixtures = try DirectoryFixtures.load()
        guard fixtures.openldapBulk > 1000 else { throw XCTSkip("fixture started with too few bulk entries") }
        do {
            _ = try await read(fixtures.openldapYAML(members: "{base: \"ou=bulk,dc=cpca,dc=test\", filter: \"(uid=*)\"}", extra: "  pageSize: 2000"))
            XCTFail("expected a limit error")
        } catch let error as DirectoryError {
            guard case .limit = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(fixtures.openldapURL), "\(error)")
        }
    }

    func testFailuresNameTheServerAndCause() async throws {
        let fixtures = try DirectoryFixtures.load()
        setenv("MAILAUDIT_TEST_WRONG_PASSWORD", "wrong", 1)
        let cases: [(String, (DirectoryError) -> Bool)] = [
            (fixtures.openldapYAML().replacingOccurrences(of: "MAILAUDIT_TEST_LDAP_PASSWORD", with: "MAILAUDIT_TEST_WRONG_PASSWORD"),
             { if case .bind = $0 { return true } else { return false } }),
            (fixtures.openldapYAML(caFile: fixtures.otherCAFile), { if case .tls = $0 { return true } else { return false } }),
            (fixtures.openldapYAML(url: "ldap://127.0.0.1:9"), { if case .connect = $0 { return true } else { return false } }),
            (fixtures.openldapYAML(url: "ldaps://127.0.0.1:9"), { if case .tls = $0 { return true } else { return false } }),
            (fixtures.openldapYAML(members: "{group: \"cn=No Such Group,ou=groups,dc=cpca,dc=test\"}"),
             { "\($0)".contains("No Such Group") }),
            (fixtures.openldapYAML(members: "{group: \"cn=Broken Members,ou=groups,dc=cpca,dc=test\"}",
                                   extra: "  attributes: {role: jpegPhoto}"),
             { $0 == .undecodable(dn: "uid=broken,ou=people,dc=cpca,dc=test", attribute: "jpegPhoto", why: "the value is not UTF-8 text") }),
        ]
        for (yaml, matches) in cases {
            do {
                let read = try await read(yaml)
                XCTFail("expected an error, read \(read.members.count) Members")
            } catch let error as DirectoryError {
                XCTAssertTrue(matches(error), "\(error)")
            }
        }
    }

    func testPlainLDAPOnlyWhenAllowedAndThenWarned() async throws {
        let fixtures = try DirectoryFixtures.load()
        // The server demands TLS for simple binds, as a hardened directory does: allowed or not,
        // plain LDAP gets no Member list out of it, and the configuration is warned about.
        do {
            _ = try await read(fixtures.openldapYAML(extra: "  allowInsecure: true"))
            XCTFail("the server should refuse a bind without TLS")
        } catch let error as DirectoryError {
            XCTAssertTrue("\(error)".lowercased().contains("confidentiality"), "\(error)")
        }
        let config = try DirectoryFixtures.configuration(fixtures.openldapYAML(extra: "  allowInsecure: true"))
        XCTAssertTrue(config.isInsecure)
    }
}
