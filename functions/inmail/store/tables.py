"""Create the tables from the PynamoDB models (locally and in tests; in AWS,
template.yaml creates the same tables)."""

from __future__ import annotations

from typing import Any

from ..config import Settings
from .models import ALL_MODELS, CounterModel, configure


def ensure_tables(settings: Settings) -> None:
    configure(settings)
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
    connection: Any = CounterModel._get_connection().connection
    client = connection.client
    ttl = client.describe_time_to_live(TableName=CounterModel.Meta.table_name)
    if ttl.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=CounterModel.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


def table_names(settings: Settings) -> list[str]:
    return [
        settings.contracts_table,
        settings.seats_table,
        settings.candidates_table,
        settings.threads_table,
        settings.ledger_table,
        settings.counters_table,
        settings.report_table,
    ]
