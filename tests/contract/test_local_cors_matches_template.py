"""The local stack's CORS rules (inmail.local.cors) are the deployed HttpApi's
CorsConfiguration (template.yaml): a frontend that works against `inmail serve` sends
nothing the deployed API would refuse. Only the origins differ, by design: local pages
locally, the CorsAllowedOrigins parameter in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from inmail.local import cors

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def deployed_cors() -> dict[str, Any]:
    template = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    configuration = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    _condition, rules, _otherwise = configuration["Fn::If"]
    return dict(rules)


def test_local_cors_has_the_deployed_header_rules() -> None:
    rules = deployed_cors()
    assert [m.upper() for m in rules["AllowMethods"]] == list(cors.ALLOW_METHODS)
    assert [h.lower() for h in rules["AllowHeaders"]] == list(cors.ALLOW_HEADERS)
    assert rules["MaxAge"] == cors.MAX_AGE_SECONDS
    assert bool(rules.get("AllowCredentials", False)) is cors.ALLOW_CREDENTIALS
    assert "ExposeHeaders" not in rules  # nothing exposed there, nothing here either
    assert set(rules) == {"AllowOrigins", "AllowMethods", "AllowHeaders", "MaxAge"}
