"""The playground and a browser frontend, in a real headless Chromium (Debian's `chromium`,
driven by Playwright; `make browser` installs it, `make test` runs that first). One browser
for all of them (module scope: Playwright's sync API holds an event loop on the main thread
while it is open, which the anyio tests after this module need free); every test in its own
context (no shared storage). Waits are on page events and selectors only.

- The playground loads from `inmail serve` alone: every other host is cut off, and nothing
  else is even asked for.
- It starts with no error: no introspection is sent before there is a token.
- A token from the Local tokens panel, or pasted into Headers, loads the docs and
  autocompletion without a refetch, and a query's result shows.
- A page served from another local origin calls the API with fetch (CORS); a page from an
  origin the server does not allow is blocked by the browser."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from localstack_support import Server, token

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 300_000  # a hang guard: waits end on the event (a busy CI box parses GraphiQL's 3.5 MB slowly)
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(data_dir=tmp_path_factory.mktemp("browser") / "data", extra=("--no-sweeper",))
    try:
        yield srv.start()
    finally:
        srv.kill()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(WAIT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


class Watched:
    """A page whose requests, console errors and CSP violations are recorded; every host but
    the server is cut off."""

    def __init__(self, context: BrowserContext, server: Server):
        self.origin = f"http://127.0.0.1:{server.port}"
        self.requests: list[str] = []
        self.elsewhere: list[str] = []
        self.errors: list[str] = []
        context.route("**/*", self._route)
        context.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        self.page: Page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        url = request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            self.requests.append(f"{request.method} {parts.path}")
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.elsewhere.append(url)
            route.abort()  # type: ignore[attr-defined]

    def open(self, server: Server, query: str | None = None) -> Page:
        self.page.goto(server.url + (f"?q={quote(query)}" if query else ""))
        # Rendered, and says what it waits for.
        expect(self.page.locator("#playground-status")).to_have_attribute("data-state", "none")
        expect(self.page.locator(".graphiql-container")).to_be_visible()
        return self.page

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__csp")
        return found


def set_editor(page: Page, editor: str, text: str) -> None:
    """Put text in one of GraphiQL's CodeMirror editors, as a paste would."""
    page.locator(f"{editor} .CodeMirror").first.evaluate("(el, text) => el.CodeMirror.setValue(text)", text)


QUERY_EDITOR = ".graphiql-query-editor"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"


def test_the_playground_loads_from_the_server_alone_and_starts_without_errors(
    context: BrowserContext, server: Server
) -> None:
    watched = Watched(context, server)
    page = watched.open(server)
    expect(page.locator("#playground-status")).to_contain_text("No token yet")
    expect(page.get_by_role("button", name="ops · OPERATOR")).to_be_visible()  # the Local tokens panel
    page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    expect(docs).to_be_visible()

    assert watched.elsewhere == [], "the page asked another host"
    assert watched.csp_violations() == []
    assert watched.errors == []
    body = page.locator("body").inner_text()
    assert "Error fetching schema" not in body and "UNAUTHENTICATED" not in body
    # Every file from the server (GraphiQL and React among them), and no operation yet.
    assert "GET /graphql/assets/graphiql.min.js" in watched.requests
    assert "GET /graphql/assets/react-dom.production.min.js" in watched.requests
    assert not [r for r in watched.requests if r.startswith("POST")]


def test_a_token_from_the_panel_loads_the_docs_and_a_query_result_shows(
    context: BrowserContext, server: Server
) -> None:
    watched = Watched(context, server)
    page = watched.open(server, query="query Me { viewer { id roles } }")  # a link with ?q=
    page.get_by_role("button", name="ops · OPERATOR").click()
    expect(page.locator("#playground-status")).to_have_attribute("data-state", "ready")
    expect(page.locator("#playground-status")).to_contain_text("ops (OPERATOR)")

    page.locator(".graphiql-execute-button").click()
    expect(page.locator(".result-window")).to_contain_text('"OPERATOR"')

    page.get_by_role("button", name="Show Documentation Explorer").click()
    page.locator(".graphiql-doc-explorer").get_by_text("Mutation", exact=True).click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("sendInMail")
    assert watched.elsewhere == [] and watched.csp_violations() == [] and watched.errors == []


def test_a_pasted_token_loads_autocompletion_without_a_refetch(context: BrowserContext, server: Server) -> None:
    watched = Watched(context, server)
    page = watched.open(server)
    bearer = token(server.data_dir, "alice", "RECRUITER")
    headers = page.locator(HEADERS_EDITOR).locator(".CodeMirror")
    headers.click()
    page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {bearer}"}))
    expect(page.locator("#playground-status")).to_have_attribute("data-state", "ready")

    set_editor(page, QUERY_EDITOR, "")
    page.locator(QUERY_EDITOR).locator(".CodeMirror").click()
    page.keyboard.type("{ sent")
    expect(page.locator(".CodeMirror-hints")).to_contain_text("sentThreads")
    # One introspection, sent when the token arrived; no re-fetch button was needed.
    assert watched.requests.count("POST /graphql") >= 1
    assert watched.elsewhere == [] and watched.errors == []


def test_the_panel_signs_any_subject_roles_and_contract(context: BrowserContext, server: Server) -> None:
    watched = Watched(context, server)
    page = watched.open(server)
    page.locator(".local-tokens input[name=sub]").fill("zoe")
    page.locator(".local-tokens input[value=RECRUITER]").uncheck()
    page.locator(".local-tokens input[value=CONTRACT_ADMIN]").check()
    page.locator(".local-tokens input[name=contract]").fill("acme")
    page.get_by_role("button", name="Get a token").click()
    expect(page.locator("#playground-status")).to_have_attribute("data-state", "ready")
    expect(page.locator("#playground-status")).to_contain_text("zoe (CONTRACT_ADMIN, contract acme)")
    assert "POST /graphql/local-token" in watched.requests and watched.errors == []


def test_a_refused_token_says_so_instead_of_an_empty_docs_pane(context: BrowserContext, server: Server) -> None:
    watched = Watched(context, server)
    page = watched.open(server)
    set_editor(page, HEADERS_EDITOR, '{"Authorization": "Bearer not.a.token"}')
    expect(page.locator("#playground-status")).to_have_attribute("data-state", "refused")
    expect(page.locator("#playground-status")).to_contain_text("UNAUTHENTICATED")


# ---- a frontend on another local origin ----------------------------------------------------

FRONTEND = """<!doctype html><html><body><pre id="out">waiting</pre><script>
const params = new URLSearchParams(location.search);
fetch(params.get("api"), {
  method: "POST",
  headers: {"content-type": "application/json", "authorization": "Bearer " + params.get("token")},
  body: JSON.stringify({query: "query Me { viewer { id roles } }"}),
}).then(r => r.json()).then(
  body => { out.textContent = JSON.stringify(body); out.dataset.done = "data"; },
  error => { out.textContent = String(error); out.dataset.done = "blocked"; },
);
</script></body></html>"""


class _Frontend(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FRONTEND.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def frontend_on() -> Iterator[object]:
    """Serve the little frontend on a free port of a loopback address; its base URL."""
    started: list[ThreadingHTTPServer] = []

    def serve(address: str) -> str:
        httpd = ThreadingHTTPServer((address, 0), _Frontend)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return str(httpd.server_address[1])

    yield serve
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_local_origin_calls_the_api(
    context: BrowserContext, server: Server, frontend_on: object
) -> None:
    port = frontend_on("127.0.0.1")  # type: ignore[operator]
    bearer = token(server.data_dir, "kim", "CANDIDATE")
    page = context.new_page()
    page.goto(f"http://localhost:{port}/?api={server.url}&token={bearer}")  # origin http://localhost:<port>
    out = page.locator("#out[data-done]")
    expect(out).to_have_attribute("data-done", "data")
    assert json.loads(out.inner_text()) == {"data": {"viewer": {"id": "kim", "roles": ["CANDIDATE"]}}}


def test_a_page_on_an_origin_not_allowed_is_blocked(
    context: BrowserContext, server: Server, frontend_on: object
) -> None:
    """127.0.0.2 is loopback too, but neither localhost nor 127.0.0.1: not in the default list."""
    port = frontend_on("127.0.0.2")  # type: ignore[operator]
    bearer = token(server.data_dir, "kim", "CANDIDATE")
    page = context.new_page()
    page.goto(f"http://127.0.0.2:{port}/?api={server.url}&token={bearer}")
    out = page.locator("#out[data-done]")
    expect(out).to_have_attribute("data-done", "blocked")
    assert "Failed to fetch" in out.inner_text()
