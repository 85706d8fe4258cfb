import ArgumentParser
import ConfigFile
import Curl
import Foundation
import Policy
import Site

/// `--notify` and `--print-mail`, shared by `audit` and `report --run`.
struct NotifyOptions: ParsableArguments {
    @Flag(name: .long, help: "Mail the report to the recipients in site.yaml notify: (as its when: says). A failed send exits 3; the run and the reports are kept.")
    var notify = false

    @Flag(name: .long, help: "Print the message --notify would send (headers, both parts, the attachments) instead of the summary; nothing is sent.")
    var printMail = false

    var wanted: Bool { notify || printMail }

    /// The site's mail settings, checked before any work is done: a run is not made only to
    /// find at its end that it cannot be mailed.
    func mailer(_ site: SiteConfiguration) throws -> ReportMailer? {
        guard wanted else { return nil }
        guard let settings = site.notify else {
            throw ValidationError("--\(notify ? "notify" : "print-mail") needs notify: in \(site.file) (server, from, to; see the README, Running it every month)")
        }
        if notify {
            do { _ = try settings.password() } catch let error as ConfigError { throw CommandFailure(error.description) }
        }
        return ReportMailer(settings)
    }

    /// Prints or sends the message for `result`; the failure to report (exit 3), if any.
    func deliver(_ result: AuditResult, reportFolder: String?, with mailer: ReportMailer?) async -> String? {
        guard let mailer else { return nil }
        let message = mailer.message(for: result, reportFolder: reportFolder)
        let decision = mailer.decision(for: result)
        if printMail {
            FileHandle.standardOutput.write(Data(ReportMailer.preview(message).utf8))
            FileHandle.standardError.write(Data("mailaudit: --print-mail: nothing was sent (--notify would \(decision.send ? "send it" : "not send it"): \(decision.why))\n".utf8))
        }
        guard notify else { return nil }
        guard decision.send else {
            FileHandle.standardError.write(Data("mailaudit: not mailed: \(decision.why)\n".utf8))
            return nil
        }
        do {
            try await mailer.send(message)
            FileHandle.standardError.write(Data("mailaudit: mailed to \(message.to.joined(separator: ", ")) (\(decision.why))\n".utf8))
            return nil
        } catch let failure as MailFailure {
            return "\(mailer.settings.server): \(failure.description)"
        } catch let error as ConfigError {
            return error.description
        } catch {
            return "\(error)"
        }
    }
}
