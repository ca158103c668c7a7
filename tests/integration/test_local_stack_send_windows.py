"""R70-R74 the way a newcomer sees them: `inmail serve`, tokens from `inmail token`, the
committed GraphQL operations over HTTP, and `inmail sweep --now` as a real process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localstack_support import Server, run_cli, token
from support import operation

pytestmark = pytest.mark.slow

ALL_DAY = {"startHour": 0, "endHour": 24, "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                                                   "SATURDAY", "SUNDAY"]}  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(data_dir=tmp_path / "data", extra=("--no-sweeper",))
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


def follow_up(server: Server, bearer: str, thread_id: str, /) -> dict[str, Any]:
    body = server.gql(operation("Thread"), {"id": thread_id}, bearer=bearer)
    fu: dict[str, Any] = body["data"]["thread"]["followUp"]
    return fu


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


def test_r74_a_follow_up_over_the_daily_maximum_is_moved_by_inmail_sweep_and_delivered_the_next_day(
    server: Server,
) -> None:
    ops = token(server.data_dir, "ops", "OPERATOR")
    alice = token(server.data_dir, "alice", "RECRUITER", "CONTRACT_ADMIN", contract="acme")
    call(server, ops, "CreateContract", id="acme", name="Acme", monthlyCredits=20, maxDailyLimit=10)
    call(server, ops, "AddSeat", contractId="acme", recruiterId="alice", admin=True)
    kim = call(server, ops, "UpsertCandidate", candidateId="kim", name="Kim", timeZone="Asia/Kathmandu")
    assert kim["candidate"]["timeZone"] == "Asia/Kathmandu"
    assert call(server, alice, "SetSendWindow", window=ALL_DAY)["contract"]["sendWindow"] == ALL_DAY
    assert call(server, alice, "SetRescheduleOnDailyLimit", enabled=True)["contract"]["rescheduleOnDailyLimit"]

    ids = []
    for subject in ("A role", "Another role"):
        sent = call(
            server,
            alice,
            "SendInMail",
            candidateId="kim",
            subject=subject,
            body="Hello Kim",
            followUp={"body": "Any news?", "delayDays": 3},
        )
        ids.append(sent["thread"]["id"])
    call(server, alice, "SetDailyLimit", dailyLimit=1)
    due = max(datetime.fromisoformat(follow_up(server, alice, tid)["scheduledFor"]) for tid in ids)
    at = due + timedelta(seconds=1)

    summary = sweep(server, at)
    assert (summary["delivered"], summary["rescheduled"], summary["cancelled"]) == (1, 1, 0), summary
    shown = {tid: follow_up(server, alice, tid) for tid in ids}
    (moved_id,) = [tid for tid, fu in shown.items() if fu["status"] == "SCHEDULED"]
    moved = shown[moved_id]
    midnight = datetime(at.year, at.month, at.day, tzinfo=UTC) + timedelta(days=1)  # the whole day is the window
    assert datetime.fromisoformat(moved["scheduledFor"]) == midnight
    assert moved["scheduledForLocal"] == f"{midnight:%Y-%m-%d}T05:45:00+05:45"
    assert (moved["timesRescheduled"], moved["creditRefunded"], moved["timeZone"]) == (1, False, "Asia/Kathmandu")
    assert moved["decision"]["code"] == "DAILY_LIMIT_REACHED" and moved["decision"]["outcome"] == "SCHEDULED"

    assert sweep(server, at)["due"] == 0  # run again: nothing to move twice
    assert sweep(server, midnight)["delivered"] == 1
    assert follow_up(server, alice, moved_id)["status"] == "SENT"
