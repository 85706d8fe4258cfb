import Directory
import Foundation
import XCTest

/// The directory connector against a real Active Directory domain controller (Samba 4).
final class ActiveDirectoryTests: XCTestCase {
    private func yaml(_ fixtures: DirectoryFixtures, url: String? = nil, group: String = "CN=Members (All),OU=Groups,DC=cpca,DC=test",
                      extra: String = "") throws -> String {
        guard let samba = fixtures.sambaURL else { throw XCTSkip("samba not running") }
        setenv("MAILAUDIT_TEST_SAMBA_PASSWORD", fixtures.sambaPassword ?? "", 1)
        return """
        directory:
          url: \(url ?? samba)
          caFile: \(fixtures.caFile)
          bindDN: mailaudit@cpca.test
          password: {env: MAILAUDIT_TEST_SAMBA_PASSWORD}
          baseDN: DC=cpca,DC=test
          members: {group: "\(group)"}
        \(extra)
        """
    }

    private func sambaFixtures() throws -> DirectoryFixtures {
        let fixtures = try DirectoryFixtures.load()
        if fixtures.sambaURL == nil {
            if ProcessInfo.processInfo.environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("samba is not running") }
            throw XCTSkip("samba not running; ./scripts/test starts it")
        }
        return fixtures
    }

    func testNestedGroupMembersOverLDAPSAndStartTLS() async throws {
        let fixtures = try sambaFixtures()
        let startTLS = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_SAMBA_STARTTLS_URL"]
        for url in [fixtures.sambaURL, startTLS].compactMap({ $0 }) {
            let read = try await DirectoryReader.read(try DirectoryFixtures.configuration(try yaml(fixtures, url: url)))
            XCTAssertEqual(read.profile, .activeDirectory, "detected from the rootDSE's supportedCapabilities")
            // The group's name has parentheses: it reaches the in-chain filter escaped (RFC 4515).
            XCTAssertEqual(Set(read.members.map { $0.dn.components(separatedBy: ",")[0] }), [
                "CN=mayor", "CN=deputy", "CN=locked", "CN=forever", "CN=reset", "CN=expired",
                "CN=Cllr Casey Council", "CN=Pat Business",
            ], url)
        }
    }

    func testAccountStatesFromRealADAttributes() async throws {
        let fixtures = try sambaFixtures()
        let read = try await DirectoryReader.read(try DirectoryFixtures.configuration(try yaml(fixtures)))
        let byName = Dictionary(uniqueKeysWithValues: read.members.map { ($0.dn.components(separatedBy: ",")[0], $0) })
        let mayor = try XCTUnwrap(byName["CN=mayor"])
        XCTAssertEqual(mayor.account?.state, "enabled")
        XCTAssertEqual(mayor.email, "mayor@cpca.test")
        XCTAssertEqual(mayor.role, "Mayor")
        XCTAssertNotNil(UUID(uuidString: mayor.id), "objectGUID as a GUID: \(mayor.id)")
        XCTAssertNotNil(mayor.account?.passwordLastSet)
        XCTAssertTrue(mayor.groups.contains("CN=MFA Enforced,OU=Groups,DC=cpca,DC=test"), "\(mayor.groups)")
        XCTAssertEqual(byName["CN=deputy"]?.account?.state, "disabled")
        XCTAssertEqual(byName["CN=locked"]?.account?.locked, true, "from msDS-User-Account-Control-Computed")
        XCTAssertEqual(byName["CN=forever"]?.account?.passwordNeverExpires, true)
        XCTAssertEqual(byName["CN=reset"]?.account?.mustChangePassword, true, "pwdLastSet = 0")
        XCTAssertNil(byName["CN=reset"]?.account?.passwordLastSet)
        XCTAssertEqual(byName["CN=expired"]?.account?.state, "expired")
        let casey = try XCTUnwrap(byName["CN=Cllr Casey Council"])
        XCTAssertEqual(casey.kind, .contact)
        XCTAssertEqual(casey.email, "casey@good.test")
        XCTAssertEqual(casey.externalAddress, "casey.forward@good.test")
        XCTAssertNil(casey.account)
    }

    func testSimpleBindWithoutTLSIsRefusedByTheServer() async throws {
        let fixtures = try sambaFixtures()
        let plain = ProcessInfo.processInfo.environment["MAILAUDIT_TEST_SAMBA_STARTTLS_URL"] ?? ""
        do {
            _ = try await DirectoryReader.read(try DirectoryFixtures.configuration(try yaml(fixtures, url: plain, extra: "  allowInsecure: true")))
            XCTFail("a hardened AD refuses simple binds without TLS")
        } catch let error as DirectoryError {
            guard case .bind = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(plain), "\(error)")
        }
    }
}
