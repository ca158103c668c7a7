"""GraphQL over HTTP with no web framework: Strawberry's synchronous view over a plain
request. The Lambda handler (API Gateway v2 events) and the local server (ASGI) adapt to
it, so both run the same guard, identity check and error shapes.

No Starlette or Mangum: the Lambda's cold start pays only for what answers a request."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from cross_web import FormData, HTTPException, SyncHTTPRequestAdapter
from cross_web.request._base import HTTPMethod, QueryParams  # type aliases it does not re-export
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.sync_base_view import SyncBaseHTTPView
from strawberry.http.temporal_response import TemporalResponse
from strawberry.types import ExecutionResult

from ..config import AuthMode, Settings
from ..domain.model import Principal
from ..services.deps import Deps
from .auth import load_or_create_secret, principal_from_bearer, principal_from_claims_or_none
from .context import Context
from .errors import unauthenticated
from .messages import JSON, HttpRequest, HttpResponse, error_response
from .playground import ASSETS_DIR, Playground, PlaygroundExtension
from .schema import schema

__all__ = ["MAX_BODY_BYTES", "PATH", "GraphQLHttp", "HttpRequest", "HttpResponse", "too_large"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
PATH = "/graphql"


class _Adapter(SyncHTTPRequestAdapter):
    """What Strawberry's view reads from a request. No form data and no uploads: the API
    takes JSON only."""

    def __init__(self, request: HttpRequest):
        self.request = request

    @property
    def method(self) -> HTTPMethod:
        return cast(HTTPMethod, self.request.method.upper())

    @property
    def query_params(self) -> QueryParams:
        return self.request.query

    @property
    def path_params(self) -> Mapping[str, Any]:
        return {}

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request.headers

    @property
    def content_type(self) -> str | None:
        return self.request.headers.get("content-type")

    @property
    def body(self) -> bytes:
        return self.request.body

    @property
    def post_data(self) -> Mapping[str, str | bytes]:
        return {}

    @property
    def files(self) -> Mapping[str, Any]:
        return {}

    def get_form_data(self) -> FormData:
        return FormData(files={}, form={})

    @property
    def url(self) -> str:
        return self.request.path

    @property
    def cookies(self) -> Mapping[str, str]:
        return {}


class _View(SyncBaseHTTPView[HttpRequest, HttpResponse, TemporalResponse, Context, None]):
    request_adapter_class = _Adapter
    allow_queries_via_get = False  # operations are POSTs; GET serves the playground

    def __init__(self, deps: Deps, settings: Settings, secret: bytes | None, playground: Playground | None):
        self.schema = schema
        self.graphql_ide = "graphiql" if playground is not None else None
        self._playground = playground
        self._deps = deps
        self._settings = settings
        self._secret = secret

    def _principal(self, request: HttpRequest) -> Principal | None:
        """Identity only from what was verified: the authorizer's claims in AWS, a token
        signed with the local secret locally. Neither mode looks at the other's source."""
        if self._settings.auth_mode is AuthMode.APIGW:
            return principal_from_claims_or_none(request.authorizer_claims)
        if self._secret is None:
            return None
        return principal_from_bearer(request.headers.get("authorization"), self._secret)

    def parse_json(self, data: str | bytes) -> Any:
        """JSON the decoder refuses, or that is not an operation (a string, a number, null),
        is the client's mistake, not a crash further down."""
        try:
            parsed = super().parse_json(data)
        except (ValueError, RecursionError) as exc:  # bad UTF-8, a 5,000-digit number, deep nesting
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request body must be a JSON object: query, variables, operationName.")
        return parsed

    def get_context(self, request: HttpRequest, response: TemporalResponse) -> Context:
        request_id = request.request_id or request.headers.get("x-request-id") or str(uuid.uuid4())
        return Context(self._deps, self._principal(request), request_id[:64])

    def get_root_value(self, request: HttpRequest) -> None:
        return None

    def get_sub_response(self, request: HttpRequest) -> TemporalResponse:
        return TemporalResponse()

    def execute_operation(
        self, request: HttpRequest, context: Context, root_value: None, sub_response: TemporalResponse
    ) -> ExecutionResult | list[ExecutionResult]:
        """Every operation needs a verified identity; the playground page does not."""
        if context.principal is None:
            sub_response.status_code = 401
            return ExecutionResult(data=None, errors=[unauthenticated()])
        return super().execute_operation(request, context, root_value, sub_response)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: TemporalResponse,
    ) -> HttpResponse:
        body = self.encode_json(response_data)
        return HttpResponse(
            sub_response.status_code,
            {"content-type": JSON, **{k.lower(): v for k, v in sub_response.headers.items()}},
            body.encode() if isinstance(body, str) else body,
        )

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        assert self._playground is not None  # Strawberry renders the IDE only when graphql_ide is set
        return self._playground.page(request)


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def too_large() -> HttpResponse:
    return error_response(413, "PAYLOAD_TOO_LARGE", "Request body too large.")


class GraphQLHttp:
    """The API as one function from request to response: /graphql, the playground's files
    under /graphql/assets/ and, locally, an extension's routes; nothing else. Bodies over
    `max_body` bytes are refused before anything parses them."""

    def __init__(
        self,
        deps: Deps,
        settings: Settings,
        max_body: int = MAX_BODY_BYTES,
        extension: PlaygroundExtension | None = None,
    ):
        secret = None
        if settings.auth_mode is AuthMode.LOCAL:
            if not settings.local_secret_file:
                raise ValueError("AUTH_MODE=local needs LOCAL_SECRET_FILE")
            secret = load_or_create_secret(Path(settings.local_secret_file))
        elif extension is not None:
            raise ValueError("playground extensions are for the local stack (AUTH_MODE=local) only")
        self.playground = Playground(extension) if settings.graphiql else None
        self._view = _View(deps, settings, secret, self.playground)
        self.max_body = max_body

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/")
        if path != PATH and not path.startswith(f"{PATH}/"):
            return _not_found()
        if len(request.body) > self.max_body:
            return too_large()
        try:
            if path == PATH:
                return self._view.run(request)
            return self._sub_route(request, path.removeprefix(f"{PATH}/"))
        except HTTPException as exc:  # Strawberry's refusals: bad JSON, method, content type
            return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "BAD_REQUEST"), exc.reason)
        except Exception:  # a bug outside any resolver: logged in full, masked for the client
            log.exception("unexpected error handling %s %s", request.method, request.path)
            return error_response(500, "INTERNAL_SERVER_ERROR", "Unexpected error. It was logged.")

    def _sub_route(self, request: HttpRequest, rest: str) -> HttpResponse:
        """The playground's files (GET, no identity needed: they are the same for everyone)
        and the extension's routes (POST)."""
        if self.playground is None:
            return _not_found()
        if rest.startswith(f"{ASSETS_DIR}/"):
            return self.playground.asset(request, rest.removeprefix(f"{ASSETS_DIR}/"))
        route = self.playground.routes.get(rest)
        if route is None:
            return _not_found()
        if request.method.upper() != "POST":
            return error_response(405, "METHOD_NOT_ALLOWED", f"{PATH}/{rest} takes POST.")
        return route(request)


def _not_found() -> HttpResponse:
    return error_response(404, "NOT_FOUND", f"Not found. The API is at {PATH}.")
