"""Identity from a verified token only.

In AWS, API Gateway's JWT authorizer verifies the token and passes its claims in the
event; the function reads them and never looks at the Authorization header. Locally,
`inmail serve` verifies an HS256 token signed with the secret in the data dir.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..domain.errors import Unauthenticated
from ..domain.model import Principal, Role

LOCAL_ISSUER = "inmail-local"
LOCAL_AUDIENCE = "inmail-api"
# Roles only from claims an administrator sets: Cognito groups, or a `roles` claim the
# identity provider adds. Never `custom:*` attributes: Cognito users may write their own.
ROLE_CLAIMS = ("roles", "cognito:groups")
CONTRACT_CLAIMS = ("contract_id", "custom:contract_id", "contract")


def _roles(raw: Any) -> frozenset[Role]:
    """Claims arrive as a list, or from API Gateway as text like "[A B]" or "A,B"."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("[") and '"' in text:
            try:
                raw = json.loads(text)
            except ValueError:
                raw = text
        if isinstance(raw, str):
            raw = raw.strip("[]").replace(",", " ").split()
    if not isinstance(raw, list | tuple):
        return frozenset()
    known = {r.value for r in Role}
    return frozenset(Role(r) for r in raw if isinstance(r, str) and r in known)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("The token has no subject.")
    roles: frozenset[Role] = frozenset()
    for name in ROLE_CLAIMS:
        if name in claims:
            roles |= _roles(claims[name])
    if not roles:
        raise Unauthenticated("The token grants no role.")
    contract = next((claims[c] for c in CONTRACT_CLAIMS if isinstance(claims.get(c), str)), None)
    return Principal(subject=subject, roles=roles, contract_id=contract or None)


def principal_from_claims_or_none(claims: Mapping[str, Any] | None) -> Principal | None:
    """The caller the claims name (verified by API Gateway's JWT authorizer), or None."""
    if not isinstance(claims, Mapping):
        return None
    try:
        return principal_from_claims(claims)
    except Unauthenticated:
        return None


def authorizer_claims(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Where an HTTP API (payload 2.0) event carries the JWT authorizer's claims."""
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    return claims if isinstance(claims, Mapping) else None


# ---- local tokens ---------------------------------------------------------------------


def load_or_create_secret(path: Path) -> bytes:
    """The local signing secret: made once per data dir, readable by its owner only. Made
    whole under another name and linked into place, so processes starting together all
    end up with the one secret, and none ever reads a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_hex(32).encode())
        try:
            os.link(tmp, path)  # fails if another process got there first: theirs stands
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = path.read_bytes().strip()
    if not secret:
        raise ValueError(f"{path} is empty: delete it, and a new secret is made (tokens made before stop working)")
    return secret


def issue_local_token(
    secret: bytes,
    subject: str,
    roles: list[str],
    contract_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    import jwt  # local only: kept off the Lambda's import path

    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": roles,
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if contract_id:
        claims["contract_id"] = contract_id
    return str(jwt.encode(claims, secret, algorithm="HS256"))


def principal_from_bearer(header: str | None, secret: bytes) -> Principal | None:
    """Verify a local token: HS256 only (never `none`), signature, expiry, issuer, audience."""
    import jwt

    if not header or not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=LOCAL_AUDIENCE,
            issuer=LOCAL_ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        return principal_from_claims(claims)
    except (jwt.PyJWTError, Unauthenticated, ValueError):
        return None
