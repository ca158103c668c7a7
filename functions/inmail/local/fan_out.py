"""The fan-out worker in `inmail serve`: what Lambda's SQS event source does for the worker
function in AWS, on the embedded engine's SQS. It polls the queue (no long polling: the
engine serves one request at a time), settles each batch with the worker's own
`settle_batch`, and deletes the messages the partial batch response does not name; those
come back after the queue's visibility timeout.

The queue's messages are not in the engine's snapshot: each names a thread that is due and
leased in DynamoDB, which is. After a restart the lease expires (LEASE_SECONDS) and the
next sweep finds the thread again."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter

from ..handlers.fan_out_batch import settle_batch, worker_cache
from ..services.deps import Deps
from ..store.work_queue import SqsWorkQueue

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0


class LocalWorker:
    def __init__(self, deps: Deps, queue: SqsWorkQueue, workers: int = 8):
        self.deps = deps
        self.queue = queue
        self.workers = workers
        self.outcomes: Counter[str] = Counter()  # what its batches settled, by outcome
        self.cache = worker_cache(deps)

    def run_once(self, most: int = 10) -> int:
        """One batch: received, settled, its settled messages deleted. How many were received."""
        records = self.queue.receive(most)
        if not records:
            return 0
        batch = {"Records": records}
        response, summary = settle_batch(
            self.deps, batch, f"local-worker-{uuid.uuid4()}", workers=self.workers, cache=self.cache
        )
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        self.queue.delete([r["receiptHandle"] for r in records if r["messageId"] not in failed])
        self.outcomes.update({outcome.value: n for outcome, n in summary.counts.items()})
        log.info("fan-out worker: %s", json.dumps({**summary.to_dict(), "retried": len(failed)}))
        return len(records)

    def run(self, stop: threading.Event) -> None:
        """Until `stop`: a batch as soon as one is there, a poll a second when idle."""
        while not stop.is_set():
            try:
                received = self.run_once()
            except Exception:  # keep polling; the messages come back after their timeout
                log.exception("fan-out worker failed")
                received = 0
            if not received:
                stop.wait(IDLE_POLL_SECONDS)
