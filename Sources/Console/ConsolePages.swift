import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Mustache
import Policy
import Report

/// The console's pages: a layout and forms from Mustache templates (which escape every value),
/// around the HTML report's own sections. Nothing here decides anything: the handlers in
/// ConsoleServer.swift call the register and GrantCheck, as the command line does.
enum ConsolePages {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in templates {
            // The templates are the console's own text: one that does not parse is a programming error.
            library.register(try! MustacheTemplate(string: text), named: name)
        }
        return library
    }()

    /// The page around `body` (already escaped HTML from the report's sections or a template).
    struct Layout {
        var title: String
        var organisation: String
        var identity: ConsoleIdentity?
        var notice: String?
        var problem: String?
        var body: String

        var values: [String: Any] {
            var values: [String: Any] = ["title": title, "organisation": organisation, "body": body]
            if let notice { values["notice"] = notice }
            if let problem { values["problem"] = problem }
            if let identity {
                values["user"] = ["username": identity.username, "roleLabel": identity.role.label, "csrf": identity.csrfToken,
                                  "canSeeLog": identity.role != .viewer]
            }
            return values
        }
    }

    static func page(_ layout: Layout, status: HTTPResponse.Status = .ok) -> Response {
        html(library.render(layout.values, withTemplate: "layout") ?? "", status: status)
    }

    static func render(_ template: String, _ values: [String: Any]) -> String {
        library.render(values, withTemplate: template) ?? ""
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static let stylesheet = HTMLReportStyle.stylesheet + """
    header.console{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;border-bottom:2px solid #ccc;padding-bottom:.4rem}
    .brand{font-weight:bold;margin:0}form.signout{margin-left:auto;display:flex;gap:.5rem;align-items:center}
    form.stacked label{display:block;font-weight:bold;margin-top:.7rem}form.stacked input[type=text],form.stacked input[type=password],
    form.stacked input[type=date],form.stacked textarea{font:inherit;padding:.3rem;width:100%;max-width:28rem;box-sizing:border-box}
    form.stacked button{margin-top:.9rem}fieldset{border:1px solid #d0d0d0;margin:.6rem 0;max-width:40rem}legend{font-weight:bold}
    .notice{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.5rem}.hint{color:#4a4a4a;font-size:.88em;margin:.2rem 0}
    form.stacked label.inline{display:inline;font-weight:normal}
    .counts{display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;list-style:none;padding:0}
    """

    static let templates: [String: String] = [
        "layout": """
        <!DOCTYPE html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} — mailaudit console</title>
        <link rel="stylesheet" href="/static/console.css">
        </head>
        <body>
        <header class="console">
        <a class="skip" href="#main">Skip to the content</a>
        <p class="brand">mailaudit console · {{organisation}}</p>
        {{#user}}
        <nav aria-label="Console"><ul class="toc"><li><a href="/">Dashboard</a></li><li><a href="/organisations">Organisations</a></li><li><a href="/assessments">Assessments</a></li><li><a href="/runs">Runs</a></li>{{#canSeeLog}}<li><a href="/log">Log</a></li>{{/canSeeLog}}</ul></nav>
        <form method="post" action="/sign-out" class="signout"><input type="hidden" name="csrf" value="{{csrf}}"><span>{{username}} ({{roleLabel}})</span> <button type="submit">Sign out</button></form>
        {{/user}}
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#problem}}<p class="warning" role="alert">{{problem}}</p>{{/problem}}
        {{{body}}}
        </main>
        </body>
        </html>
        """,
        "sign-in": """
        <p>Sign in with your password and the six-digit code from your authenticator app.</p>
        <form method="post" action="/sign-in" class="stacked">
        <input type="hidden" name="token" value="{{token}}">
        <label for="username">Username</label>
        <input type="text" id="username" name="username" autocomplete="username" required value="{{username}}">
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required>
        <label for="code">One-time code</label>
        <input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]{6,7}" required>
        <button type="submit">Sign in</button>
        </form>
        """,
        "grant": """
        <section aria-labelledby="decide-h"><h2 id="decide-h">Decide an exception</h2>
        <form method="post" action="/members/{{path}}/exceptions" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Controls accepted (what {{name}} fails in run #{{runId}})</legend>
        {{#controls}}<div><input type="checkbox" id="c-{{id}}" name="controls[]" value="{{id}}"> <label for="c-{{id}}" class="inline">{{title}} (<code>{{id}}</code>)</label></div>{{/controls}}
        </fieldset>
        {{#personal}}<div><input type="checkbox" id="confirm-personal" name="confirmPersonal" value="yes"> <label for="confirm-personal" class="inline">I accept personal webmail (email.personal), which the rule calls never acceptable</label></div>{{/personal}}
        <label for="reason">Reason</label>
        <textarea id="reason" name="reason" rows="3" required></textarea>
        <label for="until">Until (at most {{latest}})</label>
        <input type="date" id="until" name="until" required max="{{latest}}">
        <p class="hint">Recorded as decided by you ({{username}}) now.</p>
        <button type="submit">Record the exception</button>
        </form></section>
        """,
        "revoke": """
        <form method="post" action="/exceptions/{{id}}/revoke" class="stacked">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="revoke-{{id}}">Reason for revoking #{{id}}</label>
        <input type="text" id="revoke-{{id}}" name="reason" required>
        <button type="submit">Revoke #{{id}}</button>
        </form>
        """,
        "diff": """
        <form method="get" action="/runs/diff" class="stacked">
        <label for="from">From run</label><input type="text" id="from" name="from" inputmode="numeric" value="{{from}}">
        <label for="to">To run</label><input type="text" id="to" name="to" inputmode="numeric" value="{{to}}">
        <button type="submit">Compare</button>
        </form>
        """,
    ]
}
