"""The one HTTP integration: Strawberry's ASGI app, served by uvicorn locally and by
Mangum on Lambda behind API Gateway."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from ..config import AuthMode, Settings
from ..domain.model import Principal
from ..services.deps import Deps
from .auth import load_or_create_secret, principal_from_apigw_event, principal_from_bearer
from .errors import unauthenticated
from .schema import Context, schema

MAX_BODY_BYTES = 64 * 1024
PATH = "/graphql"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class InMailGraphQL(GraphQL[Context, None]):
    def __init__(self, deps: Deps, settings: Settings, secret: bytes | None):
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,  # operations are POSTs; GET serves the playground
        )
        self._deps = deps
        self._settings = settings
        self._secret = secret

    def _principal(self, request: Request | WebSocket) -> Principal | None:
        if self._settings.auth_mode is AuthMode.APIGW:
            return principal_from_apigw_event(request.scope.get("aws.event"))
        if self._secret is None:
            return None
        return principal_from_bearer(request.headers.get("authorization"), self._secret)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        event = request.scope.get("aws.event") or {}
        request_id = (
            event.get("requestContext", {}).get("requestId") or request.headers.get("x-request-id") or str(uuid.uuid4())
        )
        return Context(self._deps, self._principal(request), str(request_id)[:64])

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Every operation needs a verified identity; the playground page does not."""
        if context.principal is None:
            sub_response.status_code = 401
            return ExecutionResult(data=None, errors=[unauthenticated()])
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )


class HttpGuard:
    """Only /graphql exists; request bodies over MAX_BODY_BYTES are refused before anything
    parses them."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, and lifespan needs nothing
        if scope.get("path", "").rstrip("/") != PATH:
            await _refuse(send, 404, "NOT_FOUND", f"Not found. The API is at {PATH}.")
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(deps: Deps, settings: Settings) -> HttpGuard:
    secret = None
    if settings.auth_mode is AuthMode.LOCAL:
        if not settings.local_secret_file:
            raise ValueError("AUTH_MODE=local needs LOCAL_SECRET_FILE")
        secret = load_or_create_secret(Path(settings.local_secret_file))
    return HttpGuard(InMailGraphQL(deps, settings, secret))
