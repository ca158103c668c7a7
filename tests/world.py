"""A small world on the in-memory store: services called directly, as unit tests do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fakes import MemoryStore, StoreDelivery
from inmail.domain.model import LedgerKind, Principal, Role, Thread
from inmail.domain.rules import FollowUpTiming
from inmail.services import operator
from inmail.services.deps import Deps
from inmail.services.send import FollowUpRequest, SendRequest, send_inmail
from inmail.services.sweep import SweepSummary, run_sweep
from support import FakeClock, SeqIds

OPERATOR = Principal("ops", frozenset({Role.OPERATOR}))


def recruiter(rid: str, contract: str = "c1", admin: bool = False) -> Principal:
    roles = {Role.RECRUITER, Role.CONTRACT_ADMIN} if admin else {Role.RECRUITER}
    return Principal(rid, frozenset(roles), contract)


def candidate(cid: str) -> Principal:
    return Principal(cid, frozenset({Role.CANDIDATE}))


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    store: MemoryStore = field(default_factory=MemoryStore)
    deps: Deps = field(init=False)
    sweeps: int = 0

    def __post_init__(self) -> None:
        self.deps = Deps(
            store=self.store,
            clock=self.clock,
            ids=SeqIds(),
            delivery=StoreDelivery(self.store),
            sleep=lambda _: None,
        )

    def setup(self, credits: int = 100, daily: int = 50, recruiters: tuple[str, ...] = ("r1",)) -> None:
        operator.create_contract(self.deps, OPERATOR, operator.NewContract("c1", "Acme", credits, daily))
        for i, rid in enumerate(recruiters):
            operator.add_seat(self.deps, OPERATOR, operator.NewSeat("c1", rid, admin=i == 0))
        operator.upsert_candidate(self.deps, OPERATOR, "k1", "Kim", False)

    def send(self, rid: str = "r1", follow_up_days: int | None = 3, cand: str = "k1", **kw: Any) -> Thread:
        fu = None
        if follow_up_days is not None:
            fu = FollowUpRequest("ping", FollowUpTiming(follow_up_days, None))
        req = SendRequest(cand, "Hello", "A role for you", fu, **kw)
        result = send_inmail(self.deps, recruiter(rid), req)
        assert result.error is None, result.error
        return result.thread

    def sweep(self, after: timedelta = timedelta(0)) -> SweepSummary:
        self.sweeps += 1
        return run_sweep(self.deps, self.clock.now() + after, f"sweep-{self.sweeps}", workers=2)

    def thread(self, tid: str) -> Thread:
        t = self.store.get_thread(tid)
        assert t is not None
        return t

    def ledger_net(self, contract_id: str = "c1") -> int:
        charges = sum(
            1 for e in self.store.ledger.values() if e.contract_id == contract_id and e.kind is LedgerKind.CHARGE
        )
        refunds = sum(
            1 for e in self.store.ledger.values() if e.contract_id == contract_id and e.kind is LedgerKind.REFUND
        )
        return charges - refunds
