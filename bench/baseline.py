"""The naive sweeper the real one is compared with: Scan the whole threads table and decide
each due follow-up one by one, with the same decision code (settle_one). It lives here,
not in functions/, because nothing should ever run it."""

from __future__ import annotations

from datetime import datetime

from inmail.services.deps import Deps
from inmail.services.sweep import SweepSummary, settle_one
from inmail.store.dynamo import _thread_from
from inmail.store.models import ThreadModel


def scan_sweep(deps: Deps, now: datetime, sweep_id: str) -> SweepSummary:
    summary = SweepSummary(sweep_id=sweep_id, now=now)
    for item in ThreadModel.scan():  # DynamoDB pages of up to 1 MB, one after the other
        fu = _thread_from(item).scheduled_follow_up
        if fu is None or fu.scheduled_for is None or fu.scheduled_for > now:
            continue
        summary.due += 1
        summary.add(settle_one(deps, item.thread_id, now, sweep_id))
    return summary
