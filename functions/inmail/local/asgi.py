"""The API as an ASGI app for uvicorn (`inmail serve`) and ASGI test clients. It only
adapts: the request is handled by the same GraphQLHttp the Lambda handler runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from ..api.http import GraphQLHttp, HttpRequest, HttpResponse, too_large
from ..config import Settings
from ..services.deps import Deps

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AsgiApp:
    def __init__(self, api: GraphQLHttp):
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, and lifespan needs nothing
        headers: dict[str, str] = {}
        for name, value in scope.get("headers") or []:
            key = name.decode("latin-1").lower()
            headers[key] = f"{headers[key]}, {value.decode('latin-1')}" if key in headers else value.decode("latin-1")
        body = await self._body(receive, headers)
        if body is None:
            await self._send(send, too_large())
            return
        request = HttpRequest(
            method=scope["method"],
            path=scope.get("path", "/"),
            headers=headers,
            body=body,
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
        )
        # The store calls block: run them off the event loop so other requests are accepted.
        await self._send(send, await asyncio.to_thread(self.api.handle, request))

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


def create_app(deps: Deps, settings: Settings) -> AsgiApp:
    return AsgiApp(GraphQLHttp(deps, settings))
