"""Typed settings, read once from the environment. template.yaml sets the same names.
Bad values are refused here, at start, with the variable named: not later, mid-request."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AuthMode(StrEnum):
    """Where the caller's identity comes from."""

    # API Gateway's JWT authorizer verified the token; claims arrive in the event.
    APIGW = "apigw"
    # `inmail serve`: the app verifies a locally signed HS256 token itself.
    LOCAL = "local"


class SettingsError(ValueError):
    """A setting the code cannot run with."""


# The whole numbers, by field: the variable they are read from and their least value.
_NUMBERS: dict[str, tuple[str, int]] = {
    "dynamodb_max_retries": ("DYNAMODB_MAX_RETRIES", 0),
    "due_shards": ("DUE_SHARDS", 1),
    "lease_seconds": ("LEASE_SECONDS", 1),
    "sweep_workers": ("SWEEP_WORKERS", 1),
    "sweep_safety_margin_ms": ("SWEEP_SAFETY_MARGIN_MS", 0),
    "delivery_attempts": ("DELIVERY_ATTEMPTS", 1),
    "fan_out_above": ("FAN_OUT_ABOVE", 0),
}


@dataclass(frozen=True)
class Settings:
    contracts_table: str = "inmail-contracts"
    seats_table: str = "inmail-seats"
    candidates_table: str = "inmail-candidates"
    threads_table: str = "inmail-threads"
    ledger_table: str = "inmail-ledger"
    counters_table: str = "inmail-counters"
    report_table: str = "inmail-report"
    templates_table: str = "inmail-templates"
    batches_table: str = "inmail-batches"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    dynamodb_max_retries: int = 3
    due_shards: int = 8
    lease_seconds: int = 900
    sweep_workers: int = 8
    sweep_safety_margin_ms: int = 10_000
    delivery_attempts: int = 3
    # Fan-out (services/fan_out.py): with a queue, a sweep settles at most `fan_out_above`
    # due follow-ups itself and hands the rest to the queue's workers. No queue: it settles
    # them all (and leaves what its time budget does not reach for the next sweep).
    fan_out_queue_url: str | None = None
    fan_out_above: int = 2_000
    sqs_endpoint: str | None = None
    auth_mode: AuthMode = AuthMode.APIGW
    # Local mode only: where the signing secret lives (never a constant in code).
    local_secret_file: str | None = None
    graphiql: bool = True

    def __post_init__(self) -> None:
        for name, (variable, least) in _NUMBERS.items():
            value = getattr(self, name)
            if value < least:
                raise SettingsError(f"{variable} must be at least {least} (got {value}).")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        def number(field: str) -> int:
            variable, _ = _NUMBERS[field]
            raw = env.get(variable)
            if not raw:
                default: int = getattr(d, field)
                return default
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{variable} must be a whole number (got {raw!r}).") from None

        auth_mode = text("AUTH_MODE", d.auth_mode.value)
        if auth_mode not in set(AuthMode):
            choices = ", ".join(m.value for m in AuthMode)
            raise SettingsError(f"AUTH_MODE must be one of {choices} (got {auth_mode!r}).")

        return cls(
            contracts_table=text("CONTRACTS_TABLE", d.contracts_table),
            seats_table=text("SEATS_TABLE", d.seats_table),
            candidates_table=text("CANDIDATES_TABLE", d.candidates_table),
            threads_table=text("THREADS_TABLE", d.threads_table),
            ledger_table=text("LEDGER_TABLE", d.ledger_table),
            counters_table=text("COUNTERS_TABLE", d.counters_table),
            report_table=text("REPORT_TABLE", d.report_table),
            templates_table=text("TEMPLATES_TABLE", d.templates_table),
            batches_table=text("BATCHES_TABLE", d.batches_table),
            region=text("AWS_REGION", text("AWS_DEFAULT_REGION", d.region)),
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            dynamodb_max_retries=number("dynamodb_max_retries"),
            due_shards=number("due_shards"),
            lease_seconds=number("lease_seconds"),
            sweep_workers=number("sweep_workers"),
            sweep_safety_margin_ms=number("sweep_safety_margin_ms"),
            delivery_attempts=number("delivery_attempts"),
            fan_out_queue_url=env.get("FAN_OUT_QUEUE_URL") or None,
            fan_out_above=number("fan_out_above"),
            sqs_endpoint=env.get("AWS_ENDPOINT_URL_SQS") or None,
            auth_mode=AuthMode(auth_mode),
            local_secret_file=env.get("LOCAL_SECRET_FILE") or None,
            graphiql=text("GRAPHIQL", "true").lower() == "true",
        )
