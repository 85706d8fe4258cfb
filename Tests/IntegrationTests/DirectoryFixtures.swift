import ConfigFile
import Directory
import Foundation
import XCTest

/// The directory servers started by scripts/fixtures/start-openldap and start-samba.
struct DirectoryFixtures {
    let openldapURL: String
    let openldapsURL: String
    let openldapBulk: Int
    let password: String
    let caFile: String
    let otherCAFile: String
    let sambaURL: String?
    let sambaPassword: String?

    static func load(file: StaticString = #filePath, line: UInt = #line) throws -> DirectoryFixtures {
        let fixtures = try Fixtures.load(file: file, line: line)
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["MAILAUDIT_TEST_OPENLDAP_URL"], let secure = environment["MAILAUDIT_TEST_OPENLDAPS_URL"] else {
            if environment["MAILAUDIT_REQUIRE_FIXTURES"] != nil { XCTFail("slapd is not running", file: file, line: line) }
            throw XCTSkip("slapd not running; ./scripts/test starts it")
        }
        return DirectoryFixtures(openldapURL: url, openldapsURL: secure,
                                 openldapBulk: Int(environment["MAILAUDIT_TEST_OPENLDAP_BULK"] ?? "") ?? 0,
                                 password: environment["MAILAUDIT_TEST_LDAP_PASSWORD"] ?? "",
                                 caFile: fixtures.caFile, otherCAFile: fixtures.otherCAFile,
                                 sambaURL: environment["MAILAUDIT_TEST_SAMBA_URL"],
                                 sambaPassword: environment["MAILAUDIT_TEST_SAMBA_PASSWORD"])
    }

    /// The YAML of an OpenLDAP directory section, with overrides.
    func openldapYAML(url: String? = nil, caFile: String? = nil, members: String = "{group: \"cn=Members,ou=groups,dc=cpca,dc=test\"}",
                      extra: String = "") -> String {
        """
        directory:
          url: \(url ?? openldapURL)
          caFile: \(caFile ?? self.caFile)
          bindDN: cn=mailaudit,ou=service,dc=cpca,dc=test
          password: {env: MAILAUDIT_TEST_LDAP_PASSWORD}
          baseDN: dc=cpca,dc=test
          members: \(members)
        \(extra)
        """
    }

    static func configuration(_ yaml: String) throws -> DirectoryConfiguration {
        let root = try YAMLMapping.parse(yaml, file: "site.yaml")
        return try DirectoryConfiguration.read(try XCTUnwrap(try root.mapping("directory")))
    }
}
