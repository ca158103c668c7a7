"""The API as an ASGI app for uvicorn (`inmail serve`) and ASGI test clients. It adapts,
and does what API Gateway does in front of the Lambda, CORS: the request itself is handled
by the same GraphQLHttp the Lambda handler runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..api.http import GraphQLHttp, too_large
from ..api.messages import HttpRequest, HttpResponse
from ..config import Settings
from ..services.deps import Deps
from .cors import CorsPolicy
from .playground import local_playground

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AsgiApp:
    def __init__(self, api: GraphQLHttp, cors: CorsPolicy | None = None):
        self.api = api
        self.cors = cors or CorsPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, and lifespan needs nothing
        headers: dict[str, str] = {}
        for name, value in scope.get("headers") or []:
            key = name.decode("latin-1").lower()
            headers[key] = f"{headers[key]}, {value.decode('latin-1')}" if key in headers else value.decode("latin-1")
        if self.cors.is_preflight(scope["method"], headers):
            await self._send(send, self.cors.preflight(headers))
            return
        body = await self._body(receive, headers)
        if body is None:
            await self._send(send, self.cors.decorate(headers, too_large()))
            return
        request = HttpRequest(
            method=scope["method"],
            path=scope.get("path", "/"),
            headers=headers,
            body=body,
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
        )
        # The store calls block: run them off the event loop so other requests are accepted.
        response = await asyncio.to_thread(self.api.handle, request)
        await self._send(send, self.cors.decorate(headers, response))

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes | None:
        """The request body, or None once it is over the limit (read no further)."""
        declared = headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > self.api.max_body:
            return None
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.api.max_body:
                return None
        return bytes(body)

    @staticmethod
    async def _send(send: Send, response: HttpResponse) -> None:
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})


def create_app(deps: Deps, settings: Settings, cors: CorsPolicy | None = None) -> AsgiApp:
    """The local stack's app: the API, the playground with its Local tokens panel, CORS."""
    extension = None
    if settings.graphiql and settings.local_secret_file:
        extension = local_playground(Path(settings.local_secret_file))
    return AsgiApp(GraphQLHttp(deps, settings, extension=extension), cors)
