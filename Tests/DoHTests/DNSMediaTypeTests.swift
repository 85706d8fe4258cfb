import XCTest
@testable import DoH

/// An answer is read only when its Content-Type is RFC 8484's, whatever its case, spacing or
/// parameters; anything else is refused.
final class DNSMediaTypeTests: XCTestCase {
    func testTheMediaTypeIsRecognisedWithItsVariationsAndNothingElse() {
        for accepted in ["application/dns-message", "Application/DNS-Message", "application/dns-message; charset=binary",
                         " application/dns-message ", "application/dns-message;", "\tapplication/dns-message\t;x=1"] {
            XCTAssertTrue(DNSMediaType.isDNSMessage(accepted), accepted)
        }
        for refused in [nil, "", "application/dns", "application/dns-messages", "application/dns-message-x", "text/html",
                        "application/dns-json", ";application/dns-message", "application/dns\u{2010}message", "applicatİon/dns-message",
                        "application/dns-messagé"] as [String?] {
            XCTAssertFalse(DNSMediaType.isDNSMessage(refused), refused ?? "nil")
        }
    }
}
