"""One Store contract, two stores: every check runs on MemoryStore (tests/fakes.py, what the
rule tests run on) and on DynamoStore on moto (what production runs), so the fake cannot
drift from the real one. Commits are all-or-nothing; versions, ids and expects are
conditions; counters keep their limits; refusals come in DynamoDB's order; listings are
newest first with cursors that stay in the caller's partition; the due index holds exactly
the scheduled follow-ups, sharded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fakes import MemoryStore
from inmail.config import Settings
from inmail.domain.errors import Conflict, LimitExceeded, NameTaken, Refusal, TransientStoreError
from inmail.domain.model import (
    Batch,
    Candidate,
    Changes,
    Check,
    Contract,
    CounterChange,
    CounterKind,
    Decision,
    Expect,
    Failure,
    FailureCode,
    LedgerEntry,
    LedgerKind,
    Message,
    MessageKind,
    MessageStatus,
    NameClaim,
    RecordedRefusal,
    RuleId,
    Seat,
    SendWindow,
    Template,
    Thread,
    Weekday,
)
from inmail.domain.ports import LedgerIndex, Store, ThreadIndex
from inmail.domain.rules import template_name_key
from inmail.store.dynamo import due_shard
from support import T0

OFFSET = timezone(timedelta(hours=-5))


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Store:
    if request.param == "memory":
        return MemoryStore(due_shards=settings.due_shards)
    request.getfixturevalue("aws")  # moto, for this parameter only
    from inmail.store.dynamo import DynamoStore
    from inmail.store.tables import ensure_tables

    ensure_tables(settings)
    return DynamoStore(settings)


# ---- building blocks ------------------------------------------------------------------


def message(mid: str, kind: MessageKind = MessageKind.INITIAL, **fields: Any) -> Message:
    status = MessageStatus.SENT if kind is MessageKind.INITIAL else MessageStatus.SCHEDULED
    return Message(mid, kind, f"body of {mid}", fields.pop("status", status), **fields)


def thread(
    tid: str,
    *,
    recruiter: str = "r1",
    contract: str = "c1",
    candidate: str = "k1",
    at: datetime = T0,
    due: datetime | None = None,
    **fields: Any,
) -> Thread:
    """A thread as sendInMail stores it; `due` adds a scheduled follow-up due then."""
    follow_up = message(f"{tid}-fu", MessageKind.FOLLOW_UP, scheduled_for=due) if due is not None else None
    initial = fields.pop("initial", message(f"{tid}-m1", sent_at=at))
    return Thread(tid, contract, recruiter, candidate, "Subject", at, initial, follow_up, **fields)


def new_thread(store: Store, tid: str, **kw: Any) -> Thread:
    changes = Changes()
    stored = changes.put(thread(tid, **kw), None)
    store.commit(changes)
    return stored


def entry(eid: str, *, at: datetime = T0, contract: str = "c1", recruiter: str = "r1", **fields: Any) -> LedgerEntry:
    kind = fields.pop("kind", LedgerKind.CHARGE)
    return LedgerEntry(eid, kind, 1, contract, recruiter, fields.pop("thread", "t1"), f"{eid}-m", "R01", at)


def credits(delta: int, limit: int | None = None, key: str = "n", **fields: Any) -> CounterChange:
    """A change to counter `key` (read back as "n"), refused as the month's credits."""
    return CounterChange(CounterKind.CREDITS, key, delta, limit, **fields)


def sends(delta: int, limit: int | None = None, key: str = "m") -> CounterChange:
    """A change to counter `key` (read back as "m"), refused as the day's sends."""
    return CounterChange(CounterKind.SENDS, key, delta, limit)


def contract(cid: str = "c1", version: int = 1, **fields: Any) -> Contract:
    return Contract(cid, f"Contract {cid}", fields.pop("credits", 10), 25, version=version, **fields)


def seat(rid: str = "r1", version: int = 1, **fields: Any) -> Seat:
    return Seat(rid, fields.pop("contract_id", "c1"), 5, version=version, **fields)


def everything(store: Store) -> tuple[Any, ...]:
    """What the checks below may have written: for "a refused commit wrote nothing"."""
    return (
        store.get_contract("c1"),
        store.get_seat("r1"),
        store.get_candidate("k1"),
        store.get_thread("t1"),
        store.get_thread("t2"),
        store.get_counter("n"),
        store.get_counter("m"),
        store.list_ledger(LedgerIndex.CONTRACT, "c1", 100, None).items,
    )


def refused(store: Store, changes: Changes, error: type[Exception]) -> Exception:
    """The commit is refused with `error` and writes nothing."""
    before = everything(store)
    with pytest.raises(error) as info:
        store.commit(changes)
    assert everything(store) == before
    return info.value


# ---- commit: what is written is what is read ------------------------------------------


def test_what_is_committed_is_read_back_field_for_field(store: Store) -> None:
    """Every field of every entity, times in another offset included."""
    decided = T0.astimezone(OFFSET) + timedelta(days=3, microseconds=7)
    decision = Decision(
        MessageStatus.FAILED,
        RuleId.R22,
        FailureCode.RECRUITER_RESTRICTED,
        (Check(RuleId.R22, "recruiter not restricted", False, "restricted"), Check(RuleId.R21, "enabled", True, "")),
        decided,
        "sweep-1",
    )
    follow_up = message(
        "t1-fu",
        MessageKind.FOLLOW_UP,
        status=MessageStatus.FAILED,
        attempt=2,
        credit_refunded=True,
        charges=2,
        refunds=1,
        scheduled_for=decided,
        failure=Failure(FailureCode.RECRUITER_RESTRICTED, decided),
        decision=decision,
        idempotency_key="key-1",
        request_hash="hash-1",
    )
    t = replace(
        thread("t1", at=T0.astimezone(OFFSET)),
        follow_up=follow_up,
        replied_at=decided + timedelta(hours=1),
        reply_body="Yes — très bien",
        request_hash="hash-0",
        lease_owner="sweep-1",
        lease_expires_at=decided + timedelta(minutes=15),
        version=1,
    )
    c = contract(follow_ups_enabled=False, follow_ups_changed_by="a1", follow_ups_changed_at=decided)
    s = seat(admin=True, restricted=True, name="Ada Byron")
    k = Candidate("k1", "Kim Park", deleted=True, version=1, first_name="Kim", last_name="Park")
    e = entry("e1", at=decided, kind=LedgerKind.REFUND)
    store.commit(
        Changes(
            threads=[(t, None)],
            contracts=[(c, None)],
            seats=[(s, None)],
            candidates=[(k, None)],
            ledger=[e],
            counters=[credits(3, limit=10, expires_at=T0 + timedelta(days=2))],
        )
    )
    assert store.get_thread("t1") == t
    assert store.get_contract("c1") == c
    assert store.get_seat("r1") == s
    assert store.get_candidate("k1") == k
    assert store.list_ledger(LedgerIndex.CONTRACT, "c1", 10, None).items == [e]
    assert store.get_counter("n") == 3


def test_what_was_never_written_reads_as_none_and_counters_as_zero(store: Store) -> None:
    assert everything(store) == (None, None, None, None, None, 0, 0, [])


def test_an_empty_commit_writes_nothing_and_is_not_an_error(store: Store) -> None:
    store.commit(Changes())
    assert everything(store) == (None, None, None, None, None, 0, 0, [])


# ---- conditions: ids, versions, expects -------------------------------------------------


@pytest.mark.parametrize("kind", ["thread", "contract", "seat", "candidate"])
def test_a_new_item_is_refused_when_its_id_exists(store: Store, kind: str) -> None:
    items = {
        "thread": lambda v: Changes(threads=[(thread("t1", version=v), None)]),
        "contract": lambda v: Changes(contracts=[(contract(version=v), None)]),
        "seat": lambda v: Changes(seats=[(seat(version=v), None)]),
        "candidate": lambda v: Changes(candidates=[(Candidate("k1", "Kim", version=v), None)]),
    }
    store.commit(items[kind](1))
    refused(store, items[kind](2), Conflict)


def test_r30_an_update_needs_the_version_it_read(store: Store) -> None:
    first = new_thread(store, "t1")
    second = Changes()
    current = second.put(replace(first, subject="Second"), first)
    store.commit(second)
    assert store.get_thread("t1") == current and current.version == 2
    stale = Changes()
    stale.put(replace(first, subject="Lost"), first)  # still expects version 1
    refused(store, stale, Conflict)
    assert store.get_thread("t1") == current


def test_an_update_of_an_item_that_does_not_exist_is_refused(store: Store) -> None:
    refused(store, Changes(contracts=[(contract(version=2), 1)]), Conflict)
    refused(store, Changes(threads=[(thread("t1", version=2), 1)]), Conflict)


def test_r04_a_ledger_entry_id_is_written_once(store: Store) -> None:
    store.commit(Changes(ledger=[entry("e1")]))
    refused(store, Changes(ledger=[entry("e1", at=T0 + timedelta(days=1))]), Conflict)
    assert store.list_ledger(LedgerIndex.CONTRACT, "c1", 10, None).items == [entry("e1")]


def test_an_expect_commits_only_while_the_version_holds(store: Store) -> None:
    store.commit(Changes(contracts=[(contract(version=1), None)], seats=[(seat(version=1), None)]))
    store.commit(Changes(expects=[Expect(contract(version=1)), Expect(seat(version=1))], ledger=[entry("e1")]))
    store.commit(Changes(contracts=[(contract(version=2, credits=5), 1)]))
    refused(store, Changes(expects=[Expect(contract(version=1))], ledger=[entry("e2")]), Conflict)
    never_written = Candidate("k1", "Kim", version=1)
    refused(store, Changes(expects=[Expect(never_written)], ledger=[entry("e2")]), Conflict)
    assert [e.entry_id for e in store.list_ledger(LedgerIndex.CONTRACT, "c1", 10, None).items] == ["e1"]


def test_r30_a_refused_commit_writes_none_of_its_items(store: Store) -> None:
    """One item's condition fails, so the thread, the charge and the counter are not written."""
    store.commit(Changes(ledger=[entry("e1")]))
    changes = Changes(ledger=[entry("e2"), entry("e1")], counters=[credits(1)])
    changes.put(thread("t1"), None)
    refused(store, changes, Conflict)


# ---- counters -------------------------------------------------------------------------


def test_counters_add_up_and_refunds_take_back(store: Store) -> None:
    store.commit(Changes(counters=[credits(2)]))
    store.commit(Changes(counters=[credits(3, limit=5)]))
    store.commit(Changes(counters=[credits(-1, limit=5)]))
    assert store.get_counter("n") == 4


def test_r02_a_counter_reaches_its_limit_and_no_further(store: Store) -> None:
    store.commit(Changes(counters=[credits(4, limit=5)]))
    store.commit(Changes(counters=[credits(1, limit=5)]))  # exactly the limit
    error = refused(store, Changes(counters=[credits(1, limit=5)]), LimitExceeded)
    assert isinstance(error, LimitExceeded) and error.kind is CounterKind.CREDITS
    assert store.get_counter("n") == 5


def test_a_delta_over_the_limit_is_refused_even_on_a_fresh_counter(store: Store) -> None:
    error = refused(store, Changes(counters=[credits(3, limit=2)]), LimitExceeded)
    assert isinstance(error, LimitExceeded) and error.kind is CounterKind.CREDITS


def test_a_refund_is_never_refused_by_a_limit(store: Store) -> None:
    """Negative deltas carry no condition: a counter already past a lowered limit still
    takes its refunds."""
    store.commit(Changes(counters=[credits(5)]))
    store.commit(Changes(counters=[credits(-1, limit=2)]))
    assert store.get_counter("n") == 4


def test_the_counter_at_its_limit_is_the_one_named(store: Store) -> None:
    """sendInMail charges two counters at once (credits, daily sends): the error names the
    full one, and neither moves."""
    store.commit(Changes(counters=[credits(1, limit=1)]))
    changes = Changes(counters=[sends(1, limit=5), credits(1, limit=1)])
    changes.put(thread("t1"), None)
    error = refused(store, changes, LimitExceeded)
    assert isinstance(error, LimitExceeded) and error.kind is CounterKind.CREDITS
    assert (store.get_counter("m"), store.get_counter("n")) == (0, 1)


# ---- which refusal wins: DynamoDB's order of cancellation reasons ------------------------


def test_a_moved_version_is_reported_before_a_full_counter(store: Store) -> None:
    """A request that lost a race (Conflict: reload and decide again) must not be told the
    credits ran out, when a stale expect or put and a full counter fail together."""
    store.commit(Changes(contracts=[(contract(version=1), None)], counters=[credits(1, limit=1)]))
    store.commit(Changes(contracts=[(contract(version=2), 1)]))
    refused(store, Changes(expects=[Expect(contract(version=1))], counters=[credits(1, limit=1)]), Conflict)
    stale_put = Changes(contracts=[(contract(version=2), 1)], counters=[credits(1, limit=1)])
    refused(store, stale_put, Conflict)


def test_a_delta_over_its_limit_is_refused_before_any_condition(store: Store) -> None:
    store.commit(Changes(contracts=[(contract(version=1), None)]))
    changes = Changes(expects=[Expect(contract(version=9))], counters=[credits(2, limit=1)])
    refused(store, changes, LimitExceeded)


# ---- transactions DynamoDB refuses as malformed ------------------------------------------


def _a_bug(store: Store, changes: Changes) -> None:
    """Refused, writing nothing, and not as a race, a limit or a transient fault: a bug."""
    error = refused(store, changes, Exception)
    assert not isinstance(error, (Conflict, LimitExceeded, TransientStoreError)), error


def test_one_item_twice_in_a_transaction_is_refused(store: Store) -> None:
    _a_bug(store, Changes(counters=[credits(1), credits(1)]))
    store.commit(Changes(contracts=[(contract(version=1), None)]))
    _a_bug(store, Changes(expects=[Expect(contract(version=1))], contracts=[(contract(version=2), 1)]))


def test_a_transaction_of_more_than_100_items_is_refused(store: Store) -> None:
    _a_bug(store, Changes(counters=[credits(1, key=f"n{i}") for i in range(101)]))
    store.commit(Changes(counters=[credits(1, key=f"n{i}") for i in range(100)]))
    assert store.get_counter("n99") == 1


# ---- listings and cursors ---------------------------------------------------------------


def _ids(page: Any) -> list[str]:
    return [item.entry_id if isinstance(item, LedgerEntry) else item.thread_id for item in page.items]


def _walk(store: Store, index: ThreadIndex, key: str, first: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = store.list_threads(index, key, first, after)
        pages.append(_ids(page))
        assert len(page.cursors) == len(page.items)
        if not page.has_next_page:
            return pages
        after = page.end_cursor


def test_listings_are_newest_first_with_ties_broken_by_id(store: Store) -> None:
    for tid, minutes in [("t3", 5), ("t1", 0), ("t4", 5), ("t2", 10)]:
        new_thread(store, tid, at=T0 + timedelta(minutes=minutes))
    assert _ids(store.list_threads(ThreadIndex.RECRUITER, "r1", 10, None)) == ["t2", "t4", "t3", "t1"]


def test_pages_resume_after_their_cursor_and_say_when_more_remain(store: Store) -> None:
    for i in range(7):
        new_thread(store, f"t{i}", at=T0 + timedelta(minutes=i))
    assert _walk(store, ThreadIndex.RECRUITER, "r1", 3) == [["t6", "t5", "t4"], ["t3", "t2", "t1"], ["t0"]]
    assert _walk(store, ThreadIndex.RECRUITER, "r1", 7) == [["t6", "t5", "t4", "t3", "t2", "t1", "t0"]]
    first = store.list_threads(ThreadIndex.RECRUITER, "r1", 2, None)
    assert _ids(store.list_threads(ThreadIndex.RECRUITER, "r1", 2, first.cursors[0])) == ["t5", "t4"]
    assert store.list_threads(ThreadIndex.RECRUITER, "r2", 3, None).items == []


def test_each_index_lists_its_own_partition(store: Store) -> None:
    new_thread(store, "t1", recruiter="r1", contract="c1", candidate="k1")
    new_thread(store, "t2", recruiter="r2", contract="c1", candidate="k2", at=T0 + timedelta(minutes=1))
    new_thread(store, "t3", recruiter="x1", contract="c2", candidate="k1", at=T0 + timedelta(minutes=2))
    lists = {
        (index, key): _ids(store.list_threads(index, key, 10, None))
        for index, key in [
            (ThreadIndex.RECRUITER, "r1"),
            (ThreadIndex.CONTRACT, "c1"),
            (ThreadIndex.INBOX, "k1"),
            (ThreadIndex.AWAITING, "r2"),
        ]
    }
    assert lists == {
        (ThreadIndex.RECRUITER, "r1"): ["t1"],
        (ThreadIndex.CONTRACT, "c1"): ["t2", "t1"],
        (ThreadIndex.INBOX, "k1"): ["t3", "t1"],
        (ThreadIndex.AWAITING, "r2"): ["t2"],
    }


def test_r60_r61_the_inbox_and_awaiting_reply_are_sparse(store: Store) -> None:
    """Only a delivered first message is in the inbox; only a thread awaiting a reply is in
    awaiting-reply, and it leaves once replied or failed."""
    new_thread(store, "t1")
    new_thread(store, "t2", at=T0 + timedelta(minutes=1), initial=message("t2-m1", status=MessageStatus.FAILED))
    replied = new_thread(store, "t3", at=T0 + timedelta(minutes=2))
    changes = Changes()
    changes.put(replace(replied, replied_at=T0 + timedelta(hours=1), reply_body="Yes"), replied)
    store.commit(changes)
    assert _ids(store.list_threads(ThreadIndex.INBOX, "k1", 10, None)) == ["t3", "t1"]
    assert _ids(store.list_threads(ThreadIndex.AWAITING, "r1", 10, None)) == ["t1"]


def test_a_cursor_resumes_after_an_item_that_left_a_sparse_index(store: Store) -> None:
    for i in range(4):
        new_thread(store, f"t{i}", at=T0 + timedelta(minutes=i))
    page = store.list_threads(ThreadIndex.AWAITING, "r1", 2, None)
    assert _ids(page) == ["t3", "t2"]
    left = store.get_thread("t2")
    assert left is not None
    changes = Changes()
    changes.put(replace(left, replied_at=T0 + timedelta(hours=1), reply_body="Yes"), left)
    store.commit(changes)
    assert _ids(store.list_threads(ThreadIndex.AWAITING, "r1", 10, page.end_cursor)) == ["t1", "t0"]


def test_r60_a_cursor_outside_the_callers_partition_is_refused(store: Store) -> None:
    for tid, recruiter in [("t1", "r1"), ("t2", "r1"), ("t3", "r2")]:
        new_thread(store, tid, recruiter=recruiter)
    theirs = store.list_threads(ThreadIndex.RECRUITER, "r1", 1, None).end_cursor
    for bad in (theirs, "garbage", "eyJ9", "e30=", "x" * 2000):
        with pytest.raises(Refusal):
            store.list_threads(ThreadIndex.RECRUITER, "r2", 10, bad)
    with pytest.raises(Refusal):  # the same position, asked of another index
        store.list_threads(ThreadIndex.CONTRACT, "c1", 10, theirs)
    assert _ids(store.list_threads(ThreadIndex.RECRUITER, "r2", 10, "")) == ["t3"]  # "": from the start


def test_the_ledger_lists_newest_first_by_contract_and_by_recruiter(store: Store) -> None:
    entries = [
        entry("e1", at=T0),
        entry("e2", at=T0 + timedelta(minutes=1), recruiter="r2"),
        entry("e3", at=T0 + timedelta(minutes=1)),
        entry("e4", at=T0 + timedelta(minutes=2), contract="c2", recruiter="x1"),
    ]
    store.commit(Changes(ledger=entries))
    by_contract = store.list_ledger(LedgerIndex.CONTRACT, "c1", 2, None)
    assert _ids(by_contract) == ["e3", "e2"] and by_contract.has_next_page
    rest = store.list_ledger(LedgerIndex.CONTRACT, "c1", 2, by_contract.end_cursor)
    assert _ids(rest) == ["e1"] and not rest.has_next_page
    assert _ids(store.list_ledger(LedgerIndex.RECRUITER, "r1", 10, None)) == ["e3", "e1"]
    with pytest.raises(Refusal):
        store.list_ledger(LedgerIndex.CONTRACT, "c2", 10, by_contract.end_cursor)


# ---- the due index ------------------------------------------------------------------------


def _due(store: Store, shards: int, now: datetime, limit: int = 100) -> dict[int, list[str]]:
    return {shard: store.due_thread_ids(shard, now, limit) for shard in range(shards)}


def test_r30_the_due_index_holds_scheduled_follow_ups_due_by_now_oldest_first(store: Store, settings: Settings) -> None:
    now = T0 + timedelta(days=3)
    new_thread(store, "late", due=now - timedelta(hours=1))
    new_thread(store, "early", due=(now - timedelta(days=1)).astimezone(OFFSET))
    new_thread(store, "exactly", due=now)
    new_thread(store, "future", due=now + timedelta(microseconds=1))
    new_thread(store, "none")
    shards = _due(store, settings.due_shards, now)
    assert sorted(t for ids in shards.values() for t in ids) == ["early", "exactly", "late"]
    for shard, ids in shards.items():
        assert all(due_shard(t, settings.due_shards) == str(shard) for t in ids), shards


def test_r30_due_ids_come_oldest_first_within_a_shard(store: Store, settings: Settings) -> None:
    tids = [f"t{i}" for i in range(40)]
    for i, tid in enumerate(tids):
        new_thread(store, tid, due=T0 + timedelta(minutes=40 - i))  # t39 is due first
    now = T0 + timedelta(days=1)
    for shard, ids in _due(store, settings.due_shards, now).items():
        mine = [t for t in tids if due_shard(t, settings.due_shards) == str(shard)]
        expected = sorted(mine, key=lambda t: -int(t[1:]))
        assert ids == expected
        assert store.due_thread_ids(shard, now, 2) == expected[:2]


def test_r30_a_follow_up_leaves_the_due_index_once_it_is_no_longer_scheduled(store: Store, settings: Settings) -> None:
    now = T0 + timedelta(days=3)
    t = new_thread(store, "t1", due=now)
    assert fu_of(t).status is MessageStatus.SCHEDULED
    for status in (MessageStatus.SENT, MessageStatus.CANCELLED):
        changes = Changes()
        current = store.get_thread("t1")
        assert current is not None
        changes.put(replace(current, follow_up=replace(fu_of(t), status=status)), current)
        store.commit(changes)
        assert _due(store, settings.due_shards, now) == {s: [] for s in range(settings.due_shards)}


def fu_of(t: Thread) -> Message:
    assert t.follow_up is not None
    return t.follow_up


# ---- send windows and moves (R70-R74) ----------------------------------------------------


def test_r70_to_r74_fields_are_read_back_field_for_field(store: Store) -> None:
    """A contract's window and opt-in with who set them, a candidate's zone, a follow-up's
    zone, moves and the decision that moved it."""
    moved_to = (T0 + timedelta(days=4)).astimezone(OFFSET)
    window = SendWindow(9, 17, (Weekday.MONDAY, Weekday.FRIDAY, Weekday.SUNDAY))
    c = contract(
        send_window=window,
        send_window_changed_by="a1",
        send_window_changed_at=T0.astimezone(OFFSET),
        reschedule_on_daily_limit=True,
        reschedule_changed_by="a2",
        reschedule_changed_at=T0 + timedelta(microseconds=3),
    )
    k = Candidate("k1", "Kim", version=1, time_zone="Australia/Lord_Howe")
    decision = Decision(
        MessageStatus.SCHEDULED,
        RuleId.R25,
        FailureCode.DAILY_LIMIT_REACHED,
        (Check(RuleId.R25, "moved to the next day instead (R74)", True, "moved to ..."),),
        T0 + timedelta(days=3),
        "sweep-1",
        moved_to=moved_to,
    )
    fu = message(
        "t1-fu",
        MessageKind.FOLLOW_UP,
        scheduled_for=moved_to,
        decision=decision,
        time_zone="Australia/Lord_Howe",
        times_rescheduled=2,
    )
    t = replace(thread("t1"), follow_up=fu, version=1)
    store.commit(Changes(threads=[(t, None)], contracts=[(c, None)], candidates=[(k, None)]))
    assert store.get_contract("c1") == c
    assert store.get_candidate("k1") == k
    assert store.get_candidates(["k1"]) == {"k1": k}  # a batch's read (R90) keeps the zone too
    assert store.get_thread("t1") == t

    changes = Changes()
    changes.put(replace(c, send_window=None, reschedule_on_daily_limit=False), c)
    store.commit(changes)
    cleared = store.get_contract("c1")
    assert cleared is not None and (cleared.send_window, cleared.reschedule_on_daily_limit) == (None, False)


def test_r74_a_moved_follow_up_moves_in_the_due_index(store: Store, settings: Settings) -> None:
    now = T0 + timedelta(days=3)
    t = new_thread(store, "t1", due=now)
    tomorrow = now + timedelta(days=1)
    changes = Changes()
    changes.put(replace(t, follow_up=replace(fu_of(t), scheduled_for=tomorrow, times_rescheduled=1)), t)
    store.commit(changes)
    assert _due(store, settings.due_shards, now + timedelta(hours=12)) == {s: [] for s in range(settings.due_shards)}
    assert sorted(tid for ids in _due(store, settings.due_shards, tomorrow).values() for tid in ids) == ["t1"]


# ---- sending to many (R90, R92): many reads at once, templates, name claims, batches -------


def a_template(tid: str = "t1", name: str = "Intro", contract: str = "c1", **fields: Any) -> Template:
    values: dict[str, Any] = {
        "subject": "Hi {firstName|there}",
        "body": "Body",
        "follow_up_body": None,
        "author_id": "r1",
        "updated_at": T0,
        **fields,
    }
    return Template(tid, contract, name, **values)


def name_claim(t: Template) -> NameClaim:
    return NameClaim(t.contract_id, template_name_key(t.name), t.template_id)


def create_template(store: Store, t: Template) -> Template:
    changes = Changes()
    stored = changes.put(t, None)
    changes.claim_name(name_claim(stored))
    store.commit(changes)
    return stored


def test_many_candidates_and_threads_in_one_read(store: Store) -> None:
    changes = Changes()
    for cid in ("k1", "k2"):
        changes.put(Candidate(cid, cid.upper(), first_name="F"), None)
    store.commit(changes)
    found = store.get_candidates(["k1", "nobody", "k2"])
    assert sorted(found) == ["k1", "k2"] and found["k1"].first_name == "F" and found["k1"].version == 1
    assert store.get_candidates([]) == {} and store.get_threads(["t-none"]) == {}


def test_templates_live_under_their_contract(store: Store) -> None:
    t = create_template(store, a_template(follow_up_body="Ping {firstName}"))
    create_template(store, a_template("t2", "apology"))
    create_template(store, a_template("t3", "Other", contract="c2"))
    assert store.get_template("c1", "t1") == t
    assert store.get_template("c2", "t1") is None  # another contract's key finds nothing
    assert [x.template_id for x in store.list_templates("c1")] == ["t2", "t1"]  # by name, any case
    assert [x.template_id for x in store.list_templates("c2")] == ["t3"]


def test_a_name_is_claimed_once_per_contract(store: Store) -> None:
    create_template(store, a_template())
    with pytest.raises(NameTaken):
        create_template(store, a_template("t2", "  INTRO"))
    assert store.get_template("c1", "t2") is None  # nothing of the refused commit
    create_template(store, a_template("t2", "Intro", contract="c2"))


def test_a_template_changes_on_its_version_and_renames_by_claim(store: Store) -> None:
    t = create_template(store, a_template())
    create_template(store, a_template("t2", "Taken"))
    renamed = a_template(name="Welcome", version=t.version)
    changes = Changes()
    changes.put(renamed, t)
    changes.release_name(name_claim(t))
    changes.claim_name(name_claim(renamed))
    store.commit(changes)
    assert store.get_template("c1", "t1").name == "Welcome"
    stale = Changes()
    stale.put(a_template(subject="late"), t)  # read at version 1, now 2
    with pytest.raises(Conflict):
        store.commit(stale)
    create_template(store, a_template("t3", "intro"))  # the old name is free
    with pytest.raises(NameTaken):
        create_template(store, a_template("t4", "welcome"))


def test_only_the_holder_releases_a_name_and_a_delete_is_on_the_version(store: Store) -> None:
    t = create_template(store, a_template())
    other = create_template(store, a_template("t2", "Other"))
    wrong = Changes()
    wrong.delete_template(other)
    wrong.release_name(NameClaim("c1", template_name_key("Intro"), "t2"))  # t1 holds it
    with pytest.raises(Conflict):
        store.commit(wrong)
    assert store.get_template("c1", "t2") is not None  # all or nothing
    stale = Changes()
    stale.delete_template(a_template(version=0))
    stale.release_name(name_claim(t))
    with pytest.raises(Conflict):
        store.commit(stale)
    done = Changes()
    done.delete_template(t)
    done.release_name(name_claim(t))
    done.counters.append(CounterChange(CounterKind.TEMPLATES, "templates#c1", -1))
    store.commit(done)
    assert store.get_template("c1", "t1") is None
    create_template(store, a_template("t3"))  # "Intro" is free


def test_a_batch_is_recorded_once_and_changed_on_its_version(store: Store) -> None:
    batch = Batch(
        batch_id="b1",
        recruiter_id="r1",
        contract_id="c1",
        request_hash="h",
        candidate_ids=("k1", "k2"),
        subject="Hi {firstName}",
        body="Body",
        follow_up_body="Ping",
        follow_up_delay_days=None,
        follow_up_send_at=T0 + timedelta(days=4),
        created_at=T0,
    )
    changes = Changes()
    stored = changes.put(batch, None)
    store.commit(changes)
    assert store.get_batch("b1") == stored and store.get_batch("b2") is None
    again = Changes()
    again.put(batch, None)
    with pytest.raises(Conflict):
        store.commit(again)
    refusal = RecordedRefusal("k2", "DAILY_LIMIT_REACHED", ("input", "candidateIds", "1"), "You reached...")
    recorded = Changes()
    latest = recorded.put(Batch(**{**stored.__dict__, "refusals": (refusal,)}), stored)
    store.commit(recorded)
    assert store.get_batch("b1") == latest and latest.refusals == (refusal,)
