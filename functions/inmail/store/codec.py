"""Thread <-> JSON document. Times are ISO-8601 in UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..domain.model import (
    Batch,
    Check,
    Decision,
    Failure,
    FailureCode,
    Message,
    MessageKind,
    MessageStatus,
    RecordedRefusal,
    RuleId,
    SendWindow,
    Thread,
    Weekday,
)


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def parse(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _decision_to(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "outcome": d.outcome.value,
        "rule": d.rule.value,
        "code": d.code.value if d.code else None,
        "checks": [[c.rule.value, c.name, c.holds, c.detail] for c in d.checks],
        "at": iso(d.at),
        "sweep": d.sweep_id,
        "movedTo": iso(d.moved_to),
    }


def _decision_from(raw: dict[str, Any] | None) -> Decision | None:
    if raw is None:
        return None
    at = parse(raw["at"])
    assert at is not None
    return Decision(
        outcome=MessageStatus(raw["outcome"]),
        rule=RuleId(raw["rule"]),
        code=FailureCode(raw["code"]) if raw["code"] else None,
        checks=tuple(Check(RuleId(r), n, bool(h), d) for r, n, h, d in raw["checks"]),
        at=at,
        sweep_id=raw["sweep"],
        moved_to=parse(raw.get("movedTo")),
    )


def _message_to(m: Message) -> dict[str, Any]:
    return {
        "id": m.message_id,
        "kind": m.kind.value,
        "body": m.body,
        "status": m.status.value,
        "attempt": m.attempt,
        "charged": m.credit_charged,
        "refunded": m.credit_refunded,
        "charges": m.charges,
        "refunds": m.refunds,
        "scheduledFor": iso(m.scheduled_for),
        "sentAt": iso(m.sent_at),
        "failure": None if m.failure is None else [m.failure.code.value, iso(m.failure.at)],
        "decision": _decision_to(m.decision),
        "idempotencyKey": m.idempotency_key,
        "requestHash": m.request_hash,
        "timeZone": m.time_zone,
        "timesRescheduled": m.times_rescheduled,
    }


def _message_from(raw: dict[str, Any]) -> Message:
    failure = None
    if raw["failure"] is not None:
        failure_at = parse(raw["failure"][1])
        assert failure_at is not None
        failure = Failure(FailureCode(raw["failure"][0]), failure_at)
    return Message(
        message_id=raw["id"],
        kind=MessageKind(raw["kind"]),
        body=raw["body"],
        status=MessageStatus(raw["status"]),
        attempt=int(raw["attempt"]),
        credit_charged=bool(raw["charged"]),
        credit_refunded=bool(raw["refunded"]),
        charges=int(raw["charges"]),
        refunds=int(raw["refunds"]),
        scheduled_for=parse(raw["scheduledFor"]),
        sent_at=parse(raw["sentAt"]),
        failure=failure,
        decision=_decision_from(raw["decision"]),
        idempotency_key=raw["idempotencyKey"],
        request_hash=raw.get("requestHash"),
        # Documents written before send windows (R73, R74) have neither: UTC, never moved.
        time_zone=raw.get("timeZone"),
        times_rescheduled=int(raw.get("timesRescheduled", 0)),
    )


def send_window_to(w: SendWindow | None) -> str | None:
    """A contract's send window (R71) as compact JSON, or None."""
    if w is None:
        return None
    return json.dumps(
        {"start": w.start_hour, "end": w.end_hour, "days": [d.value for d in w.days]}, separators=(",", ":")
    )


def send_window_from(raw: str | None) -> SendWindow | None:
    if not raw:
        return None
    w = json.loads(raw)
    return SendWindow(int(w["start"]), int(w["end"]), tuple(Weekday(d) for d in w["days"]))


def thread_to_document(t: Thread) -> str:
    return json.dumps(
        {
            "subject": t.subject,
            "createdAt": iso(t.created_at),
            "initial": _message_to(t.initial),
            "followUp": _message_to(t.follow_up) if t.follow_up else None,
            "repliedAt": iso(t.replied_at),
            "replyBody": t.reply_body,
            "requestHash": t.request_hash,
            "leaseOwner": t.lease_owner,
            "leaseExpiresAt": iso(t.lease_expires_at),
        },
        separators=(",", ":"),
    )


def thread_from_document(
    thread_id: str, contract_id: str, recruiter_id: str, candidate_id: str, version: int, doc: str
) -> Thread:
    raw = json.loads(doc)
    created = parse(raw["createdAt"])
    assert created is not None
    return Thread(
        thread_id=thread_id,
        contract_id=contract_id,
        recruiter_id=recruiter_id,
        candidate_id=candidate_id,
        subject=raw["subject"],
        created_at=created,
        initial=_message_from(raw["initial"]),
        follow_up=_message_from(raw["followUp"]) if raw["followUp"] else None,
        replied_at=parse(raw["repliedAt"]),
        reply_body=raw["replyBody"],
        request_hash=raw["requestHash"],
        lease_owner=raw["leaseOwner"],
        lease_expires_at=parse(raw["leaseExpiresAt"]),
        version=version,
    )


def sortable(at: datetime) -> str:
    """Fixed-width UTC text, so that string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_sortable(raw: str | None) -> datetime | None:
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if raw else None


def created_key(t: Thread) -> str:
    """Sort key for newest-first listings: time, then id to break ties."""
    return f"{sortable(t.created_at)}#{t.thread_id}"


def batch_to_document(b: Batch) -> str:
    return json.dumps(
        {
            "requestHash": b.request_hash,
            "candidates": list(b.candidate_ids),
            "subject": b.subject,
            "body": b.body,
            "followUpBody": b.follow_up_body,
            "followUpDelayDays": b.follow_up_delay_days,
            "followUpSendAt": iso(b.follow_up_send_at),
            "createdAt": iso(b.created_at),
            "refusals": [[r.candidate_id, r.code, list(r.field) if r.field else None, r.message] for r in b.refusals],
        },
        separators=(",", ":"),
    )


def batch_from_document(batch_id: str, recruiter_id: str, contract_id: str, version: int, doc: str) -> Batch:
    raw = json.loads(doc)
    created = parse(raw["createdAt"])
    assert created is not None
    return Batch(
        batch_id=batch_id,
        recruiter_id=recruiter_id,
        contract_id=contract_id,
        request_hash=raw["requestHash"],
        candidate_ids=tuple(raw["candidates"]),
        subject=raw["subject"],
        body=raw["body"],
        follow_up_body=raw["followUpBody"],
        follow_up_delay_days=raw["followUpDelayDays"],
        follow_up_send_at=parse(raw["followUpSendAt"]),
        created_at=created,
        refusals=tuple(
            RecordedRefusal(cid, code, tuple(field) if field else None, message)
            for cid, code, field, message in raw["refusals"]
        ),
        version=version,
    )
