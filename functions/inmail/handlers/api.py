"""Lambda entry point of the GraphQL API (API Gateway HTTP API, payload v2)."""

from __future__ import annotations

from . import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.logging import correlation_paths

    from .. import snapstart
    from ..api.apigw import handle_event
    from ..api.http import GraphQLHttp
    from ..config import Settings
    from ..observability import logger
    from ..wiring import build_deps

    settings = Settings.from_env()
    _deps = build_deps(settings)  # one botocore session and client, built here
    _api = GraphQLHttp(_deps, settings)
    snapstart.register(_api, _deps)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(_api, event)
