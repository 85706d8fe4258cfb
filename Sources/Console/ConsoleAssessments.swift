import Foundation
import Hummingbird
import Policy
import Register
import Report
import Site

/// The 10-minute assessment in the console (the ICT provider): started from a Member of the
/// organisation, the domains checked afresh and the evidence's answers filled in; each answer is
/// saved in the register as it is given (the same draft `mailaudit assess` keeps, so a closed
/// browser, or the terminal, resumes it); finished with the IT contact and recorded by the same
/// code as `assess`.
actor AssessmentSessions {
    /// The prepared assessment (fresh domain checks) for each draft in progress since the console started.
    private var prepared: [String: AssessmentContext] = [:]

    func context(_ key: String, site: SiteContext) async throws -> AssessmentContext {
        if let context = prepared[key] { return context }
        // After a restart the draft is still in the register: check the domains again.
        guard !key.hasPrefix("domain:") else { throw SiteContext.Failure("this assessment was started from the command line by domain: resume it there") }
        let context = try await AssessmentContext.prepare(site, member: key)
        prepared[key] = context
        return context
    }

    func start(_ memberId: String, site: SiteContext) async throws -> AssessmentContext {
        let context = try await AssessmentContext.prepare(site, member: memberId)
        prepared[context.draftKey] = context
        return context
    }

    func finished(_ key: String) { prepared[key] = nil }
}

extension ConsoleServer {
    private static let h = Escape.html

    func assessmentsPage(_ identity: ConsoleIdentity, problem: String? = nil) async throws -> Response {
        let h = Self.h
        var body = ""
        let drafts = try site.register.drafts()
        if !drafts.isEmpty {
            let items = drafts.map { draft in
                "<li><a href=\"/assessments/\(h(HTMLReportSections.consolePath(draft.memberId)))\">\(h(draft.memberName))</a>: started "
                    + "\(h(ISO8601DateFormatter().string(from: draft.startedAt))) by \(h(draft.assessor)), \(draft.answers.count) answer\(draft.answers.count == 1 ? "" : "s") saved</li>"
            }
            body += "<h2>In progress</h2><ul>\(items.joined())</ul>"
        }
        body += "<h2>Due or ending within 30 days</h2>"
        if let result = try await results.latest(site.register)?.result {
            let soon = Date().addingTimeInterval(30 * 86_400)
            let due = result.members.filter { member in
                member.verdict == .assessmentDue || (member.assessment.map { $0.passed && $0.validUntil <= soon } ?? false)
            }.sorted(by: HTMLReport.attentionOrderForConsole)
            if due.isEmpty { body += "<p>No assessment is due.</p>" }
            let rows = due.map { member -> String in
                let start = identity.role == .ictProvider
                    ? "<form method=\"post\" action=\"/assessments/start\"><input type=\"hidden\" name=\"csrf\" value=\"\(h(identity.csrfToken))\">"
                        + "<input type=\"hidden\" name=\"member\" value=\"\(h(member.id))\"><button type=\"submit\">Start the assessment of \(h(member.organisation ?? "the organisation"))</button></form>"
                    : ""
                return "<tr><td data-label=\"Member\"><a href=\"/members/\(h(HTMLReportSections.consolePath(member.id)))\">\(h(member.name))</a></td>"
                    + "<td data-label=\"Organisation\">\(h(member.organisation ?? ""))</td><td data-label=\"Domain\">\(h(member.domain ?? ""))</td>"
                    + "<td data-label=\"Verdict\">\(HTMLReport.badge(member.verdict))</td><td data-label=\"Start\">\(start)</td></tr>"
            }.joined()
            if !due.isEmpty {
                body += "<table class=\"reflow\"><caption>Members whose organisation needs its 10-minute assessment</caption><thead><tr><th scope=\"col\">Member</th>"
                    + "<th scope=\"col\">Organisation</th><th scope=\"col\">Domain</th><th scope=\"col\">Verdict</th><th scope=\"col\">Start</th></tr></thead><tbody>\(rows)</tbody></table>"
            }
        }
        if identity.role != .ictProvider { body += "<p class=\"hint\">Assessments are recorded by the ICT provider.</p>" }
        return ConsolePages.page(.init(title: "Assessments", organisation: site.policy.organisationName, identity: identity, problem: problem, body: body))
    }

    func startAssessment(form: [String: [String]], identity: ConsoleIdentity, address: String) async throws -> Response {
        let memberId = form["member"]?.first ?? ""
        let context: AssessmentContext
        do { context = try await assessments.start(memberId, site: site) } catch let failure as SiteContext.Failure {
            return try await assessmentsPage(identity, problem: "Not started: \(failure.description)")
        }
        if try site.register.draft(memberId: context.draftKey) == nil {
            try site.register.saveDraft(AssessmentDraft(memberId: context.draftKey, memberName: context.subjectName,
                                                        assessor: "\(identity.username) (\(identity.role.label))", startedAt: Date(), answers: []))
            try site.register.log("assessment-started", username: identity.username, address: address, detail: "\(context.organisation) (\(context.domains.joined(separator: ", ")))", at: Date())
        }
        return ConsolePages.redirect("/assessments/\(HTMLReportSections.consolePath(context.draftKey))")
    }

    func assessmentPage(_ key: String, identity: ConsoleIdentity, notice: String? = nil, problem: String? = nil) async throws -> Response {
        let h = Self.h
        guard let draft = try site.register.draft(memberId: key) else { return ConsolePages.redirect("/assessments") }
        let context: AssessmentContext
        do { context = try await assessments.context(key, site: site) } catch let failure as SiteContext.Failure {
            return try await assessmentsPage(identity, problem: failure.description)
        }
        let path = "/assessments/\(h(HTMLReportSections.consolePath(key)))"
        let minutes = Int(Date().timeIntervalSince(draft.startedAt) / 60)
        let canAnswer = identity.role == .ictProvider
        let token = "<input type=\"hidden\" name=\"csrf\" value=\"\(h(identity.csrfToken))\">"
        var body = "<p class=\"meta\">\(h(context.organisation))'s mail system: \(h(context.domains.joined(separator: ", "))) · started by \(h(draft.assessor)) "
            + "at \(h(ISO8601DateFormatter().string(from: draft.startedAt))) · <strong>\(minutes) minute\(minutes == 1 ? "" : "s") so far</strong> (of ten)</p>"
        // The IT contact present at the assessment.
        body += "<section aria-labelledby=\"contact-h\"><h2 id=\"contact-h\">The organisation's IT contact</h2>"
        if canAnswer {
            body += "<form method=\"post\" action=\"\(path)/contact\" class=\"stacked\">\(token)<label for=\"it-contact\">Name and role</label>"
                + "<input type=\"text\" id=\"it-contact\" name=\"itContact\" required value=\"\(h(draft.itContact ?? ""))\"><button type=\"submit\">Save the contact</button></form>"
        } else {
            body += "<p>\(h(draft.itContact ?? "not given yet"))</p>"
        }
        body += "</section>"
        // What the fresh checks already answer.
        let evidence = context.evidenceAnswers.map { answer in
            let question = context.policy.checklist.questions.first { $0.id == answer.question }
            return "<li><strong>\(h(answer.value.rawValue))</strong>: \(h(question?.question ?? answer.question)) <span class=\"hint\">(from the domain checks)</span></li>"
        }
        body += "<section aria-labelledby=\"evidence-h\"><h2 id=\"evidence-h\">Answered by the evidence</h2>"
            + (evidence.isEmpty ? "<p>None: the checks could not settle any question.</p>" : "<ul>\(evidence.joined())</ul>")
            + "<details><summary>The domain checks</summary><ul>\(context.evidenceLines.map { "<li>\(h($0))</li>" }.joined())</ul></details></section>"
        // The assessor's questions, one form each: each answer is saved as it is given.
        let answeredByEvidence = Set(context.evidenceAnswers.map(\.question))
        let questions = context.questions.filter { !answeredByEvidence.contains($0.id) }
        let ce = context.policy.checklist.cyberEssentials
        body += "<section aria-labelledby=\"questions-h\"><h2 id=\"questions-h\">Questions for the IT contact</h2>"
        for (index, question) in questions.enumerated() {
            let saved = draft.answers.first { $0.question == question.id }
            let state = saved.map { "Saved: <strong>\($0.value.rawValue)</strong>\($0.note.map { " — \(h($0))" } ?? "")" } ?? "Not answered yet."
            body += "<div class=\"finding\" id=\"q-\(h(question.id))\"><h3>\(index + 1). \(h(question.question))</h3><p class=\"hint\">Why: \(h(question.why)) Pass: \(h(question.pass))</p>"
            for report in context.reports {
                for check in question.evidence.compactMap({ report.check($0) }) {
                    body += "<p class=\"hint\">Evidence: \(h(check.id)) \(h(check.status.rawValue)): \(h(check.summary))</p>"
                }
            }
            body += "<p>\(state)</p>"
            if canAnswer {
                let values: [AssessmentAnswer.Value] = question.allowsNotApplicable ? [.yes, .no, .notApplicable] : [.yes, .no]
                let radios = values.map { value in
                    let id = "a-\(h(question.id))-\(value == .notApplicable ? "na" : value.rawValue)"
                    return "<input type=\"radio\" id=\"\(id)\" name=\"value\" value=\"\(value.rawValue)\" required\(saved?.value == value ? " checked" : "")> "
                        + "<label for=\"\(id)\" class=\"inline\">\(value.rawValue)</label> "
                }.joined()
                var certificate = ""
                if let ce, question.id == ce.question {
                    let sets = ce.questionSets.map { "<option value=\"\(h($0))\"\(draft.cyberEssentials?.questionSet == $0 ? " selected" : "")>\(h($0))</option>" }.joined()
                    certificate = "<p class=\"hint\">With a yes, the certificate:</p><label for=\"ce-number\">Certificate number</label>"
                        + "<input type=\"text\" id=\"ce-number\" name=\"certificate\" value=\"\(h(draft.cyberEssentials?.number ?? ""))\">"
                        + "<label for=\"ce-expires\">Certificate expires</label><input type=\"date\" id=\"ce-expires\" name=\"expires\" value=\"\(draft.cyberEssentials.map { HTMLReport.day($0.expires) } ?? "")\">"
                        + "<label for=\"ce-set\">Question set assessed</label><select id=\"ce-set\" name=\"questionSet\">\(sets)</select>"
                }
                body += "<form method=\"post\" action=\"\(path)/answer\" class=\"stacked\">\(token)<input type=\"hidden\" name=\"question\" value=\"\(h(question.id))\">"
                    + "<fieldset><legend>Answer</legend>\(radios)</fieldset>\(certificate)"
                    + "<label for=\"note-\(h(question.id))\">Note</label><input type=\"text\" id=\"note-\(h(question.id))\" name=\"note\" value=\"\(h(saved?.note ?? ""))\">"
                    + "<button type=\"submit\">Save answer \(index + 1)</button></form>"
            }
            body += "</div>"
        }
        body += "</section>"
        let missing = questions.filter { question in !draft.answers.contains { $0.question == question.id } }
        if canAnswer {
            body += "<section aria-labelledby=\"finish-h\"><h2 id=\"finish-h\">Finish</h2>"
            if !missing.isEmpty || (draft.itContact ?? "").isEmpty {
                body += "<p>Still to do: " + ((draft.itContact ?? "").isEmpty ? "the IT contact; " : "")
                    + "\(missing.count) question\(missing.count == 1 ? "" : "s") to answer.</p>"
            } else {
                body += "<form method=\"post\" action=\"\(path)/finish\">\(token)<button type=\"submit\">Record the assessment</button></form>"
            }
            body += "<form method=\"post\" action=\"\(path)/discard\">\(token)<button type=\"submit\">Discard this assessment</button></form></section>"
        }
        return ConsolePages.page(.init(title: "Assessment of \(context.organisation)", organisation: site.policy.organisationName, identity: identity,
                                       notice: notice, problem: problem, body: body))
    }

    func saveAnswer(_ key: String, form: [String: [String]], identity: ConsoleIdentity, address: String) async throws -> Response {
        guard var draft = try site.register.draft(memberId: key) else { return ConsolePages.redirect("/assessments") }
        let context = try await assessments.context(key, site: site)
        let questionId = form["question"]?.first ?? ""
        guard let question = context.questions.first(where: { $0.id == questionId }),
              let value = AssessmentAnswer.Value(rawValue: form["value"]?.first ?? ""),
              value != .notApplicable || question.allowsNotApplicable else {
            return try await assessmentPage(key, identity: identity, problem: "Not saved: choose one of the answers offered.")
        }
        if let ce = context.policy.checklist.cyberEssentials, question.id == ce.question {
            if value == .yes {
                do {
                    draft.cyberEssentials = try AssessmentContext.certificate(
                        number: form["certificate"]?.first, expires: form["expires"]?.first, questionSet: form["questionSet"]?.first,
                        checklist: context.policy.checklist, fail: { _, message in SiteContext.Failure(message) })
                } catch let failure as SiteContext.Failure {
                    return try await assessmentPage(key, identity: identity, problem: "Not saved: \(failure.description).")
                }
            } else {
                draft.cyberEssentials = nil
            }
        }
        let note = form["note"]?.first?.trimmingCharacters(in: .whitespaces) ?? ""
        draft.answers.removeAll { $0.question == question.id }
        draft.answers.append(AssessmentAnswer(question: question.id, value: value, source: .assessor, note: note.isEmpty ? nil : note))
        try site.register.saveDraft(draft)
        return ConsolePages.redirect("/assessments/\(HTMLReportSections.consolePath(key))#q-\(question.id)")
    }

    func saveContact(_ key: String, form: [String: [String]], identity: ConsoleIdentity) async throws -> Response {
        guard var draft = try site.register.draft(memberId: key) else { return ConsolePages.redirect("/assessments") }
        let contact = form["itContact"]?.first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !contact.isEmpty else { return try await assessmentPage(key, identity: identity, problem: "Not saved: give the IT contact's name and role.") }
        draft.itContact = contact
        try site.register.saveDraft(draft)
        return ConsolePages.redirect("/assessments/\(HTMLReportSections.consolePath(key))")
    }

    func finishAssessment(_ key: String, identity: ConsoleIdentity, address: String) async throws -> Response {
        guard let draft = try site.register.draft(memberId: key) else { return ConsolePages.redirect("/assessments") }
        let context = try await assessments.context(key, site: site)
        let answers = context.evidenceAnswers + draft.answers
        let ordered = context.questions.compactMap { question in answers.first { $0.question == question.id } }
        guard ordered.count == context.questions.count, let contact = draft.itContact, !contact.isEmpty else {
            return try await assessmentPage(key, identity: identity, problem: "Not recorded: answer every question and give the IT contact first.")
        }
        let stored: StoredAssessment
        do {
            stored = try context.record(answers: ordered, assessor: draft.assessor, itContact: contact, startedAt: draft.startedAt,
                                        cyberEssentials: draft.cyberEssentials)
        } catch let failure as SiteContext.Failure {
            return try await assessmentPage(key, identity: identity, problem: "Not recorded: \(failure.description)")
        }
        await assessments.finished(key)
        try site.register.log("assessment-recorded", username: identity.username, address: address,
                              detail: "#\(stored.id) \(stored.organisation): \(stored.passed ? "passed" : "failed") until \(HTMLReport.day(stored.validUntil))", at: Date())
        let h = Self.h
        let failed = stored.failedItems.isEmpty ? "" : "<p>Failed: \(h(stored.failedItems.joined(separator: ", ")))</p>"
        let remarks = stored.remarks.map { "<p>\(h($0))</p>" }.joined()
        let body = "<p class=\"\(stored.passed ? "notice" : "warning")\">Assessment #\(stored.id) of \(h(stored.subjectLine)): <strong>\(stored.passed ? "passed" : "failed")</strong>; "
            + "current until \(HTMLReport.day(stored.validUntil)). The next audit applies it.</p>\(failed)\(remarks)<p><a href=\"/assessments\">Back to the assessments</a></p>"
        return ConsolePages.page(.init(title: "Assessment recorded", organisation: site.policy.organisationName, identity: identity, body: body))
    }

    func discardAssessment(_ key: String, identity: ConsoleIdentity, address: String) async throws -> Response {
        try site.register.discardDraft(memberId: key)
        await assessments.finished(key)
        try site.register.log("assessment-discarded", username: identity.username, address: address, detail: key, at: Date())
        return ConsolePages.redirect("/assessments")
    }
}

extension StoredAssessment {
    var subjectLine: String { domains.isEmpty ? organisation : "\(organisation) (\(domains.joined(separator: ", ")))" }
}
