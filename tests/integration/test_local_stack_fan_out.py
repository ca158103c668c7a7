"""The sweeper's fan-out the way a user of the local stack sees it: `FAN_OUT_ABOVE=2 inmail
serve`, tokens from `inmail token`, the committed GraphQL operations over HTTP, and
`inmail sweep --now` as a real process. Above the threshold the sweep hands the due
follow-ups to the serve's queue on its embedded engine, and the serve's worker thread
settles them: each delivered once, charged once, nothing left due."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localstack_support import STARTUP_SECONDS, Server, run_cli, token
from support import operation

pytestmark = pytest.mark.slow

ABOVE = 2  # FAN_OUT_ABOVE: due follow-ups a sweep settles itself
SENDS = 12
MONTHLY = 100
WORKER_LINE = "fan-out worker: "  # what LocalWorker logs per batch it settled


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    # As a user would: set in the shell, seen by `inmail serve` and `inmail sweep` alike.
    monkeypatch.setenv("FAN_OUT_ABOVE", str(ABOVE))
    srv = Server(data_dir=tmp_path / "data")  # the sweeper on: it runs the queue's worker
    try:
        yield srv.start()
    finally:
        srv.kill()


def call(server: Server, bearer: str, name: str, /, **input: Any) -> dict[str, Any]:
    """A committed mutation; its payload, which must carry no userErrors."""
    body = server.gql(operation(name), {"input": input}, bearer=bearer)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    return payload


def query(server: Server, bearer: str, name: str, /, **variables: Any) -> dict[str, Any]:
    body = server.gql(operation(name), variables, bearer=bearer)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def every(server: Server, bearer: str, name: str, field: str) -> list[dict[str, Any]]:
    """All nodes of a connection, page by page."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = query(server, bearer, name, after=after)[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def sweep(server: Server, at: datetime) -> dict[str, Any]:
    done = run_cli(
        "sweep",
        "--now",
        at.isoformat().replace("+00:00", "Z"),
        "--dynamodb-port",
        str(server.dynamodb_port),
        cwd=server.data_dir.parent,
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def worker_settled(server: Server) -> Counter[str]:
    """What the serve's fan-out worker logged it settled, by outcome, over all its batches."""
    total: Counter[str] = Counter()
    log = server.stderr_path.read_text(errors="replace") if server.stderr_path.exists() else ""
    for line in log.splitlines():
        if WORKER_LINE in line:
            batch = json.loads(line.split(WORKER_LINE, 1)[1])
            total.update({k: v for k, v in batch.items() if isinstance(v, int) and k not in ("due", "handed_off")})
    return total


def wait_for(what: str, done: Any, server: Server) -> None:
    """Until `done()` holds; the deadline only ends a broken run (no speed limit)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not done():
        assert server.process is not None and server.process.poll() is None, server.output()
        assert time.monotonic() < deadline, f"{what}: not after {STARTUP_SECONDS} s\n{server.output()}"
        time.sleep(0.2)


def test_r30_follow_ups_above_fan_out_above_are_delivered_once_by_the_serves_worker(server: Server) -> None:
    ops = token(server.data_dir, "ops", "OPERATOR")
    alice = token(server.data_dir, "alice", "RECRUITER", "CONTRACT_ADMIN", contract="acme")
    kim = token(server.data_dir, "kim", "CANDIDATE")
    call(server, ops, "CreateContract", id="acme", name="Acme", monthlyCredits=MONTHLY, maxDailyLimit=50)
    call(server, ops, "AddSeat", contractId="acme", recruiterId="alice", admin=True)
    call(server, ops, "UpsertCandidate", candidateId="kim", name="Kim")
    call(server, alice, "SetDailyLimit", dailyLimit=50)

    ids = []
    for n in range(SENDS):
        sent = call(
            server,
            alice,
            "SendInMail",
            candidateId="kim",
            subject=f"Role {n}",
            body="Hello Kim",
            followUp={"body": f"Any news on role {n}?", "delayDays": 3},
        )
        ids.append(sent["thread"]["id"])
    charged = 2 * SENDS  # R01, R02: the first message and its follow-up, each when sent/scheduled
    assert query(server, alice, "Contract")["contract"]["creditsRemaining"] == MONTHLY - charged
    due = max(datetime.fromisoformat(query(server, alice, "Thread", id=t)["thread"]["followUp"]["scheduledFor"])
              for t in ids)  # fmt: skip
    at = due + timedelta(seconds=1)

    summary = sweep(server, at)
    # The sweep settled its share and handed the rest to the serve's queue.
    assert (summary["due"], summary["handed_off"], summary["delivered"]) == (SENDS, SENDS - ABOVE, ABOVE), summary

    def follow_ups() -> dict[str, dict[str, Any]]:
        return {t: query(server, alice, "Thread", id=t)["thread"]["followUp"] for t in ids}

    wait_for("every follow-up SENT", lambda: all(fu["status"] == "SENT" for fu in follow_ups().values()), server)
    wait_for("the worker's log lines", lambda: worker_settled(server)["delivered"] == SENDS - ABOVE, server)

    # The serve's worker delivered what was handed off, and nothing else happened to them.
    settled = worker_settled(server)
    assert {k: v for k, v in settled.items() if v} == {"delivered": SENDS - ABOVE}, server.output()
    shown = follow_ups()
    by_whom = Counter(
        "sweep" if sid.startswith("cli-") else "worker" if sid.startswith("local-worker-") else sid
        for sid in (fu["decision"]["sweepId"] for fu in shown.values())
    )
    assert by_whom == {"sweep": ABOVE, "worker": SENDS - ABOVE}, shown
    for fu in shown.values():
        assert (fu["status"], fu["creditCharged"], fu["creditRefunded"], fu["failure"]) == ("SENT", True, False, None)
        assert fu["decision"]["outcome"] == "SENT" and fu["sentAt"] is not None

    # The candidate received each follow-up once.
    inbox = every(server, kim, "Inbox", "inbox")
    assert sorted(t["id"] for t in inbox) == sorted(ids)
    received = [t["followUp"]["id"] for t in inbox if t["followUp"]["status"] == "SENT"]
    assert sorted(received) == sorted(fu["id"] for fu in shown.values())

    # Money: one charge per message, no refund, the balance unchanged by the deliveries.
    ledger = every(server, alice, "CreditLedger", "creditLedger")
    assert Counter(e["kind"] for e in ledger) == {"CHARGE": charged}, ledger
    assert len({e["messageId"] for e in ledger}) == charged
    assert sum(e["amount"] for e in ledger) == charged
    assert query(server, alice, "Contract")["contract"]["creditsRemaining"] == MONTHLY - charged

    # Nothing left due, nothing leased and waiting: a later sweep finds nothing.
    again = sweep(server, at + timedelta(days=1))
    assert (again["due"], again["handed_off"], again.get("delivered", 0)) == (0, 0, 0), again
