"""The local stack as contract/RUNTIME.md describes it, driven through the real commands:
`inmail serve` (embedded DynamoDB engine, GraphQL + GraphiQL, snapshots, clean stop on
SIGTERM and Ctrl-C), `inmail token` and `inmail sweep`."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from inmail.api.auth import LOCAL_AUDIENCE, LOCAL_ISSUER
from localstack_support import (
    REQUEST_SECONDS,
    Server,
    free_port,
    group_alive,
    port_accepts,
    port_bindable,
    run_cli,
    token,
)
from support import operation

pytestmark = pytest.mark.slow

VIEWER = "{ viewer { id roles } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `inmail serve --no-sweeper` for the module's read-mostly checks."""
    root = tmp_path_factory.mktemp("stack")
    srv = Server(data_dir=root / "data", extra=("--no-sweeper",))
    try:
        yield srv.start()
    finally:
        srv.kill()


@pytest.fixture(scope="module")
def ops_token(server: Server) -> str:
    return token(server.data_dir, "ops", "OPERATOR")


def assert_stopped(srv: Server, code: int, *ports: int) -> None:
    assert code == 0, srv.output()
    assert not group_alive(srv.pgid), "a process of the server's group is still running"
    for port in ports:
        assert not port_accepts(port), f"port {port} still accepts connections"
        assert port_bindable(port), f"port {port} cannot be bound again"


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "ops",
        "roles": ["OPERATOR"],
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    base.update(overrides)
    return base


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token() -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}."


def forged_tokens(secret: bytes) -> dict[str, str | None]:
    past = datetime.now(UTC) - timedelta(hours=2)
    return {
        "no token": None,
        "garbage": "not-a-jwt",
        "other secret": jwt.encode(claims(), secrets.token_hex(32), algorithm="HS256"),
        "alg none": unsigned_token(),
        "alg none, upper case": f"{_b64({'alg': 'NONE'})}.{_b64(claims())}.",
        "expired": jwt.encode(
            claims(iat=int(past.timestamp()), exp=int((past + timedelta(hours=1)).timestamp())),
            secret,
            algorithm="HS256",
        ),
        "HS512 with the right secret": jwt.encode(claims(), secret, algorithm="HS512"),
        "wrong audience": jwt.encode(claims(aud="someone-else"), secret, algorithm="HS256"),
        "no role": jwt.encode(claims(roles=[]), secret, algorithm="HS256"),
        "signature stripped": jwt.encode(claims(), secret, algorithm="HS256").rsplit(".", 1)[0] + ".",
    }


# ---- serve: banner, playground, tokens ------------------------------------------------


def test_serve_prints_the_url_and_how_to_get_a_token(server: Server) -> None:
    out = server.stdout_path.read_text()
    assert server.url in out
    assert f"inmail token --sub ops --role OPERATOR --data-dir {server.data_dir}" in out
    assert f"http://127.0.0.1:{server.dynamodb_port}" in out


def test_get_serves_the_graphiql_page_without_a_token(server: Server) -> None:
    response = httpx.get(server.url, headers={"Accept": "text/html"}, timeout=REQUEST_SECONDS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_token_from_the_cli_is_accepted(server: Server, ops_token: str) -> None:
    body = server.gql(VIEWER, bearer=ops_token)
    assert body == {"data": {"viewer": {"id": "ops", "roles": ["OPERATOR"]}}}


def test_token_rejects_an_unknown_role(server: Server) -> None:
    done = run_cli("token", "--sub", "x", "--role", "ADMIN", "--data-dir", str(server.data_dir), cwd=server.data_dir)
    assert done.returncode != 0
    assert done.stdout == ""


def test_the_signing_secret_lives_in_the_data_dir_owner_only(server: Server) -> None:
    secret_file = server.data_dir / "jwt-secret"
    assert secret_file.exists()
    assert secret_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "garbage",
        "other secret",
        "alg none",
        "alg none, upper case",
        "expired",
        "HS512 with the right secret",
        "wrong audience",
        "no role",
        "signature stripped",
    ],
)
def test_forged_or_missing_tokens_are_unauthenticated(server: Server, case: str) -> None:
    secret = (server.data_dir / "jwt-secret").read_bytes().strip()
    bearer = forged_tokens(secret)[case]
    response = server.post(VIEWER, bearer=bearer)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert not body.get("data"), body
    assert response.status_code == 401


def test_mutations_need_a_token_too(server: Server) -> None:
    body = server.post(
        operation("CreateContract"),
        {"input": {"id": "nobody", "name": "X", "monthlyCredits": 1, "maxDailyLimit": 1}},
        bearer=None,
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not body.get("data")


# ---- sweep ----------------------------------------------------------------------------


def test_sweep_prints_a_one_line_json_summary(server: Server) -> None:
    done = run_cli(
        "sweep",
        "--now",
        "2026-11-27T09:00:00Z",
        "--dynamodb-port",
        str(server.dynamodb_port),
        cwd=server.data_dir.parent,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    summary = json.loads(lines[0])
    for key in ("delivered", "failed", "cancelled", "deleted"):
        assert isinstance(summary[key], int), summary


def test_sweep_honours_an_explicit_endpoint(server: Server) -> None:
    done = run_cli(
        "sweep",
        "--dynamodb-endpoint",
        f"http://127.0.0.1:{server.dynamodb_port}",
        "--dynamodb-port",
        "1",  # ignored: the endpoint comes first
        cwd=server.data_dir.parent,
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) >= {"delivered", "failed", "cancelled", "deleted"}


# ---- --dynamodb-endpoint --------------------------------------------------------------


def test_a_second_server_on_an_existing_endpoint_starts_no_engine(server: Server, ops_token: str) -> None:
    endpoint = f"http://127.0.0.1:{server.dynamodb_port}"
    other = Server(
        data_dir=server.data_dir.parent / "other-data",
        extra=("--no-sweeper", "--dynamodb-endpoint", endpoint),
    )
    # Tokens are per data dir: share the first server's secret so one token serves both.
    other.data_dir.mkdir(parents=True, exist_ok=True)
    (other.data_dir / "jwt-secret").write_bytes((server.data_dir / "jwt-secret").read_bytes())
    try:
        other.start()
        assert "(embedded" not in other.stdout_path.read_text()
        assert not port_accepts(other.dynamodb_port), "it started an engine of its own"

        created = other.gql(
            operation("CreateContract"),
            {"input": {"id": "shared", "name": "Shared", "monthlyCredits": 10, "maxDailyLimit": 5}},
            bearer=ops_token,
        )
        assert created["data"]["createContract"]["userErrors"] == [], created
        again = server.gql(
            operation("CreateContract"),
            {"input": {"id": "shared", "name": "Shared", "monthlyCredits": 10, "maxDailyLimit": 5}},
            bearer=ops_token,
        )
        assert [e["code"] for e in again["data"]["createContract"]["userErrors"]] == ["CONFLICT"]

        assert_stopped(other, other.stop(signal.SIGTERM), other.port)
        assert not (other.data_dir / "dynamodb-snapshot.json").exists(), "snapshots belong to the engine's owner"
    finally:
        other.kill()
    # Stopping the second server left the first one's engine alone.
    assert server.gql(VIEWER, bearer=ops_token)["data"]["viewer"]["id"] == "ops"
    assert port_accepts(server.dynamodb_port)


# ---- startup failures -----------------------------------------------------------------


@pytest.mark.parametrize("busy_option", ["--dynamodb-port", "--port"])
def test_a_port_in_use_fails_fast_and_leaves_nothing(tmp_path: Path, busy_option: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        ports = {"--port": free_port(), "--dynamodb-port": free_port()}
        ports[busy_option] = busy.getsockname()[1]
        # Fails fast = exits by itself with the reason, rather than retrying or hanging on
        # the port; run_cli's timeout only ends a test that is broken.
        done = run_cli(
            "serve",
            "--port",
            str(ports["--port"]),
            "--dynamodb-port",
            str(ports["--dynamodb-port"]),
            "--data-dir",
            str(tmp_path / "data"),
            "--no-sweeper",
            cwd=tmp_path,
        )
        assert done.returncode != 0
        assert "in use" in done.stderr, done.stderr
    for port in ports.values():
        assert port_bindable(port), f"port {port} left bound"


# ---- persistence and clean stops -------------------------------------------------------


def test_data_survives_a_sigterm_restart_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    srv = Server(data_dir=tmp_path / "data", extra=("--no-sweeper",))
    try:
        srv.start()
        ops = token(srv.data_dir, "ops", "OPERATOR")
        created = srv.gql(
            operation("CreateContract"),
            {"input": {"id": "c1", "name": "Acme", "monthlyCredits": 100, "maxDailyLimit": 20}},
            bearer=ops,
        )
        assert created["data"]["createContract"]["userErrors"] == [], created
        seat = srv.gql(operation("AddSeat"), {"input": {"contractId": "c1", "recruiterId": "r1"}}, bearer=ops)
        assert seat["data"]["addSeat"]["userErrors"] == [], seat

        assert_stopped(srv, srv.stop(signal.SIGTERM), srv.port, srv.dynamodb_port)
        assert (srv.data_dir / "dynamodb-snapshot.json").exists()

        srv.start()  # same data dir, same ports
        recruiter = token(srv.data_dir, "r1", "RECRUITER", contract="c1")
        contract = srv.gql(operation("Contract"), bearer=recruiter)
        assert contract["data"]["contract"]["id"] == "c1", contract
        assert contract["data"]["contract"]["name"] == "Acme"
        assert contract["data"]["contract"]["monthlyCredits"] == 100
        # The token from before the restart still verifies: the secret persisted too.
        again = srv.gql(
            operation("CreateContract"),
            {"input": {"id": "c1", "name": "Acme", "monthlyCredits": 100, "maxDailyLimit": 20}},
            bearer=ops,
        )
        assert [e["code"] for e in again["data"]["createContract"]["userErrors"]] == ["CONFLICT"], again

        assert_stopped(srv, srv.stop(signal.SIGINT), srv.port, srv.dynamodb_port)
        assert "Traceback" not in srv.stderr_path.read_text(), srv.output()
    finally:
        srv.kill()
