"""Data safety of the local stack: `kill -9` of `inmail serve` in the middle of writes,
then a restart on the same data dir. Everything acknowledged before the last snapshot
began is there, the restored state is one the API could have left (the ledger balances
against the credit counter, every charge has its thread and every thread its charges),
and a half-written snapshot is never loaded."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from localstack_support import Server, token
from support import operation

pytestmark = pytest.mark.slow

SNAPSHOT_EVERY = 0.4  # seconds; `inmail serve` defaults to 60
WRITERS = 4
CREDITS = 100_000
SNAPSHOT = "dynamodb-snapshot.json"
# Writes acknowledged in the writes phase before the kill, whatever the machine's speed:
# the test waits for them (and for a snapshot begun after the first half of them).
MIN_WRITES = 20
# Only for a test that is broken (a writer stuck, no snapshot ever): never reached otherwise.
HANG_GUARD_SECONDS = 300.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(data_dir=tmp_path / "data", extra=("--no-sweeper", "--snapshot-every", str(SNAPSHOT_EVERY)))
    try:
        yield srv.start()
    finally:
        srv.kill()


def ok(srv: Server, op: str, bearer: str, /, **input: Any) -> dict[str, Any]:
    body = srv.gql(operation(op), {"input": input}, bearer=bearer)
    assert not body.get("errors"), body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert not payload["userErrors"], payload
    return payload


def snapshot_taken_at(data_dir: Path) -> datetime | None:
    try:
        raw = json.loads((data_dir / SNAPSHOT).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return datetime.fromisoformat(raw["taken_at"])


def wait_for_snapshot_after(data_dir: Path, moment: datetime) -> datetime:
    """Waits for the snapshot file to record a start after `moment` (the server writes one
    every SNAPSHOT_EVERY s, start to start)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while time.monotonic() < deadline:
        taken = snapshot_taken_at(data_dir)
        if taken is not None and taken > moment:
            return taken
        time.sleep(0.05)
    raise AssertionError(f"no snapshot begun after {moment.isoformat()} in {HANG_GUARD_SECONDS} s")


def pages(srv: Server, name: str, field: str, bearer: str, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = srv.gql(operation(name), {"first": 100, "after": after, **variables}, bearer=bearer)
        assert not body.get("errors"), body
        conn = body["data"][field]
        nodes += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes
        after = conn["pageInfo"]["endCursor"]


def assert_consistent(srv: Server, admin: str) -> dict[str, dict[str, Any]]:
    """R04 on the restored data, through the API: charges − refunds == credits used; each
    thread's charges and refunds are in the ledger, and each entry has its thread."""
    threads = {t["id"]: t for t in pages(srv, "SentThreads", "sentThreads", admin, allRecruiters=True)}
    ledger = pages(srv, "CreditLedger", "creditLedger", admin)
    assert len({e["id"] for e in ledger}) == len(ledger), "duplicate ledger ids"
    contract = srv.gql(operation("Contract"), bearer=admin)["data"]["contract"]
    net = sum(1 if e["kind"] == "CHARGE" else -1 for e in ledger)
    assert net == CREDITS - contract["creditsRemaining"], (net, contract)
    per_thread: dict[str, Counter[str]] = {}
    for e in ledger:
        assert e["threadId"] in threads, f"a charge without its thread: {e}"
        per_thread.setdefault(e["threadId"], Counter())[e["kind"]] += 1
    for tid, t in threads.items():
        counts = per_thread.get(tid, Counter())
        assert counts["CHARGE"] == t["creditsCharged"] >= 1, (t, counts)
        assert counts["REFUND"] == t["creditsRefunded"], (t, counts)
    return threads


@dataclass
class Acked:
    """What the server acknowledged, and when (wall clock, once the answer arrived); the
    main thread waits on it for a number of acknowledged writes."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    sends: list[tuple[datetime, str]] = field(default_factory=list)
    replies: list[tuple[datetime, str]] = field(default_factory=list)
    writers_done: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def add(self, kind: list[tuple[datetime, str]], tid: str) -> None:
        with self.changed:
            kind.append((datetime.now(UTC), tid))
            self.changed.notify_all()

    def count(self) -> int:
        return len(self.sends) + len(self.replies)

    def times(self) -> list[datetime]:
        return sorted(at for at, _ in self.sends + self.replies)

    def wait_for(self, writes: int) -> None:
        """Until `writes` are acknowledged; fails at once if a writer broke or all stopped."""
        with self.changed:
            reached = self.changed.wait_for(
                lambda: self.count() >= writes or self.errors or self.writers_done == WRITERS, HANG_GUARD_SECONDS
            )
            assert not self.errors, self.errors
            assert reached and self.count() >= writes, f"writers stopped after {self.count()} of {writes} writes"


def writer(srv: Server, recruiter: str, candidate: str, acked: Acked, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    mine: list[str] = []
    try:
        while not stop.is_set():
            if mine and rng.random() < 0.3:
                tid = mine.pop(rng.randrange(len(mine)))
                variables = {"input": {"threadId": tid, "body": "Yes"}}
                body = srv.gql(operation("ReplyToInMail"), variables, candidate)
                payload = body["data"]["replyToInMail"]
                assert not payload["userErrors"], payload
                acked.add(acked.replies, tid)
            else:
                fu = {"body": "ping", "delayDays": 3} if rng.random() < 0.7 else None
                variables = {"input": {"candidateId": "k1", "subject": "Role", "body": "Hello", "followUp": fu}}
                body = srv.gql(operation("SendInMail"), variables, recruiter)
                payload = body["data"]["sendInMail"]
                assert not payload["userErrors"], payload
                tid = payload["thread"]["id"]
                mine.append(tid)
                acked.add(acked.sends, tid)
    except (httpx.TransportError, json.JSONDecodeError):
        pass  # the server is gone
    except BaseException as exc:  # seen by the main thread, not lost with this one
        with acked.changed:
            acked.errors.append(exc)
    finally:
        with acked.changed:
            acked.writers_done += 1
            acked.changed.notify_all()


def test_kill_9_mid_writes_keeps_everything_before_the_last_snapshot(server: Server) -> None:
    srv = server
    ops = token(srv.data_dir, "ops", "OPERATOR")
    ok(srv, "CreateContract", ops, id="c1", name="Acme", monthlyCredits=CREDITS, maxDailyLimit=10_000)
    ok(srv, "AddSeat", ops, contractId="c1", recruiterId="r1", admin=True, dailyLimit=10_000)
    ok(srv, "UpsertCandidate", ops, candidateId="k1", name="Kim")
    admin = token(srv.data_dir, "r1", "RECRUITER", "CONTRACT_ADMIN", contract="c1")
    kim = token(srv.data_dir, "k1", "CANDIDATE")

    # Acknowledged, then a snapshot begun after the last answer: all of it must survive.
    first = [
        ok(
            srv,
            "SendInMail",
            admin,
            candidateId="k1",
            subject="Role",
            body="Hi",
            followUp={"body": "p", "delayDays": 3},
        )
        for _ in range(10)
    ]
    replied = [ok(srv, "ReplyToInMail", kim, threadId=p["thread"]["id"], body="Yes") for p in first[:3]]
    wait_for_snapshot_after(srv.data_dir, datetime.now(UTC))

    # Writers on every side while snapshots run every SNAPSHOT_EVERY s. The kill waits on
    # events, not on time: MIN_WRITES acknowledged, a snapshot begun after the first half of
    # them (so writes of this phase must be restored), then a random number more, so that
    # kill -9 lands at a random moment (sometimes during a snapshot write).
    acked = Acked()
    stop = threading.Event()
    writers = [
        threading.Thread(target=writer, args=(srv, admin, kim, acked, stop, seed), daemon=True)
        for seed in range(WRITERS)
    ]
    for w in writers:
        w.start()
    acked.wait_for(MIN_WRITES)
    wait_for_snapshot_after(srv.data_dir, acked.times()[MIN_WRITES // 2 - 1])
    acked.wait_for(acked.count() + random.randrange(20))
    srv.kill()  # SIGKILL to the whole process group: no clean stop, no final snapshot
    stop.set()
    for w in writers:
        w.join(timeout=HANG_GUARD_SECONDS)
    assert not acked.errors, acked.errors
    taken_at = snapshot_taken_at(srv.data_dir)
    assert taken_at is not None, "the last complete snapshot must be readable"
    before_kill = len(acked.sends) + len(acked.replies)
    assert before_kill >= MIN_WRITES, f"too few writes before the kill to prove anything ({before_kill})"

    # A torn snapshot write (the process died inside it) leaves a temp file: never loaded.
    torn = srv.data_dir / "dynamodb-snapshot.tmp"
    torn.write_text('{"version": 1, "tables": {"inmail-threads": [{"thread_id": {"S": "tor')
    srv.start()  # same data dir, same ports
    threads = assert_consistent(srv, admin)

    for p in first:
        assert p["thread"]["id"] in threads, "a send acknowledged before the snapshot was lost"
    for p in replied:
        assert threads[p["thread"]["id"]]["repliedAt"] is not None, "a reply acknowledged before the snapshot was lost"
    kept_sends = [tid for at, tid in acked.sends if at < taken_at]
    kept_replies = [tid for at, tid in acked.replies if at < taken_at]
    assert len(kept_sends) + len(kept_replies) >= MIN_WRITES // 2, "the writes phase proved nothing restored"
    assert all(tid in threads for tid in kept_sends), "a send acknowledged before the last snapshot was lost"
    assert all(threads[tid]["repliedAt"] is not None for tid in kept_replies), "a reply before the snapshot was lost"
    # What came after the snapshot may be gone, but never in part (checked above).
    lost = sum(1 for _, tid in acked.sends if tid not in threads)
    print(
        f"\ncrash: {len(acked.sends)} sends and {len(acked.replies)} replies acknowledged in the writes phase; "
        f"{len(kept_sends)} sends and {len(kept_replies)} replies before the last snapshot, all restored; "
        f"{lost} sends after it lost; {len(threads)} threads restored"
    )

    # The restored stack keeps working: a new send and a clean stop, still balanced.
    ok(srv, "SendInMail", admin, candidateId="k1", subject="After", body="Hi")
    assert_consistent(srv, admin)
    with contextlib.suppress(Exception):
        srv.stop()
