"""A batch of hand-offs settled as the fan-out worker settles it: the Lambda handler
(`sweep_worker.py`) and `inmail serve`'s stand-in for the SQS event source
(`local/fan_out.py`) both call `settle_batch`.

The batch's follow-ups are settled concurrently (services/fan_out.py), then Powertools'
batch processor turns each outcome into the partial batch response: a message whose
follow-up was settled, or that another owns, is done; one left unsettled (a store error,
the time budget) is reported failed, so SQS delivers it again after its visibility
timeout, and after the queue's maxReceiveCount moves it to the dead-letter queue."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..services.deps import Deps
from ..services.fan_out import HandOff, retry_later, settle_handed_off
from ..services.sweep import Settled, SweepSummary
from ..services.sweep_cache import SweepCache
from ..store.work_queue import from_body

# How long a worker trusts what it read for earlier batches: a stale entry only costs a
# retry (services/sweep_cache.py), so this bounds retries, not correctness.
WORKER_CACHE_SECONDS = 60.0


def worker_cache(deps: Deps) -> SweepCache:
    """What a worker reads once for many batches: contracts, seats, candidates, daily counts."""
    return SweepCache(deps.store, max_age=WORKER_CACHE_SECONDS)


class NotSettled(Exception):
    """The message comes back: its follow-up was not settled (or it is not a hand-off)."""


def settle_batch(
    deps: Deps,
    event: dict[str, Any],
    worker_id: str,
    out_of_time: Callable[[], bool] = lambda: False,
    workers: int = 8,
    cache: SweepCache | None = None,
) -> tuple[dict[str, Any], SweepSummary]:
    """(the partial batch response, what was settled). `cache`: the worker's, kept from one
    batch to the next (`worker_cache`)."""
    hand_offs: dict[str, HandOff] = {}
    for record in event.get("Records") or []:
        # One that is not a hand-off is reported failed below: after maxReceiveCount it
        # lands in the dead-letter queue, whose alarm shows it.
        with suppress(ValueError):
            hand_offs[record["messageId"]] = from_body(record["body"])
    summary, results = settle_handed_off(deps, list(hand_offs.values()), worker_id, out_of_time, workers, cache)
    outcomes: dict[str, Settled] = dict(zip(hand_offs, results, strict=True))

    def record_handler(record: SQSRecord) -> str:
        settled = outcomes.get(record.message_id)
        if settled is None:
            raise NotSettled(f"not a hand-off: {record.body[:200]!r}")
        if retry_later(settled):
            raise NotSettled(settled.outcome.value)
        return settled.outcome.value

    # A fresh processor per batch: it keeps the batch's results on itself.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = dict(process_partial_response(event, record_handler, processor))
    return response, summary
