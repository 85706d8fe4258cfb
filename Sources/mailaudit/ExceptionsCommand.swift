import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Policy
import Register
import Report

struct ExceptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exceptions",
        abstract: "The Monitoring Officer's exceptions: accept a shortfall until a date, on the record.",
        discussion: """
        Decisions are never edited: a revocation or a renewal is a new decision, so the history of \
        who decided what, and when, survives (mailaudit register export writes it all). An expired \
        or revoked exception brings the finding back, and the report says it expired.

        Examples:
          mailaudit exceptions list --config site.yaml --expiring-within 30d
          mailaudit exceptions grant --config site.yaml --member mary.oneill@slow.test --controls dmarc,mta-sts \\
              --reason "Council moving to Microsoft 365 in March" --decided-by "Monitoring Officer" --until 2027-03-31
          mailaudit exceptions revoke --config site.yaml 3 --reason "Migration done" --decided-by "Monitoring Officer"
        """,
        subcommands: [List.self, Grant.self, Revoke.self])

    static func describe(_ grant: ExceptionGrant, now: Date) -> String {
        let supersedes = grant.supersedes.isEmpty ? "" : "; supersedes " + grant.supersedes.map { "#\($0)" }.joined(separator: ", ")
        let day = { (date: Date) in ISO8601DateFormatter.string(from: date, timeZone: TimeZone(secondsFromGMT: 0)!, formatOptions: [.withFullDate]) }
        var state = grant.isLive(at: now) ? "live" : "expired"
        if let revocation = grant.revocation { state = "revoked \(day(revocation.decidedAt)) by \(revocation.decidedBy): \(revocation.reason)" }
        return "#\(grant.id)  \(TerminalText.sanitize(grant.memberName)) (\(TerminalText.sanitize(grant.memberId)))  \(grant.scope)\n"
            + "     until \(day(grant.expires)); decided \(day(grant.decidedAt)) by \(TerminalText.sanitize(grant.decidedBy)): "
            + "\(TerminalText.sanitize(grant.reason)) [\(state)\(supersedes)]"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List exceptions (live ones, unless --all).")

        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
        @Option(name: .long, help: ArgumentHelp("Only those expiring within this many days, e.g. 30d.", valueName: "days"))
        var expiringWithin: String?
        @Flag(name: .long, help: "Include expired and revoked exceptions.") var all = false
        @Option(name: .long, help: "Output format: text or json.") var format: AuditCommand.Format = .text

        func run() async throws {
            let (_, _, register) = try SiteSupport.open(config)
            let now = Date()
            var grants = try register.exceptions()
            if !all { grants = grants.filter { $0.isLive(at: now) } }
            if let window = expiringWithin {
                guard let days = Int(window.hasSuffix("d") ? String(window.dropLast()) : window), days >= 0 else {
                    throw ValidationError("--expiring-within takes a number of days, e.g. 30d")
                }
                let limit = now.addingTimeInterval(Double(days) * 86_400)
                grants = grants.filter { $0.isLive(at: now) && $0.expires <= limit }
            }
            grants.sort { $0.expires < $1.expires }
            switch format {
            case .json:
                FileHandle.standardOutput.write(try JSONOutput.encode(grants))
                FileHandle.standardOutput.write(Data("\n".utf8))
            case .text:
                let text = grants.isEmpty ? "No exceptions.\n" : grants.map { ExceptionsCommand.describe($0, now: now) }.joined(separator: "\n") + "\n"
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a Monitoring Officer's decision to accept a shortfall until a date.",
            discussion: """
            The grant is checked against what the Member fails in the latest audit run: a control \
            the Member does not fail there, or one the policy only advises (it never counts against \
            them), is refused with the reason. A grant for a control another live grant already \
            accepts supersedes that grant for it (it says "supersedes #N"). Excepting personal \
            webmail (email.personal), which the rule calls never acceptable, needs --confirm-personal. \
            An exception never stands in for a missing, lapsed or failed 10-minute assessment unless \
            it names assessment.current.
            """)

        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
        @Option(name: .long, help: ArgumentHelp("The Member: directory id or email address.", valueName: "id-or-email")) var member: String
        @Option(name: .long, help: ArgumentHelp("Controls accepted, comma-separated (e.g. dmarc,mta-sts).", valueName: "ids")) var controls: String?
        @Flag(name: .long, help: "Accept every required control the Member fails in the latest run (they are listed in the decision).")
        var wholeMember = false
        @Flag(name: .long, help: "Confirm that personal webmail (email.personal) is accepted, against the rule's default.")
        var confirmPersonal = false
        @Option(name: .long, help: "Why the shortfall is accepted (required).") var reason: String
        @Option(name: .long, help: "Who decided (required), e.g. \"Monitoring Officer\".") var decidedBy: String
        @Option(name: .long, help: ArgumentHelp("Last day it applies (YYYY-MM-DD); at most the policy's exceptions.maxMonths ahead.", valueName: "date"))
        var until: String

        func validate() throws {
            guard (controls != nil) != wholeMember else { throw ValidationError("give --controls or --whole-member (one of them)") }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason is required") }
            guard !decidedBy.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--decided-by is required") }
        }

        func run() async throws {
            let (site, policy, register) = try SiteSupport.open(config)
            let now = Date()
            let expires: Date
            do { expires = try GrantCheck.expiry(until, policy: policy, now: now) } catch let refusal as GrantCheck.Refusal {
                throw ValidationError(refusal.description)
            }
            var named: [String] = []
            if let controls {
                named = controls.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                if let unknown = named.first(where: { !Controls.all.contains($0) }) {
                    throw ValidationError("unknown control \"\(unknown)\"; known: \(Controls.all.joined(separator: ", "))")
                }
                guard !named.isEmpty else { throw ValidationError("--controls names no control") }
            }
            let found = try SiteSupport.member(member, in: try await SiteSupport.readDirectory(site))
            let decision: GrantCheck.Decision
            do {
                decision = try GrantCheck.check(memberId: found.id, controls: wholeMember ? nil : named, confirmPersonal: confirmPersonal,
                                                policy: policy, register: register, now: now)
            } catch let error as GrantCheck.Refusal {
                throw CommandFailure(error.description)
            }
            let grant: ExceptionGrant
            do {
                grant = try register.grant(memberId: found.id, memberName: found.displayName ?? found.dn, controls: decision.controls,
                                           reason: reason, decidedBy: decidedBy, at: now, expires: expires, supersedes: decision.supersedes.map(\.id))
            } catch let error as RegisterError {
                throw CommandFailure(error.description)
            }
            var text = "Recorded:\n" + ExceptionsCommand.describe(grant, now: now) + "\n"
                + "Checked against \(decision.checkedAgainst), which the Member fails in \(decision.controls.joined(separator: ", ")).\n"
            for old in decision.supersedes {
                text += "This supersedes #\(old.id) (\(old.scope), until \(DateFormatter.day.string(from: old.expires))) for "
                    + "\(decision.controls.filter(old.names).joined(separator: ", ")).\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the revocation of an exception (the grant itself is kept).")

        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String
        @Argument(help: "The exception's number, as exceptions list shows it.") var id: Int64
        @Option(name: .long, help: "Why (required).") var reason: String
        @Option(name: .long, help: "Who decided (required).") var decidedBy: String

        func run() async throws {
            let (_, _, register) = try SiteSupport.open(config)
            do {
                let grant = try register.revoke(id, reason: reason, decidedBy: decidedBy, at: Date())
                FileHandle.standardOutput.write(Data(("Recorded:\n" + ExceptionsCommand.describe(grant, now: Date()) + "\n").utf8))
            } catch let error as RegisterError {
                throw CommandFailure(error.description)
            }
        }
    }
}

struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register", abstract: "The register of audit runs and decisions.",
                                                    subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write everything the register holds as JSON: runs with each Member's verdict, every exception decision, every assessment.")
        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            let (_, _, register) = try SiteSupport.open(config)
            FileHandle.standardOutput.write(try JSONOutput.encode(try register.export()))
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }
}
