"""The sample events in infra/events (for `sam local invoke` where Docker exists) match
the routes and schedule template.yaml deploys."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "infra" / "events"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def api_routes() -> dict[str, dict[str, Any]]:
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    return {f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}": e["Properties"] for e in events.values()}


def test_post_event_carries_verified_claims() -> None:
    event = load("api_post.json")
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /graphql"
    assert api_routes()["POST /graphql"]["Auth"]["Authorizer"] == "JwtAuthorizer"
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] and claims["roles"] == "[OPERATOR]"
    body = json.loads(event["body"])
    assert body["query"].startswith("mutation")


def test_get_event_has_no_claims() -> None:
    event = load("api_get.json")
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /graphql"
    assert api_routes()["GET /graphql"]["Auth"]["Authorizer"] == "NONE"
    assert "authorizer" not in event["requestContext"]


def test_schedule_event_is_what_the_scheduler_sends() -> None:
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    schedule = template["Resources"]["SweeperFunction"]["Properties"]["Events"]["EveryMinute"]["Properties"]
    event = load("schedule.json")
    assert set(event) == set(json.loads(schedule["Input"]))
    assert datetime.fromisoformat(event["time"].replace("Z", "+00:00")).tzinfo is not None
