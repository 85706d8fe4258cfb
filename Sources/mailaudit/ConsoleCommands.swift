import ArgumentParser
import Console
import Foundation
import Register
import Report
import Site

extension ConsoleRole: ExpressibleByArgument {}

/// `mailaudit users`: the console's users. There is no self-registration: the ICT provider adds
/// each user here, on the machine that holds the register.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Add, list, disable or reset the web console's users.",
        discussion: """
        Roles: monitoring-officer (decides exceptions), ict-provider (records assessments), viewer \
        (reads). Each user signs in with a password and a one-time code from an authenticator app \
        (TOTP, RFC 6238): 'users add' and 'users reset' print the otpauth:// address once (and a QR \
        code on a terminal, with Debian's qrencode). The password is read from the terminal (not \
        echoed, asked twice) or from the first line of standard input, never from the command line.

        Examples:
          mailaudit users add jane.doe --role monitoring-officer --config site.yaml
          printf '%s\\n' "$PASSWORD" | mailaudit users add ict.desk --role ict-provider --config site.yaml
          mailaudit users list --config site.yaml
          mailaudit users disable jane.doe --config site.yaml
          mailaudit users reset jane.doe --config site.yaml
        """,
        subcommands: [Add.self, List.self, Disable.self, Enable.self, Reset.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user (the password from the terminal or standard input).")
        @Argument(help: "The username: letters, digits, '.', '-', '_'.") var username: String
        @Option(name: .long, help: "monitoring-officer, ict-provider or viewer.") var role: ConsoleRole
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            let context = try UsersCommand.open(config)
            let password = try PasswordInput.read(prompt: "Password for \(username)")
            let credentials = try UsersCommand.make(username, password, context)
            do {
                try context.register.addUser(username: username, role: role.rawValue, passwordHash: credentials.passwordHash,
                                             totpSecret: credentials.totpSecret, at: Date())
            } catch let error as RegisterError { throw CommandFailure(error.description) }
            UsersCommand.show(credentials, for: username, role: role)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users, their roles and whether they are disabled or locked.")
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            let users = try UsersCommand.open(config).register.consoleUsers()
            let now = Date()
            var lines = users.isEmpty ? ["No users yet: add one with mailaudit users add NAME --role ROLE --config FILE"] : []
            for user in users {
                var state = user.disabled ? "disabled" : "active"
                if let until = user.lockedUntil, until > now { state += ", locked until \(ISO8601DateFormatter().string(from: until))" }
                lines.append("\(TerminalText.sanitize(user.username).padding(toLength: 24, withPad: " ", startingAt: 0)) "
                             + "\(user.role.padding(toLength: 19, withPad: " ", startingAt: 0)) \(state)")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: their sessions end at once and they cannot sign in.")
        @Argument(help: "The username.") var username: String
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            do { try UsersCommand.open(config).register.setUserDisabled(username, true) } catch let error as RegisterError { throw CommandFailure(error.description) }
            print("\(username) is disabled.")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")
        @Argument(help: "The username.") var username: String
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            do { try UsersCommand.open(config).register.setUserDisabled(username, false) } catch let error as RegisterError { throw CommandFailure(error.description) }
            print("\(username) is enabled.")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user a new password and a new one-time-code secret (ends the lock and their sessions).")
        @Argument(help: "The username.") var username: String
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            let context = try UsersCommand.open(config)
            guard let user = try context.register.consoleUser(username) else { throw CommandFailure("no user \(username)") }
            let password = try PasswordInput.read(prompt: "New password for \(username)")
            let credentials = try UsersCommand.make(username, password, context)
            do {
                try context.register.resetUser(username, passwordHash: credentials.passwordHash, totpSecret: credentials.totpSecret)
            } catch let error as RegisterError { throw CommandFailure(error.description) }
            UsersCommand.show(credentials, for: username, role: ConsoleRole(rawValue: user.role) ?? .viewer)
        }
    }

    static func open(_ config: String) throws -> SiteContext { try SiteSupport.context(config) }

    static func make(_ username: String, _ password: String, _ context: SiteContext) throws -> ConsoleAccounts.Credentials {
        do {
            return try ConsoleAccounts.make(username: username, password: password, issuer: "mailaudit (\(context.policy.organisationName))")
        } catch let refusal as ConsoleAccounts.Refusal {
            throw CommandFailure(refusal.description)
        }
    }

    /// The otpauth address, once; on a terminal also as a QR code. The secret goes to qrencode
    /// on its standard input, never its command line.
    static func show(_ credentials: ConsoleAccounts.Credentials, for username: String, role: ConsoleRole) {
        print("""
        \(username) (\(role.rawValue)) can sign in once their authenticator app holds this address (shown only now):
        \(credentials.otpauthURI)
        """)
        guard isatty(STDOUT_FILENO) == 1, FileManager.default.isExecutableFile(atPath: "/usr/bin/qrencode") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qrencode")
        process.arguments = ["-t", "ANSIUTF8", "-m", "2"]
        let input = Pipe()
        process.standardInput = input
        do {
            try process.run()
            input.fileHandleForWriting.write(Data(credentials.otpauthURI.utf8))
            try input.fileHandleForWriting.close()
            process.waitUntilExit()
        } catch {
            print("(no QR code: \(error.localizedDescription))")
        }
    }
}

/// A password from the terminal (not echoed, asked twice) or the first line of standard input.
enum PasswordInput {
    static func read(prompt: String) throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            let first = try readHidden("\(prompt): ")
            let second = try readHidden("Again: ")
            guard first == second else { throw CommandFailure("the two passwords differ; nothing was changed") }
            return first
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandFailure("no password on standard input (give it as its first line, or run on a terminal)")
        }
        return line
    }

    private static func readHidden(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password given; nothing was changed") }
        return line
    }
}

/// `mailaudit serve`: the web console.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web console over the register: dashboard, Members, decisions, runs.",
        discussion: """
        Signed-in users (see 'mailaudit users') read the latest run, each Member's findings and \
        history, the organisations and every run's report; the Monitoring Officer decides and \
        revokes exceptions there, recorded under their own name. On a loopback address it serves \
        plain HTTP; any other address needs console.tls (certificate and key) in site.yaml, or \
        console.behindProxy: true with the reverse proxy's proxyAddress (see the README for nginx).

        Example:
          mailaudit serve --config site.yaml --listen 127.0.0.1:8080
        """)

    @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
    @Option(name: .long, help: ArgumentHelp("Address and port to listen on.", valueName: "host:port")) var listen = "127.0.0.1:8080"

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (1...65_535).contains(port) else {
            throw ValidationError("--listen takes host:port, e.g. 127.0.0.1:8080 (got \(listen))")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let context = try SiteSupport.context(config)
        let server: ConsoleServer
        do { server = try ConsoleServer(site: context, host: host, port: port) } catch let refusal as ConsoleServer.Refusal {
            throw CommandFailure(refusal.description)
        }
        if try context.register.consoleUsers().isEmpty {
            FileHandle.standardError.write(Data("mailaudit: warning: no console user yet: add one with mailaudit users add NAME --role ROLE --config \(config)\n".utf8))
        }
        try await server.run { url in
            FileHandle.standardError.write(Data("mailaudit console listening on \(url)\n".utf8))
        }
    }
}
