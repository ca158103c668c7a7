"""A setting, restriction or profile deletion that commits between a request's reads and
its commit. sendInMail, scheduleFollowUp and rescheduleFollowUp condition their commit on
the versions they read (R14, R43, R44), so the lost race is decided again and refused with
nothing charged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import steps
from gql import Caller, GraphQLClient
from inmail.domain.model import Changes


class HookedStore:
    """The real store; `hook` runs once, right before the first commit of a request."""

    def __init__(self, inner: Any):
        self._inner = inner
        self.hook: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def commit(self, changes: Changes) -> None:
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        self._inner.commit(changes)


class HookedDelivery:
    """The real delivery (the commit of sendInMail), sharing the store's one-shot hook."""

    def __init__(self, inner: Any, store: HookedStore):
        self._inner = inner
        self._store = store

    def deliver(self, changes: Changes) -> None:
        hook, self._store.hook = self._store.hook, None
        if hook is not None:
            hook()
        self._inner.deliver(changes)


@pytest.fixture
def w(api: GraphQLClient) -> dict[str, Any]:
    world = steps.world(api, admin=True)
    store = HookedStore(api.deps.store)
    api.deps.store = store  # type: ignore[assignment]
    api.deps.delivery = HookedDelivery(api.deps.delivery, store)
    return {"r1": world.r1, "k1": world.k1, "store": store}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (steps.disable_follow_ups, "FOLLOW_UPS_DISABLED"),
        (steps.restrict_recruiter, "RECRUITER_RESTRICTED"),
        (steps.delete_candidate, "CANDIDATE_NOT_FOUND"),
    ],
    ids=["r14", "r43", "r44"],
)
def test_send_with_follow_up_loses_the_race_and_charges_nothing(
    api: GraphQLClient, w: dict[str, Any], change: Callable[[GraphQLClient], None], code: str
) -> None:
    r1: Caller = w["r1"]
    w["store"].hook = lambda: change(api)
    p = steps.send(r1, followUp={"body": "ping", "delayDays": 3})
    assert w["store"].hook is None  # the change did commit between the reads and the commit
    assert steps.codes(p) == [code]
    assert steps.remaining(r1) == 10
    assert steps.ledger(r1) == []
    assert steps.sent_ids(r1) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [(steps.disable_follow_ups, "FOLLOW_UPS_DISABLED"), (steps.restrict_recruiter, "RECRUITER_RESTRICTED")],
    ids=["r14", "r43"],
)
@pytest.mark.parametrize("op", ["schedule", "reschedule"])
def test_schedule_and_reschedule_lose_the_race_and_charge_nothing(
    api: GraphQLClient, w: dict[str, Any], change: Callable[[GraphQLClient], None], code: str, op: str
) -> None:
    r1: Caller = w["r1"]
    if op == "schedule":
        t = steps.sent(r1)
        before = steps.remaining(r1)
        w["store"].hook = lambda: change(api)
        p = r1.mutate("ScheduleFollowUp", threadId=t["id"], body="ping", delayDays=3)
    else:
        t = steps.sent(r1, followUp={"body": "ping", "delayDays": 3})
        assert steps.codes(r1.mutate("CancelFollowUp", threadId=t["id"])) == []
        before = steps.remaining(r1)
        w["store"].hook = lambda: change(api)
        p = r1.mutate("RescheduleFollowUp", threadId=t["id"], delayDays=4)
    assert w["store"].hook is None  # the change did commit between the reads and the commit
    assert steps.codes(p) == [code]
    assert steps.remaining(r1) == before
    charges = [e for e in steps.ledger(r1) if e["kind"] == "CHARGE"]
    refunds = [e for e in steps.ledger(r1) if e["kind"] == "REFUND"]
    assert len(charges) - len(refunds) == 10 - before
