"""The playground's Local tokens route (POST /graphql/local-token), through the ASGI app
`inmail serve` runs, on moto: a token the server then accepts, for what `inmail token`
would sign and nothing else; loopback hosts only. (The Lambda has no such route:
test_playground_lambda.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from inmail.config import AuthMode, Settings
from inmail.local.asgi import create_app
from inmail.services.deps import Deps

VIEWER = json.dumps({"query": "{ viewer { id roles contractId } }"})


@pytest.fixture
def client(dynamo_deps: Deps, tmp_path: Path) -> httpx.AsyncClient:
    settings = Settings(auth_mode=AuthMode.LOCAL, local_secret_file=str(tmp_path / "jwt-secret"))
    transport = httpx.ASGITransport(app=create_app(dynamo_deps, settings))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000")


async def ask(client: httpx.AsyncClient, payload: Any, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql/local-token",
        content=json.dumps(payload),
        headers={"content-type": "application/json", **headers},
    )


@pytest.mark.anyio
async def test_a_local_token_is_accepted_by_the_server(client: httpx.AsyncClient) -> None:
    got = await ask(client, {"sub": "alice", "roles": ["RECRUITER", "CONTRACT_ADMIN"], "contract": "acme"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) == {"token", "expiresAt"}
    viewer = await client.post(
        "/graphql",
        content=VIEWER,
        headers={"content-type": "application/json", "authorization": f"Bearer {body['token']}"},
    )
    assert viewer.json()["data"]["viewer"] == {
        "id": "alice",
        "roles": ["CONTRACT_ADMIN", "RECRUITER"],
        "contractId": "acme",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        {"sub": "", "roles": ["OPERATOR"]},
        {"sub": "x" * 129, "roles": ["OPERATOR"]},
        {"sub": "ops", "roles": []},
        {"sub": "ops", "roles": ["ADMIN"]},
        {"sub": "ops", "roles": "OPERATOR"},
        {"sub": "ops", "roles": ["OPERATOR"], "contract": 7},
        ["ops"],
        "ops",
    ],
)
async def test_a_request_inmail_token_would_refuse_gets_no_token(client: httpx.AsyncClient, payload: Any) -> None:
    got = await ask(client, payload)
    assert got.status_code == 400
    assert got.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "token" not in got.json()


@pytest.mark.anyio
async def test_only_loopback_hosts_get_tokens(client: httpx.AsyncClient) -> None:
    """A site whose name an attacker points at 127.0.0.1 (DNS rebinding) is same-origin with
    the server in the browser; its Host header still names it."""
    payload = {"sub": "ops", "roles": ["OPERATOR"]}
    for host in ("127.0.0.1:3000", "localhost:3000", "[::1]:3000", "LOCALHOST"):
        assert (await ask(client, payload, host=host)).status_code == 200, host
    for host in ("evil.example:3000", "127.0.0.1.evil.example", "localhost.evil.example:3000"):
        refused = await ask(client, payload, host=host)
        assert refused.status_code == 403, host
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.anyio
async def test_the_route_takes_json_posts_only(client: httpx.AsyncClient) -> None:
    form = await client.post("/graphql/local-token", content="sub=ops&roles=OPERATOR")
    assert form.status_code == 400  # a cross-site form post: no JSON, no token
    assert (await client.get("/graphql/local-token")).status_code == 405


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
