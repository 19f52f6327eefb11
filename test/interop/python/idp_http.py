"""The HTTP side shared by the small Python IdPs of Gatehouse's independent-IdP tests (pysaml2_idp.py,
lasso_idp.py): a standard-library server, a login form, and the routes below. Everything SAML is
the backend's (its own library's) job.

A backend is run as `python3 BACKEND.py SETTINGS.json`; the settings file (written by the test) is
read again on every request, so the test reconfigures the IdP by rewriting it. Routes:

  GET  /metadata          the IdP's metadata
  GET  /sso/redirect      SingleSignOnService, HTTP-Redirect binding: the AuthnRequest is parsed
                          (refused with 400 and the library's reason), then the login form
  GET  /sso/unsolicited   IdP-initiated sign-in: ?sp=<SP entity id>[&RelayState=...], login form
  POST /login             checks username/password, answers with the auto-submitting POST form
"""

import html
import json
import secrets
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Refused(Exception):
    """What the IdP refuses, with the reason it shows."""


def page(title, body):
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title></head><body>%s</body></html>"
        % (html.escape(title), body)
    )


def login_form(key, error=""):
    return page(
        "Sign in",
        "<h1>Sign in</h1>%s<form method='post' action='/login'>"
        "<input type='hidden' name='key' value='%s'>"
        "<label>Email <input name='username'></label>"
        "<label>Password <input type='password' name='password'></label>"
        "<button>Sign in</button></form>"
        % ("<p role='alert'>%s</p>" % html.escape(error) if error else "", html.escape(key)),
    )


def post_form(url, fields):
    """The HTTP-POST binding's auto-submitting form (saml-bindings 3.5.4)."""
    inputs = "".join(
        "<input type='hidden' name='%s' value='%s'>" % (html.escape(name), html.escape(value))
        for name, value in fields.items()
        if value
    )
    return page(
        "Signing in",
        "<form method='post' action='%s'>%s<noscript><button>Continue</button></noscript></form>"
        "<script>document.forms[0].submit()</script>" % (html.escape(url), inputs),
    )


def serve(backend):
    """Runs the IdP. `backend` has metadata(settings), authn_request(settings, query) -> signin,
    unsolicited(settings, sp_entity_id, relay_state) -> signin, and respond(settings, signin, email,
    user) -> HTML of the POST form; a signin is whatever the backend needs to answer later."""
    settings_path = sys.argv[1]
    pending = {}

    def load_settings():
        with open(settings_path, encoding="utf-8") as file:
            return json.load(file)

    class Handler(BaseHTTPRequestHandler):
        def send(self, status, body, content_type="text/html; charset=utf-8"):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def refuse(self, status, message):
            self.log_message("refused: %s", message)
            self.send(status, page("Error", "<p id='error'>%s</p>" % html.escape(message)))

        def start_signin(self, signin):
            key = secrets.token_urlsafe(16)
            pending[key] = signin
            self.send(200, login_form(key))

        def do_GET(self):
            url = urlparse(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            try:
                settings = load_settings()
                if url.path == "/metadata":
                    self.send(200, backend.metadata(settings), "application/samlmetadata+xml")
                elif url.path == "/sso/redirect":
                    if "SAMLRequest" not in query:
                        raise Refused("no SAMLRequest")
                    self.start_signin(backend.authn_request(settings, query, url.query))
                elif url.path == "/sso/unsolicited":
                    self.start_signin(backend.unsolicited(settings, query.get("sp", ""), query.get("RelayState", "")))
                else:
                    self.refuse(404, "no such page")
            except Exception as error:  # an IdP refuses what it cannot read; the test reads why
                if not isinstance(error, Refused):
                    traceback.print_exc()
                self.refuse(400, "%s: %s" % (type(error).__name__, error))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            if urlparse(self.path).path != "/login" or length > 65536:
                return self.refuse(404, "no such page")
            form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
            try:
                settings = load_settings()
                signin = pending.get(form.get("key", ""))
                if signin is None:
                    return self.refuse(400, "no sign-in in progress")
                email = form.get("username", "")
                user = settings["users"].get(email)
                if user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
                    return self.send(200, login_form(form["key"], "Wrong email or password."))
                del pending[form["key"]]
                self.send(200, backend.respond(settings, signin, email, user))
            except Exception as error:
                traceback.print_exc()
                self.refuse(500, "%s: %s" % (type(error).__name__, error))

        def log_message(self, format, *args):
            sys.stderr.write("%s\n" % (format % args))

    ThreadingHTTPServer(("127.0.0.1", load_settings()["port"]), Handler).serve_forever()
