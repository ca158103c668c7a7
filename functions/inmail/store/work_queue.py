"""The WorkQueue port on SQS: the sweep's hand-offs to the fan-out workers. The worker
function receives them through Lambda's SQS event source; `inmail serve` (and the tests)
through `receive`/`delete`, as the event source would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.config import Config

from ..config import Settings
from ..services.fan_out import HandOff
from . import codec

# Per attempt, as the DynamoDB client's (store/models.py).
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5


def to_body(hand_off: HandOff) -> str:
    """A message: the thread's id, the lease and the sweep's time; and the thread as the
    lease left it (its item's attributes, as DynamoDB holds them), so the worker need not
    read it. A few KB: an SQS message holds 256."""
    body: dict[str, Any] = {
        "thread": hand_off.thread_id,
        "lease": hand_off.lease_owner,
        "now": hand_off.now.isoformat(),
    }
    t = hand_off.thread
    if t is not None:
        body["state"] = {
            "contract": t.contract_id,
            "recruiter": t.recruiter_id,
            "candidate": t.candidate_id,
            "version": t.version,
            "document": codec.thread_to_document(t),
            "leaseOwner": t.lease_owner,
            "leaseUntil": codec.sortable(t.lease_expires_at) if t.lease_expires_at else None,
        }
    return json.dumps(body, separators=(",", ":"))


def from_body(body: str) -> HandOff:
    """Raises ValueError on anything but a message `to_body` wrote."""
    try:
        raw = json.loads(body)
        thread_id, lease, now = raw["thread"], raw["lease"], datetime.fromisoformat(raw["now"])
        if not (isinstance(thread_id, str) and isinstance(lease, str) and thread_id and lease and now.tzinfo):
            raise ValueError("missing fields")
        state = raw.get("state")
        thread = None
        if state is not None:
            thread = codec.thread_from_document(
                thread_id,
                state["contract"],
                state["recruiter"],
                state["candidate"],
                int(state["version"]),
                state["document"],
            )
            thread = replace(
                thread, lease_owner=state["leaseOwner"], lease_expires_at=codec.from_sortable(state["leaseUntil"])
            )
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a hand-off: {body[:200]!r}") from exc
    return HandOff(thread_id, lease, now, thread)


class SqsWorkQueue:
    def __init__(self, client: Any, url: str):
        self._client = client
        self.url = url

    @classmethod
    def from_settings(cls, settings: Settings, session: Any) -> SqsWorkQueue:
        """On `session` (the store's botocore session: its loaders are warm)."""
        assert settings.fan_out_queue_url is not None
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"max_attempts": 1 + settings.dynamodb_max_retries, "mode": "standard"},
            max_pool_connections=max(10, settings.sweep_workers),
        )
        client = session.create_client(
            "sqs", region_name=settings.region, endpoint_url=settings.sqs_endpoint, config=config
        )
        return cls(client, settings.fan_out_queue_url)

    def send(self, hand_offs: list[HandOff]) -> list[int]:
        if not hand_offs:
            return []
        entries = [{"Id": str(i), "MessageBody": to_body(h)} for i, h in enumerate(hand_offs)]
        response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
        return sorted(int(failed["Id"]) for failed in response.get("Failed", []))

    # ---- as Lambda's event source mapping does it (the local stack and the tests) --------

    def receive(self, most: int = 10, visibility_seconds: int | None = None) -> list[dict[str, Any]]:
        """Up to `most` (at most 10) messages, as records of a Lambda SQS event. No long
        polling: the local engine serves one request at a time (local/engine.py)."""
        extra = {"VisibilityTimeout": visibility_seconds} if visibility_seconds is not None else {}
        response = self._client.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=min(most, 10), WaitTimeSeconds=0, **extra
        )
        return [self._record(m) for m in response.get("Messages", [])]

    def receive_all(self) -> list[dict[str, Any]]:
        """Every message now visible (each then hidden for the queue's visibility timeout)."""
        records: list[dict[str, Any]] = []
        while batch := self.receive():
            records += batch
        return records

    def delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
            self._client.delete_message_batch(QueueUrl=self.url, Entries=entries)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.url,
            "awsRegion": "",
        }
