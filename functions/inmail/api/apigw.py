"""API Gateway HTTP API (payload format 2.0) events in, Lambda proxy responses out."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from .auth import authorizer_claims
from .http import GraphQLHttp
from .messages import HttpRequest, HttpResponse


def request_from_event(event: Mapping[str, Any]) -> HttpRequest:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    path = event.get("rawPath") or http.get("path") or "/"
    stage = context.get("stage")
    if stage and stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]  # a named stage prefixes the path
    return HttpRequest(
        method=str(http.get("method") or "GET"),
        path=path,
        headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
        body=raw,
        query=dict(parse_qsl(event.get("rawQueryString") or "")),
        authorizer_claims=authorizer_claims(event),
        request_id=context.get("requestId"),
    )


def event_response(response: HttpResponse) -> dict[str, Any]:
    """A compressed body (the playground's files) travels base64-encoded; API Gateway
    decodes it and sends the bytes."""
    if "content-encoding" in response.headers:
        body, encoded = base64.b64encode(response.body).decode(), True
    else:
        body, encoded = response.body.decode(), False
    return {"statusCode": response.status, "headers": response.headers, "body": body, "isBase64Encoded": encoded}


def handle_event(api: GraphQLHttp, event: Mapping[str, Any]) -> dict[str, Any]:
    return event_response(api.handle(request_from_event(event)))
