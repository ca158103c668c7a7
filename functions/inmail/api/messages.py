"""A plain HTTP request and response: what the Lambda event adapter and the local ASGI
adapter turn their inputs into, and what GraphQLHttp and the playground answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)
    # Claims API Gateway's JWT authorizer verified; None locally (and never read there).
    authorizer_claims: Mapping[str, Any] | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


JSON = "application/json"


def error_response(status: int, code: str, message: str) -> HttpResponse:
    """A refusal outside GraphQL execution, in the GraphQL error shape with a code."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}, separators=(",", ":"))
    return HttpResponse(status, {"content-type": JSON}, body.encode())


def json_response(status: int, payload: object) -> HttpResponse:
    return HttpResponse(status, {"content-type": JSON}, json.dumps(payload, separators=(",", ":")).encode())
