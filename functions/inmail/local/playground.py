"""The playground's Local tokens panel, for `inmail serve` only: pick a role, a subject and a
contract on the page and get a token signed with the local secret, as `inmail token` prints.

The Lambda handler never builds this (GraphQLHttp refuses an extension outside AUTH_MODE=local,
and in AWS tokens come from the identity provider; API Gateway would reject these anyway)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..api.auth import issue_local_token, load_or_create_secret
from ..api.messages import HttpRequest, HttpResponse, error_response, json_response
from ..api.playground import PlaygroundExtension
from ..domain.model import Role

STATIC = Path(__file__).parent / "static"
ROUTE = "local-token"
TOKEN_TTL = timedelta(hours=12)
MAX_ID = 128
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})

# The callers of docs/playground.md's session, one click each (a test holds them to the doc).
PRESETS: tuple[dict[str, Any], ...] = (
    {"sub": "ops", "roles": ["OPERATOR"], "contract": None},
    {"sub": "alice", "roles": ["RECRUITER", "CONTRACT_ADMIN"], "contract": "acme"},
    {"sub": "bob", "roles": ["RECRUITER"], "contract": "acme"},
    {"sub": "kim", "roles": ["CANDIDATE"], "contract": None},
    {"sub": "lee", "roles": ["CANDIDATE"], "contract": None},
)


class LocalTokens:
    def __init__(self, secret_file: Path, ttl: timedelta = TOKEN_TTL):
        self._secret = load_or_create_secret(secret_file)
        self._ttl = ttl

    def issue(self, request: HttpRequest) -> HttpResponse:
        """POST /graphql/local-token {"sub", "roles", "contract"}: {"token", "expiresAt"}."""
        if _hostname(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            # A page whose name was made to resolve to 127.0.0.1 (DNS rebinding) is refused.
            return error_response(403, "FORBIDDEN", "Local tokens are issued on 127.0.0.1 or localhost only.")
        if (request.headers.get("content-type") or "").split(";")[0].strip().lower() != "application/json":
            return error_response(400, "BAD_REQUEST", 'Send JSON: {"sub", "roles", "contract"}.')
        try:
            asked = json.loads(request.body)
        except ValueError:
            return error_response(400, "BAD_REQUEST", "Unable to parse request body as JSON")
        problem = _invalid(asked)
        if problem:
            return error_response(400, "BAD_REQUEST", problem)
        now = datetime.now(UTC)
        contract = (asked.get("contract") or "").strip() or None
        token = issue_local_token(self._secret, asked["sub"].strip(), list(asked["roles"]), contract, self._ttl, now)
        expires = (now + self._ttl).isoformat(timespec="seconds").replace("+00:00", "Z")
        return json_response(200, {"token": token, "expiresAt": expires})


def _hostname(host: str) -> str:
    """The Host header without its port ("[::1]:3000" -> "[::1]")."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0].lower()


def _invalid(asked: Any) -> str | None:
    """Why the request cannot be a token, or None; the rules `inmail token` applies."""
    if not isinstance(asked, dict):
        return 'Send a JSON object: {"sub", "roles", "contract"}.'
    sub, roles, contract = asked.get("sub"), asked.get("roles"), asked.get("contract")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_ID:
        return f"sub must name the caller (1 to {MAX_ID} characters)."
    known = {r.value for r in Role}
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) and r in known for r in roles):
        return f"roles must be a list of {', '.join(sorted(known))}."
    if contract is not None and (not isinstance(contract, str) or len(contract) > MAX_ID):
        return f"contract must be a contract id (at most {MAX_ID} characters) or null."
    return None


def local_playground(secret_file: Path) -> PlaygroundExtension:
    tokens = LocalTokens(secret_file)
    return PlaygroundExtension(
        scripts=(STATIC / "local-tokens.js",),
        config={"localTokens": {"title": "Local tokens", "route": ROUTE, "presets": list(PRESETS)}},
        routes={ROUTE: tokens.issue},
    )
