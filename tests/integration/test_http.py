"""The HTTP layer with no web framework: API Gateway v2 events in and out (the Lambda), the
ASGI adapter (`inmail serve`), and what neither may do: trust the other's identity source,
leak a stack trace, or pull a web framework into the Lambda's cold start."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from gql import GraphQLClient
from inmail.api.apigw import handle_event, request_from_event
from inmail.api.auth import issue_local_token, load_or_create_secret
from inmail.api.http import GraphQLHttp, HttpRequest
from inmail.config import AuthMode, Settings
from inmail.local.asgi import create_app
from inmail.services.deps import Deps
from support import claims_for, decode_body, http_event

VIEWER = json.dumps({"query": "{ viewer { id roles } }"})


def test_event_is_read_as_api_gateway_sends_it() -> None:
    event = http_event("POST", None, claims_for("r1", "RECRUITER"), {"Content-Type": "application/json"})
    event |= {
        "body": base64.b64encode(VIEWER.encode()).decode(),
        "isBase64Encoded": True,
        "rawPath": "/prod/graphql",
        "rawQueryString": "a=1&b=two",
    }
    event["requestContext"]["stage"] = "prod"
    request = request_from_event(event)
    assert request.body == VIEWER.encode()
    assert request.path == "/graphql"  # a named stage's prefix is not part of the route
    assert request.headers["content-type"] == "application/json"
    assert request.query == {"a": "1", "b": "two"}
    assert request.authorizer_claims is not None and request.authorizer_claims["sub"] == "r1"
    assert request.request_id == "rid-1"


def test_base64_body_runs_like_a_plain_one(api: GraphQLClient) -> None:
    event = http_event("POST", None, claims_for("r1", "RECRUITER"))
    event |= {"body": base64.b64encode(VIEWER.encode()).decode(), "isBase64Encoded": True}
    response = api.handler(event)
    assert response["statusCode"] == 200
    assert decode_body(response)["data"]["viewer"] == {"id": "r1", "roles": ["RECRUITER"]}


@pytest.mark.parametrize(
    "method, body, headers, status, code",
    [
        ("POST", "{not json", {"content-type": "application/json"}, 400, "BAD_REQUEST"),
        ("POST", VIEWER, {"content-type": "text/plain"}, 400, "BAD_REQUEST"),
        ("PUT", VIEWER, {"content-type": "application/json"}, 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_http_refusals_are_coded_json(
    api: GraphQLClient, method: str, body: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = api.handler(http_event(method, body, claims_for("r1", "RECRUITER"), headers))
    assert response["statusCode"] == status
    assert response["headers"]["content-type"] == "application/json"
    assert decode_body(response)["errors"][0]["extensions"]["code"] == code


def test_a_bug_outside_any_resolver_is_a_masked_500(
    dynamo_deps: Deps, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    http = GraphQLHttp(dynamo_deps, settings)

    def broken(request: HttpRequest) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(http._view, "run", broken)
    response = handle_event(http, http_event("POST", VIEWER, claims_for("r1", "RECRUITER")))
    assert response["statusCode"] == 500
    assert decode_body(response)["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internal detail" not in response["body"] and "Traceback" not in response["body"]
    assert "secret internal detail" in caplog.text  # logged in full for the operator


def test_apigw_mode_ignores_the_authorization_header(api: GraphQLClient) -> None:
    """In AWS the authorizer verified the claims; a header nobody verified names no one."""
    response = api.post(VIEWER, None, {"Authorization": "Bearer anything"})
    assert response.status == 401 and response.error_codes == ["UNAUTHENTICATED"]


# ---- the ASGI adapter (`inmail serve`) -------------------------------------------------


@pytest.fixture
def local(dynamo_deps: Deps, tmp_path: Path) -> tuple[httpx.AsyncClient, str]:
    secret_file = tmp_path / "secret"
    token = issue_local_token(load_or_create_secret(secret_file), "r1", ["RECRUITER"])
    settings = Settings(auth_mode=AuthMode.LOCAL, local_secret_file=str(secret_file), graphiql=True)
    transport = httpx.ASGITransport(app=create_app(dynamo_deps, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://local"), token


async def _post(client: httpx.AsyncClient, content: Any, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", content=content, headers={"content-type": "application/json", **headers})


@pytest.mark.anyio
async def test_asgi_runs_an_operation_with_a_local_token(local: tuple[httpx.AsyncClient, str]) -> None:
    client, token = local
    ok = await _post(client, VIEWER, {"authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["data"]["viewer"]["id"] == "r1"
    forged = issue_local_token(b"f" * 64, "ops", ["OPERATOR"])
    for refused in ({}, {"authorization": f"Bearer {forged}"}):  # locally only our signed token counts
        assert (await _post(client, VIEWER, refused)).status_code == 401
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    missing = await client.get("/elsewhere")
    assert missing.status_code == 404 and missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.anyio
async def test_asgi_refuses_a_large_body_declared_or_streamed(local: tuple[httpx.AsyncClient, str]) -> None:
    client, token = local
    big = b"x" * (64 * 1024 + 1)
    declared = await _post(client, big, {"authorization": f"Bearer {token}"})
    assert declared.status_code == 413

    async def chunks() -> Any:  # no content-length: refused once the bytes read pass the limit
        for _ in range(5):
            yield b"y" * 20_000

    streamed = await _post(client, chunks(), {"authorization": f"Bearer {token}"})
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ---- the Lambda's import path ----------------------------------------------------------


def test_the_api_handler_imports_no_web_framework_and_no_local_tools() -> None:
    """A cold start pays for every module imported: none of these serve a Lambda request."""
    code = "import sys, inmail.handlers.api\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "PATH": "/usr/bin:/bin",
    }
    loaded = set(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    )
    assert "inmail" in loaded and "strawberry" in loaded
    assert not loaded & {"starlette", "mangum", "uvicorn", "anyio", "jwt", "moto", "httpx", "aws_xray_sdk"}
