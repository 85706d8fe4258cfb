import Crypto
import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import Register

/// What a console user may do. No self-registration: users are added on the command line.
public enum ConsoleRole: String, CaseIterable, Sendable {
    /// Decides exceptions.
    case monitoringOfficer = "monitoring-officer"
    /// Records 10-minute assessments.
    case ictProvider = "ict-provider"
    /// Reads.
    case viewer

    public var label: String {
        switch self {
        case .monitoringOfficer: "Monitoring Officer"
        case .ictProvider: "ICT provider"
        case .viewer: "viewer"
        }
    }
}

/// Passwords (bcrypt, cost 12) and one-time codes (TOTP, RFC 6238: 6 digits, 30 s, SHA-1, as
/// authenticator apps expect). `users add` and `users reset` make the credentials, the sign-in
/// checks them, both here.
public enum ConsoleAccounts {
    public static let bcryptCost: UInt8 = 12
    public static let minimumPasswordLength = 12
    static let base32Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public struct Credentials: Sendable {
        public var passwordHash: String
        public var totpSecret: String
        /// otpauth://totp/...: shown once, for an authenticator app.
        public var otpauthURI: String
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Usernames are plain: letters, digits, '.', '-', '_' (they appear in logs and decisions).
    public static func validate(username: String) throws {
        guard (2...64).contains(username.count),
              username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) }) else {
            throw Refusal(description: "a username is 2 to 64 letters, digits, '.', '-' or '_' (got \(username.debugDescription))")
        }
    }

    public static func make(username: String, password: String, issuer: String) throws -> Credentials {
        try validate(username: username)
        guard password.count >= minimumPasswordLength else {
            throw Refusal(description: "the password must have at least \(minimumPasswordLength) characters")
        }
        var generator = SystemRandomNumberGenerator()
        // The key is the UTF-8 of this string (HummingbirdOTP's convention); the URI carries it base32-encoded.
        let secret = String((0..<32).map { _ in base32Alphabet[Int(generator.next(upperBound: UInt32(base32Alphabet.count)))] })
        let uri = TOTP(secret: secret).createAuthenticatorURL(label: "mailaudit:\(username)", issuer: issuer)
        return Credentials(passwordHash: Bcrypt.hash(password, cost: bcryptCost), totpSecret: secret, otpauthURI: uri)
    }

    public static func passwordMatches(_ password: String, user: AuditRegister.ConsoleUser) -> Bool {
        Bcrypt.verify(password, hash: user.passwordHash)
    }

    /// The time step of a code that is right now (or one step either side, for clock drift), or nil.
    public static func totpStep(of code: String, secret: String, now: Date) -> Int64? {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, let value = Int(digits) else { return nil }
        let totp = TOTP(secret: secret)
        let current = Int64(now.timeIntervalSince1970 / 30)
        for step in [current, current - 1, current + 1] where totp.compute(date: Date(timeIntervalSince1970: Double(step) * 30)) == value {
            return step
        }
        return nil
    }

    /// A random token for a cookie or a form: 32 bytes, URL-safe base64.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// What the register keeps of a session cookie: its SHA-256, so a copy of the register opens no session.
    public static func tokenHash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
