import ArgumentParser
import ConfigFile
import Directory
import Foundation
import Policy
import Register
import Report
import Site

/// `mailaudit config check`: everything a run needs, checked without checking any domain.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the site's configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read and validate site.yaml, the policy, its baseline, checklist and lists, open the register and read the directory.",
            discussion: """
            Says what each part is and whether it is good, one line each, without checking any mail \\
            domain and without sending mail (notify: is checked for its password): for a new site, \\
            after an edit, or before the monthly timer runs. Exit 0 only when \\
            every part is good, else 2 (the first problem of each part is named with its file, line and key).

            Example:
              mailaudit config check --config site.yaml
            """)

        @Option(name: .long, help: ArgumentHelp("The site configuration.", valueName: "path")) var config: String

        func run() async throws {
            var failures = 0
            func say(_ ok: Bool, _ part: String, _ text: String) {
                if !ok { failures += 1 }
                // Text from the files (a bad value quoted in an error) is shown safely.
                print("\(ok ? "ok  " : "FAIL") \(part): \(TerminalText.sanitize(text))")
            }
            let site: SiteConfiguration
            do {
                site = try SiteConfiguration.load(config)
                say(true, "site", "\(config)")
            } catch {
                say(false, "site", "\(error)")
                throw ExitCode(2)
            }
            do {
                let loaded = try MemberEmailPolicy.load(file: site.policyFile)
                say(true, "policy", "\(loaded.file): \(loaded.implements)")
                say(true, "baseline", "\(loaded.baseline.file): \(loaded.baseline.name)")
                say(true, "checklist", "\(loaded.checklist.file): \(loaded.checklist.questions.count) questions")
                say(true, "personal webmail list", "\(loaded.classifier.personalDomains.count) domains")
                do { try site.validate(against: loaded); say(true, "site and policy together", "consistent") } catch {
                    say(false, "site and policy together", "\(error)")
                }
            } catch {
                say(false, "policy", "\(error)")
            }
            do {
                let register = try SiteContext.openRegister(site)
                let integrity = try register.integrityCheck()
                let runs = try register.runs().count
                say(integrity == "ok", "register", "\(site.registerFile): integrity \(integrity), \(runs) run\(runs == 1 ? "" : "s") recorded")
            } catch {
                say(false, "register", "\(error)")
            }
            do {
                let read = try await DirectoryReader.read(site.directory)
                say(true, "directory", "\(read.members.count) Members read from \(read.source)"
                    + (read.warnings.isEmpty ? "" : " (\(read.warnings.count) warning\(read.warnings.count == 1 ? "" : "s"): \(read.warnings.joined(separator: "; ")))"))
            } catch {
                say(false, "directory", "\(error)")
            }
            // The mail settings: the password is found and readable; nothing is sent.
            if let notify = site.notify {
                do {
                    let password = try notify.password()
                    let recipients = notify.recipients.count
                    say(true, "notify", "\(notify.server), \(recipients) recipient\(recipients == 1 ? "" : "s"), when: \(notify.when.rawValue)"
                        + (password == nil ? ", no authentication" : ", the password found (\(notify.passwordEnv.map { "$\($0)" } ?? notify.passwordFile ?? ""))")
                        + "; nothing sent (audit --print-mail shows the message)")
                } catch {
                    say(false, "notify", "\(error)")
                }
            }
            if failures > 0 {
                FileHandle.standardError.write(Data("mailaudit: \(failures) part\(failures == 1 ? "" : "s") of the configuration \(failures == 1 ? "is" : "are") not good\n".utf8))
                throw ExitCode(2)
            }
        }
    }
}
