"""Hypothesis interleaves every use case and sweeps at random times, with store faults
(a commit lost, or landed with its answer lost) and duplicated sweeps; after each step the
money (R04), delivery (R30) and report (R82: the counters are the recount) invariants must
hold."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from fakes import FlakyDelivery
from inmail.domain import report
from inmail.domain.errors import Refusal, TransientStoreError
from inmail.domain.model import Changes, LedgerKind, MessageStatus, Weekday
from inmail.domain.rules import FOLLOW_UP_MAX, FOLLOW_UP_MIN, FollowUpTiming
from inmail.services import follow_ups, operator, sending_settings
from inmail.services.bulk_send import BulkSendRequest, send_inmails
from inmail.services.recount import recount_report
from inmail.services.reply import reply_to_inmail
from inmail.services.report import inmail_report
from inmail.services.send import FollowUpRequest, SendRequest, send_inmail
from inmail.services.sweep import run_sweep
from world import OPERATOR, World, candidate, recruiter

RECRUITERS = ("r1", "r2")
CANDIDATES = ("k1", "k2")


class FollowUpMachine(RuleBasedStateMachine):
    threads = Bundle("threads")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.world.setup(credits=12, daily=4, recruiters=RECRUITERS)
        operator.upsert_candidate(self.world.deps, OPERATOR, "k2", "Kai", False)
        self.deliveries: Counter[str] = Counter()
        self.fault: str | None = None  # armed for the next commit that writes a thread
        # (recruiter, key, fingerprint) -> each candidate's outcome the first time (R90)
        self.batches: dict[tuple[str, str, str], list[tuple[str, str | None, str | None]]] = {}
        self._commit = self.world.store.commit
        self.world.store.commit = self._commit_counting_deliveries  # type: ignore[method-assign]

    def _commit_counting_deliveries(self, changes: Changes) -> None:
        """Count each committed SCHEDULED -> SENT of a follow-up: a delivery. An armed fault
        fails the commit before it lands ("lost") or after ("unseen": the caller never hears)."""
        fault, self.fault = (self.fault, None) if changes.threads else (None, self.fault)
        if fault == "lost":
            raise TransientStoreError("injected: lost")
        before = {t.thread_id: self.world.store.threads.get(t.thread_id) for t, _ in changes.threads}
        self._commit(changes)
        for thread, _ in changes.threads:
            old = before[thread.thread_id]
            was = old.follow_up.status if old is not None and old.follow_up is not None else None
            if (
                thread.follow_up is not None
                and thread.follow_up.status is MessageStatus.SENT
                and was is not MessageStatus.SENT
            ):
                self.deliveries[thread.follow_up.message_id] += 1
        if fault == "unseen":
            raise TransientStoreError("injected: landed, answer lost")

    def _try(self, fn: object) -> object:
        try:
            return fn()  # type: ignore[operator]
        except Refusal:
            return None

    @initialize(target=threads, delays=st.lists(st.integers(3, 10), min_size=2, max_size=4))
    def seed(self, delays: list[int]) -> object:
        """Start with threads whose follow-ups come due, so sweeps have work."""
        ids = []
        for i, delay in enumerate(delays):
            fu = FollowUpRequest("ping", FollowUpTiming(delay, None))
            req = SendRequest(CANDIDATES[i % 2], "Hello", "Body", fu)
            ids.append(send_inmail(self.world.deps, recruiter(RECRUITERS[i % 2]), req).thread.thread_id)
        return multiple(*ids)

    @rule(
        target=threads,
        rid=st.sampled_from(RECRUITERS),
        cand=st.sampled_from(CANDIDATES),
        delay=st.one_of(st.none(), st.integers(2, 29)),
        with_fu=st.booleans(),
    )
    def send(self, rid: str, cand: str, delay: int | None, with_fu: bool) -> str:
        fu = FollowUpRequest("ping", FollowUpTiming(delay, None)) if with_fu else None
        req = SendRequest(cand, "Hello", "Body", fu)
        result = self._try(lambda: send_inmail(self.world.deps, recruiter(rid), req))
        return result.thread.thread_id if result else "missing"  # type: ignore[attr-defined]

    @rule(
        target=threads,
        rid=st.sampled_from(RECRUITERS),
        cands=st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=2, unique=True),
        with_fu=st.booleans(),
        key=st.sampled_from([None, "b1", "b2"]),
    )
    def send_many(self, rid: str, cands: list[str], with_fu: bool, key: str | None) -> object:
        """R90: a batch, its key sometimes reused (a retry, or another batch: CONFLICT)."""
        fu = FollowUpRequest("ping {firstName|there}", FollowUpTiming(None, None)) if with_fu else None
        req = BulkSendRequest(tuple(cands), "Hello {firstName|there}", "Body", fu, idempotency_key=key)
        try:
            results = send_inmails(self.world.deps, recruiter(rid), req)
        except Refusal:
            return multiple()
        outcome = [
            (r.candidate_id, r.thread.thread_id if r.thread else None, r.error.code.value if r.error else None)
            for r in results
        ]
        event(f"batch: {sum(1 for _, tid, _ in outcome if tid)} of {len(outcome)} sent")
        if key is not None:  # a retry returns the same results, whatever happened since
            first = self.batches.setdefault((rid, key, req.fingerprint()), outcome)
            event("batch retried" if first is not outcome else "batch keyed")
            assert first == outcome
        return multiple(*(r.thread.thread_id for r in results if r.thread))

    @rule(tid=threads, delay=st.one_of(st.none(), st.integers(2, 29)))
    def schedule(self, tid: str, delay: int | None) -> None:
        t = self.world.store.threads.get(tid)
        if t:
            req = follow_ups.ScheduleRequest(tid, "later", FollowUpTiming(delay, None))
            self._try(lambda: follow_ups.schedule_follow_up(self.world.deps, recruiter(t.recruiter_id), req))

    @rule(tid=threads)
    def cancel(self, tid: str) -> None:
        t = self.world.store.threads.get(tid)
        if t:
            self._try(lambda: follow_ups.cancel_follow_up(self.world.deps, recruiter(t.recruiter_id), tid))

    @rule(tid=threads, delay=st.one_of(st.none(), st.integers(3, 28)))
    def reschedule(self, tid: str, delay: int | None) -> None:
        t = self.world.store.threads.get(tid)
        if t:
            req = follow_ups.RescheduleRequest(tid, FollowUpTiming(delay, None))
            self._try(lambda: follow_ups.reschedule_follow_up(self.world.deps, recruiter(t.recruiter_id), req))

    @rule(tid=threads)
    def reply(self, tid: str) -> None:
        t = self.world.store.threads.get(tid)
        if t:
            self._try(lambda: reply_to_inmail(self.world.deps, candidate(t.candidate_id), tid, "Hi!"))

    @rule(enabled=st.booleans())
    def toggle(self, enabled: bool) -> None:
        sending_settings.set_follow_ups_enabled(self.world.deps, recruiter("r1", admin=True), enabled)

    @rule(rid=st.sampled_from(RECRUITERS), restricted=st.booleans())
    def restrict(self, rid: str, restricted: bool) -> None:
        operator.set_recruiter_restricted(self.world.deps, OPERATOR, rid, restricted)

    @rule(cand=st.sampled_from(CANDIDATES), deleted=st.booleans())
    def delete_profile(self, cand: str, deleted: bool) -> None:
        operator.upsert_candidate(self.world.deps, OPERATOR, cand, "Someone", deleted)

    @rule(rid=st.sampled_from(RECRUITERS), limit=st.integers(1, 4))
    def daily_limit(self, rid: str, limit: int) -> None:
        sending_settings.set_daily_limit(self.world.deps, recruiter(rid), limit)

    @rule(
        window=st.one_of(
            st.none(),
            st.tuples(st.integers(0, 12), st.integers(13, 24), st.sets(st.sampled_from(Weekday), min_size=1)),
        )
    )
    def send_window(self, window: tuple[int, int, set[Weekday]] | None) -> None:
        """R71: the follow-ups scheduled from now on fall due inside it (R72)."""
        request = None if window is None else sending_settings.SendWindowRequest(*window)
        sending_settings.set_send_window(self.world.deps, recruiter("r1", admin=True), request)

    @rule(enabled=st.booleans())
    def reschedule_on_daily_limit(self, enabled: bool) -> None:
        """R74: follow-ups over the daily maximum move to the next day instead of R25."""
        sending_settings.set_reschedule_on_daily_limit(self.world.deps, recruiter("r1", admin=True), enabled)

    @rule(cand=st.sampled_from(CANDIDATES), zone=st.sampled_from([None, "Europe/Berlin", "Australia/Lord_Howe"]))
    def time_zone(self, cand: str, zone: str | None) -> None:
        operator.upsert_candidate(self.world.deps, OPERATOR, cand, "Someone", False, time_zone=zone)

    @rule(hours=st.integers(1, 24 * 8))
    def advance(self, hours: int) -> None:
        self.world.clock.advance(hours=hours)

    @rule(failures=st.integers(0, 4))
    def sweep(self, failures: int) -> None:
        inner = self.world.deps.delivery
        if failures:
            self.world.deps.delivery = FlakyDelivery(inner, failures)
        try:
            summary = self.world.sweep()
            for outcome, count in summary.to_dict().items():
                if isinstance(count, int) and count and outcome not in ("due",):
                    event(f"sweep {outcome}")
        finally:
            self.world.deps.delivery = inner

    @rule(kind=st.sampled_from(["lost", "unseen"]))
    def store_fault(self, kind: str) -> None:
        """The next commit that writes a thread fails: before it lands, or after."""
        self.fault = kind

    @rule(same_id=st.booleans())
    def duplicate_sweeps(self, same_id: bool) -> None:
        """Two sweeps at once (overlapping invocations), or one invocation retried."""
        self.world.sweeps += 1
        ids = [f"dup-{self.world.sweeps}"] * 2 if same_id else [f"dup-{self.world.sweeps}-{i}" for i in (1, 2)]
        now = self.world.clock.now()
        runs = [
            threading.Thread(target=run_sweep, args=(self.world.deps, now, sweep_id, lambda: False, 2))
            for sweep_id in ids
        ]
        for run in runs:
            run.start()
        for run in runs:
            run.join()

    # ---- invariants ----------------------------------------------------------------

    @invariant()
    def r04_ledger_matches_balance_and_messages(self) -> None:
        store = self.world.store
        assert self.world.ledger_net() == store.balance_used("c1")
        by_message: dict[str, Counter[LedgerKind]] = {}
        for entry in store.ledger.values():
            by_message.setdefault(entry.message_id, Counter())[entry.kind] += 1
        for t in store.threads.values():
            for m in filter(None, (t.initial, t.follow_up)):
                counts = by_message.get(m.message_id, Counter())
                assert counts[LedgerKind.CHARGE] == m.charges
                assert counts[LedgerKind.REFUND] == m.refunds
                assert m.refunds <= m.charges
        for key, used in store.counters.items():
            if key.startswith("credits#"):
                assert used <= 12  # never more charged in a month than the allotment (R03)

    @invariant()
    def r30_never_after_reply_never_early(self) -> None:
        for t in self.world.store.threads.values():
            fu = t.follow_up
            if t.replied_at is not None:
                assert fu is None or fu.status is not MessageStatus.SCHEDULED
            if fu is not None and fu.status is MessageStatus.SENT:
                assert fu.sent_at is not None and fu.scheduled_for is not None
                assert fu.sent_at >= fu.scheduled_for
                assert t.replied_at is None or t.replied_at >= fu.sent_at
                assert t.initial.status is MessageStatus.SENT

    @invariant()
    def r30_delivered_at_most_once(self) -> None:
        assert all(n == 1 for n in self.deliveries.values()), self.deliveries

    @invariant()
    def r82_report_is_the_recount(self) -> None:
        """The counters kept commit by commit are what the threads and ledger give, exactly,
        and so is the report an admin reads over every day there is."""
        store = self.world.store
        result = recount_report(store)
        assert result.exact and not result.differences and not result.disagreements, result.to_dict()
        counted = report.recount(store.all_threads(), store.all_ledger())
        if not counted.figures:
            return
        days = sorted({c.day for c in counted.figures})
        shown = inmail_report(self.world.deps, recruiter("r1", admin=True), days[0], days[-1])
        expected = report.build_report(days[0], days[-1], counted.figures.items(), RECRUITERS)
        assert shown == expected

    @invariant()
    def r11_scheduled_within_72_hours_and_28_days(self) -> None:
        """Whatever moved it (R72's window, R74's moves), a follow-up waits within R11."""
        for t in self.world.store.threads.values():
            fu = t.scheduled_follow_up
            if fu is not None:
                first = t.initial.sent_at or t.created_at
                assert fu.scheduled_for is not None
                assert first + FOLLOW_UP_MIN <= fu.scheduled_for <= first + FOLLOW_UP_MAX

    @invariant()
    def r40_daily_sends_within_maximum(self) -> None:
        for key, count in self.world.store.counters.items():
            if key.startswith("sends#"):
                assert count <= 4


TestFollowUpMachine = FollowUpMachine.TestCase
TestFollowUpMachine.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_sweep_lag_grows_with_time() -> None:
    w = World()
    w.setup()
    w.send(follow_up_days=3)
    assert w.sweep(timedelta(days=3, minutes=5)).lag_seconds == 300
