"""The sweeper's floor: a Lambda handler on the sweeper's prescribed libraries and none of
our code. PynamoDB and Powertools' Logger and Metrics (metrics flushed per invocation);
one sweep finds the due items in a keys-only index (one Query), reads each one
consistently (one GetItem) and settles it with one TransactWriteItems, on one connection:
the least a follow-up can cost. `bench/coldstart.py` counts the sweeper's import + first
sweep over this one's.

Used only by the bench; run as a top-level module (bench/ on sys.path)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

logger = Logger(service="floor")
metrics = Metrics(namespace="Floor", service="floor")


class _Due(GlobalSecondaryIndex["Thread"]):
    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class Thread(Model):
    class Meta:
        table_name = os.environ.get("FLOOR_TABLE", "inmail-threads")
        region = os.environ.get("AWS_REGION", "us-east-1")

    thread_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    due_shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    due = _Due()


def sweep(shard: str, now: str) -> int:
    settled = 0
    connection = Thread._get_connection().connection
    for key in Thread.due.query(shard, Thread.due_at <= now):
        thread = Thread.get(key.thread_id, consistent_read=True)
        with TransactWrite(connection=connection) as tx:
            tx.update(
                thread,
                actions=[Thread.version.add(1), Thread.due_shard.remove(), Thread.due_at.remove()],
                condition=Thread.version == thread.version,
            )
        settled += 1
    return settled


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    settled = sweep(event["shard"], event["time"])
    metrics.add_metric("Delivered", MetricUnit.Count, settled)
    return {"delivered": settled}
