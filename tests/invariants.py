"""What holds after anything (R04, R30, R40, R82), read back through the Store port, so the
same check runs on DynamoStore (moto) and on the in-memory store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from inmail.domain import rules
from inmail.domain.model import LedgerEntry, LedgerKind, MessageStatus, Thread
from inmail.domain.ports import LedgerIndex, ThreadIndex
from inmail.services.deps import Deps
from inmail.services.recount import recount_report


def _all_pages(fetch: Callable[[str | None], Any]) -> list[Any]:
    items: list[Any] = []
    after = None
    while True:
        page = fetch(after)
        items += page.items
        if not page.has_next_page:
            return items
        after = page.end_cursor


def threads_of(deps: Deps, contract: str = "c1") -> list[Thread]:
    return _all_pages(lambda after: deps.store.list_threads(ThreadIndex.CONTRACT, contract, 100, after))


def ledger_of(deps: Deps, contract: str = "c1") -> list[LedgerEntry]:
    return _all_pages(lambda after: deps.store.list_ledger(LedgerIndex.CONTRACT, contract, 100, after))


def assert_invariants(deps: Deps, contract: str = "c1") -> None:
    """R04: money; R30 (and R40) deliveries; R82: the report's counters are the recount.
    Read back from the tables."""
    threads = threads_of(deps, contract)
    ledger = ledger_of(deps, contract)
    ids = [e.entry_id for e in ledger]
    assert len(set(ids)) == len(ids), "duplicate ledger ids"
    # Charges minus refunds equal each month's credit counter.
    net: Counter[str] = Counter()
    for e in ledger:
        assert e.amount == 1
        net[rules.credits_key(e.contract_id, e.at)] += 1 if e.kind is LedgerKind.CHARGE else -1
    for key, value in net.items():
        assert deps.store.get_counter(key) == value, (key, value)
    # Every entry belongs to a stored message; every charged message has its entries.
    by_message: dict[str, Counter[LedgerKind]] = {}
    for e in ledger:
        by_message.setdefault(e.message_id, Counter())[e.kind] += 1
    messages = {}
    sends: Counter[str] = Counter()
    for t in threads:
        for m in filter(None, (t.initial, t.follow_up)):
            messages[m.message_id] = t.thread_id
            counts = by_message.get(m.message_id, Counter())
            assert counts[LedgerKind.CHARGE] == m.charges, (t.thread_id, m.kind, counts)
            assert counts[LedgerKind.REFUND] == m.refunds, (t.thread_id, m.kind, counts)
            assert m.refunds <= m.charges
            assert m.charges >= 1, "a message without its charge"
            if m.status is MessageStatus.SENT and m.sent_at is not None:
                sends[rules.sends_key(t.recruiter_id, m.sent_at)] += 1
        # R30: never after a reply, never before due, never for a failed first message.
        fu = t.follow_up
        if t.replied_at is not None:
            assert fu is None or fu.status is not MessageStatus.SCHEDULED
        if fu is not None and fu.status is MessageStatus.SENT:
            assert fu.sent_at is not None and fu.scheduled_for is not None
            assert fu.sent_at >= fu.scheduled_for, "delivered before due"
            assert t.replied_at is None or t.replied_at >= fu.sent_at, "delivered after the reply"
            assert t.initial.status is MessageStatus.SENT
    for e in ledger:
        assert messages.get(e.message_id) == e.thread_id, f"a ledger entry without its thread: {e.entry_id}"
    # Each delivery adds one to the day's count in its own commit: a follow-up delivered
    # twice would count twice.
    for key, count in sends.items():
        assert deps.store.get_counter(key) == count, (key, count)
    # R82: the counters committed with each write are what the threads and ledger give.
    recounted = recount_report(deps.store, contract)  # type: ignore[arg-type]
    assert recounted.exact and not recounted.differences and not recounted.disagreements, recounted.to_dict()
