import XCTest
@testable import MailDomain

/// A provider is told from an MX host or SPF include that is its suffix or a name below it,
/// never from a name that only ends with the same letters.
final class KnownMailProviderTests: XCTestCase {
    func testAHostMatchesItsSuffixAndNamesBelowItOnly() {
        let suffix = "mail.protection.outlook.com"
        for host in [suffix, "contoso-com.mail.protection.outlook.com", "a.b.mail.protection.outlook.com"] {
            XCTAssertTrue(KnownMailProvider.hostMatches(host, suffix: suffix), host)
        }
        for host in ["", "outlook.com", "evilmail.protection.outlook.com", "mail.protection.outlook.com.evil.test",
                     "mail.protection.outlook.co", "xmail.protection.outlook.com"] {
            XCTAssertFalse(KnownMailProvider.hostMatches(host, suffix: suffix), host)
        }
        XCTAssertTrue(KnownMailProvider.hostMatches("aspmx.l.google.com", suffix: "google.com"))
        XCTAssertFalse(KnownMailProvider.hostMatches("google.com", suffix: "aspmx.l.google.com"))
    }
}
