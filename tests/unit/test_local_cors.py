"""CORS on the local stack (inmail.local.cors): which origins, which headers, and the ASGI
app answering preflights itself as API Gateway does. The browser side is in
tests/integration/test_browser.py; the rules' equality with template.yaml in
tests/contract/test_local_cors_matches_template.py."""

from __future__ import annotations

import argparse
from typing import Any

import httpx
import pytest

from inmail.api.messages import HttpRequest, HttpResponse
from inmail.local.asgi import AsgiApp
from inmail.local.cli import build_parser
from inmail.local.cors import DEFAULT_ORIGINS, CorsPolicy, origin_pattern


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost", "http://LOCALHOST:3000"],
)
def test_by_default_any_local_http_origin_is_allowed(origin: str) -> None:
    assert CorsPolicy().allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://localhost:5173",  # another scheme
        "http://127.0.0.2:8080",  # loopback, but not in the list
        "http://localhost.evil.example",  # a name that starts like it
        "http://localhost:5173.evil.example",
        "http://evil.example",
        "null",  # a sandboxed iframe or a file:// page
        "",
        None,
    ],
)
def test_by_default_no_other_origin_is(origin: str | None) -> None:
    assert not CorsPolicy().allows(origin)


def test_cors_origin_replaces_the_default_list() -> None:
    narrow = CorsPolicy.from_patterns(["http://localhost:5173"])
    assert narrow.allows("http://localhost:5173")
    assert not narrow.allows("http://localhost:5174") and not narrow.allows("http://127.0.0.1:5173")
    wide = CorsPolicy.from_patterns(["http://localhost:*", "https://app.example.test"])
    assert wide.allows("https://app.example.test") and wide.allows("http://localhost:9")
    assert not wide.allows("http://127.0.0.1:9")
    assert CorsPolicy.from_patterns(["*"]).allows("https://anywhere.example")
    assert CorsPolicy.from_patterns(["https://*"]).allows("https://anywhere.example")
    assert not CorsPolicy.from_patterns(["https://*"]).allows("http://anywhere.example")
    assert CorsPolicy.from_patterns(None).origins == DEFAULT_ORIGINS


@pytest.mark.parametrize("bad", ["localhost:5173", "http://localhost:5173/app", "ftp://x", "http://*.example.com", ""])
def test_a_malformed_origin_is_refused_at_the_command_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        origin_pattern(bad)
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--cors-origin", bad])
    assert exited.value.code == 2
    assert "is not an origin" in capsys.readouterr().err


def test_cors_origin_repeats() -> None:
    args = build_parser().parse_args(["serve", "--cors-origin", "http://localhost:5173", "--cors-origin", "*"])
    assert isinstance(args, argparse.Namespace)
    assert args.cors_origin == ["http://localhost:5173", "*"]


def test_preflight_of_an_allowed_origin_gets_the_deployed_rules() -> None:
    response = CorsPolicy().preflight({"origin": "http://localhost:5173", "access-control-request-method": "POST"})
    assert response.status == 204
    assert response.headers == {
        "access-control-allow-origin": "http://localhost:5173",
        "access-control-allow-methods": "GET,POST,OPTIONS",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "600",
        "vary": "origin",
    }
    assert "access-control-allow-credentials" not in response.headers  # no cookies: tokens only


def test_preflight_of_another_origin_gets_no_cors_header() -> None:
    response = CorsPolicy().preflight({"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert response.status == 204
    assert not [h for h in response.headers if h.startswith("access-control-")]


# ---- the ASGI app in front of GraphQLHttp --------------------------------------------------


class RecordingApi:
    """Stands in for GraphQLHttp: records what reached it."""

    max_body = 1024

    def __init__(self) -> None:
        self.seen: list[HttpRequest] = []

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.seen.append(request)
        return HttpResponse(200, {"content-type": "application/json"}, b'{"data":{}}')


async def call(app: Any, method: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client:
        return await client.request(method, "/graphql", headers=headers, content=b"{}")


@pytest.mark.anyio
async def test_the_app_answers_a_preflight_itself() -> None:
    api = RecordingApi()
    preflight = {"origin": "http://localhost:5173", "access-control-request-method": "POST"}
    response = await call(AsgiApp(api), "OPTIONS", preflight)  # type: ignore[arg-type]
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert api.seen == []  # never reached the API, as behind API Gateway


@pytest.mark.anyio
async def test_a_request_from_an_allowed_origin_is_answered_with_its_origin() -> None:
    api = RecordingApi()
    response = await call(AsgiApp(api), "POST", {"origin": "http://127.0.0.1:5173"})  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert response.headers["vary"] == "origin"


@pytest.mark.anyio
async def test_a_request_from_another_origin_runs_but_the_browser_may_not_read_it() -> None:
    """API Gateway runs it too and only leaves the header out: the browser does the blocking
    (and every operation needs a token, which such a page does not have)."""
    api = RecordingApi()
    response = await call(AsgiApp(api), "POST", {"origin": "http://evil.example"})  # type: ignore[arg-type]
    assert response.status_code == 200 and len(api.seen) == 1
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
