"""The API's floor: a Lambda handler on the API's prescribed libraries and none of our code.

Strawberry's synchronous HTTP view over a plain request (as `inmail.api.http`), a schema
of one query field and one mutation, PynamoDB, and Powertools' Logger (with the Lambda
context injected) and Metrics. The mutation does what every mutation of ours does at
least: one consistent GetItem and one TransactWriteItems, through PynamoDB, on one
connection. `bench/coldstart.py` times it, and counts its instructions, beside the real
handler: the budget is the API's import + first request over this one's.

Used only by the bench; run as a top-level module (bench/ on sys.path), so importing it
imports nothing of the bench's."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any, cast

import strawberry
from aws_lambda_powertools import Logger, Metrics
from cross_web import FormData, SyncHTTPRequestAdapter
from cross_web.request._base import HTTPMethod, QueryParams
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.sync_base_view import SyncBaseHTTPView
from strawberry.http.temporal_response import TemporalResponse

logger = Logger(service="floor")
metrics = Metrics(namespace="Floor", service="floor")


class Counter(Model):
    class Meta:
        table_name = os.environ.get("FLOOR_TABLE", "inmail-counters")
        region = os.environ.get("AWS_REGION", "us-east-1")

    counter_key = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(default=0)


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self, key: str) -> int:
        item = Counter.get(key, consistent_read=True)
        connection = Counter._get_connection().connection
        with TransactWrite(connection=connection) as tx:
            tx.update(item, actions=[Counter.used.add(1)], condition=Counter.used == item.used)
        return int(item.used) + 1


schema = strawberry.Schema(query=Query, mutation=Mutation)


class _Adapter(SyncHTTPRequestAdapter):
    def __init__(self, event: Mapping[str, Any]):
        self.event = event

    @property
    def method(self) -> HTTPMethod:
        return cast(HTTPMethod, self.event["requestContext"]["http"]["method"])

    @property
    def query_params(self) -> QueryParams:
        return {}

    @property
    def path_params(self) -> Mapping[str, Any]:
        return {}

    @property
    def headers(self) -> Mapping[str, str]:
        return cast(Mapping[str, str], self.event.get("headers") or {})

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def body(self) -> bytes:
        body = self.event.get("body") or ""
        return base64.b64decode(body) if self.event.get("isBase64Encoded") else body.encode()

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
        return str(self.event.get("rawPath") or "/")

    @property
    def cookies(self) -> Mapping[str, str]:
        return {}


class _View(SyncBaseHTTPView[Mapping[str, Any], dict[str, Any], TemporalResponse, None, None]):
    request_adapter_class = _Adapter
    allow_queries_via_get = False

    def __init__(self) -> None:
        self.schema = schema
        self.graphql_ide = None

    def get_context(self, request: Mapping[str, Any], response: TemporalResponse) -> None:
        return None

    def get_root_value(self, request: Mapping[str, Any]) -> None:
        return None

    def get_sub_response(self, request: Mapping[str, Any]) -> TemporalResponse:
        return TemporalResponse()

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: TemporalResponse
    ) -> dict[str, Any]:
        return {
            "statusCode": sub_response.status_code,
            "headers": {"content-type": "application/json"},
            "body": self.encode_json(response_data),
            "isBase64Encoded": False,
        }

    def render_graphql_ide(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return {"statusCode": 404, "body": ""}


_view = _View()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _view.run(event)
