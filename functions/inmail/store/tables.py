"""Create the tables from the PynamoDB models (locally and in tests; in AWS,
template.yaml creates the same tables)."""

from __future__ import annotations

from typing import Any

from ..config import Settings
from .models import ALL_MODELS, TABLE_SETTINGS, CounterModel, configure


def ensure_tables(settings: Settings) -> None:
    configure(settings)
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
        else:
            _add_missing_indexes(model)
    connection: Any = CounterModel._get_connection().connection
    client = connection.client
    ttl = client.describe_time_to_live(TableName=CounterModel.Meta.table_name)
    if ttl.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=CounterModel.Meta.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


def table_names(settings: Settings) -> list[str]:
    return [getattr(settings, attr) for attr in TABLE_SETTINGS.values()]


def _add_missing_indexes(model: Any) -> None:
    """A table made by an older version (a local data dir kept across upgrades) gets the
    indexes added since, as CloudFormation adds them in AWS (the seats' by-contract index
    of the InMail report, for one)."""
    client = model._get_connection().connection.client
    table = model.Meta.table_name
    described = client.describe_table(TableName=table)["Table"]
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    for index in model._get_schema()["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        client.update_table(
            TableName=table,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )


LOCAL_WORK_QUEUE = "inmail-fan-out"
# As template.yaml's FanOutQueue: six times the worker's timeout, so a message is not seen
# again while a worker still holds it.
LOCAL_VISIBILITY_SECONDS = 360


def ensure_work_queue(settings: Settings, name: str = LOCAL_WORK_QUEUE) -> str:
    """The fan-out queue on the local engine (moto's server serves SQS on the DynamoDB
    endpoint); its URL. In AWS, template.yaml creates it."""
    import boto3

    client = boto3.client("sqs", region_name=settings.region, endpoint_url=settings.sqs_endpoint)
    url: str = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS)})[
        "QueueUrl"
    ]
    return url
