"""Typed settings, read once from the environment. template.yaml sets the same names."""

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


@dataclass(frozen=True)
class Settings:
    contracts_table: str = "inmail-contracts"
    seats_table: str = "inmail-seats"
    candidates_table: str = "inmail-candidates"
    threads_table: str = "inmail-threads"
    ledger_table: str = "inmail-ledger"
    counters_table: str = "inmail-counters"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    dynamodb_max_retries: int = 3
    due_shards: int = 8
    lease_seconds: int = 900
    sweep_workers: int = 8
    sweep_safety_margin_ms: int = 10_000
    delivery_attempts: int = 3
    auth_mode: AuthMode = AuthMode.APIGW
    # Local mode only: where the signing secret lives (never a constant in code).
    local_secret_file: str | None = None
    graphiql: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        def number(name: str, default: int) -> int:
            raw = env.get(name)
            return int(raw) if raw else default

        return cls(
            contracts_table=text("CONTRACTS_TABLE", d.contracts_table),
            seats_table=text("SEATS_TABLE", d.seats_table),
            candidates_table=text("CANDIDATES_TABLE", d.candidates_table),
            threads_table=text("THREADS_TABLE", d.threads_table),
            ledger_table=text("LEDGER_TABLE", d.ledger_table),
            counters_table=text("COUNTERS_TABLE", d.counters_table),
            region=text("AWS_REGION", text("AWS_DEFAULT_REGION", d.region)),
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            dynamodb_max_retries=number("DYNAMODB_MAX_RETRIES", d.dynamodb_max_retries),
            due_shards=number("DUE_SHARDS", d.due_shards),
            lease_seconds=number("LEASE_SECONDS", d.lease_seconds),
            sweep_workers=number("SWEEP_WORKERS", d.sweep_workers),
            sweep_safety_margin_ms=number("SWEEP_SAFETY_MARGIN_MS", d.sweep_safety_margin_ms),
            delivery_attempts=number("DELIVERY_ATTEMPTS", d.delivery_attempts),
            auth_mode=AuthMode(text("AUTH_MODE", d.auth_mode.value)),
            local_secret_file=env.get("LOCAL_SECRET_FILE") or None,
            graphiql=text("GRAPHIQL", "true").lower() == "true",
        )
