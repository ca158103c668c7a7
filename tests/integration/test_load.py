"""The bounded load run (`make load` runs the long one): concurrent clients sending,
scheduling, cancelling, rescheduling, replying and querying through `inmail serve`, with
`inmail sweep --now <future>` subprocesses running alongside (some two at once). No 5xx,
no GraphQL error, nothing lost or charged twice, the ledger balanced against the
contract and every counter, every follow-up final (bench/load.py does the checks)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import load

pytestmark = pytest.mark.slow


def test_load_bounded_loses_nothing_and_charges_once(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    parsed = load.parser().parse_args(
        [
            "--clients",
            "8",
            "--ops",
            "30",
            "--candidates",
            "12",
            "--sweep-every",
            "2",
            "--out",
            str(out),
        ]
    )
    result = load.load(parsed)
    print(load.table(result))
    assert result["problems"] == {}, load.table(result)
    assert result["load"]["http_5xx"] == 0
    assert result["load"]["graphql_errors"] == 0
    assert result["sweeps"]["during_load"] >= 1  # sweeps really ran alongside the clients
    assert result["audit"]["acknowledged_sends"] > 50
    assert result["audit"]["replied_threads"] > 0
    assert set(result["audit"]["follow_ups"]) <= load.FINAL_STATES


@pytest.mark.parametrize("unpatched", [False, True], ids=["patched", "moto-as-shipped"])
def test_the_embedded_engine_makes_each_request_atomic(unpatched: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the load run found: moto's server handles requests in parallel threads, and a
    cancelled TransactWriteItems puts back what it backed up before applying (moto: copies
    of its tables; the patched engine: copies of its items), undoing a concurrent write to
    them (here about 1 in 10 increments, acknowledged). `inmail serve`'s engine serves one
    request at a time: every acknowledged increment is there, on either path."""
    import threading

    import boto3
    from moto.dynamodb.models import dynamodb_backends

    from inmail.local.engine import UNPATCHED_ENV, EmbeddedEngine
    from localstack_support import free_port

    if unpatched:
        monkeypatch.setenv(UNPATCHED_ENV, "1")
    dynamodb_backends.reset()
    engine = EmbeddedEngine(free_port())
    engine.start()
    assert engine.patched is not unpatched
    try:

        def client() -> Any:
            return boto3.session.Session().client(
                "dynamodb",
                endpoint_url=engine.endpoint,
                region_name="us-east-1",
                aws_access_key_id="t",
                aws_secret_access_key="t",
            )

        db = client()
        db.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for start in range(0, 1000, 25):  # a table big enough that copying it takes a while
            keys = range(start, start + 25)
            items = [{"PutRequest": {"Item": {"k": {"S": f"f{i}"}, "x": {"S": "y" * 50}}}} for i in keys]
            db.batch_write_item(RequestItems={"t": items})

        increment = {
            "TableName": "t",
            "Key": {"k": {"S": "n"}},
            "UpdateExpression": "ADD used :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        # Also increments `n`, then is cancelled by its check: what it put back must be `n`
        # as it is now, not as it was before a concurrent increment.
        missing = {"TableName": "t", "Key": {"k": {"S": "other"}}, "ConditionExpression": "attribute_exists(k)"}

        def add(fail: bool) -> None:
            c = client()
            for _ in range(40):
                items: list[dict[str, Any]] = [{"Update": increment}]
                if fail:
                    items.append({"ConditionCheck": missing})
                try:
                    c.transact_write_items(TransactItems=items)
                except Exception as exc:
                    assert fail and "TransactionCanceled" in type(exc).__name__, exc

        threads = [threading.Thread(target=add, args=(i % 2 == 1,)) for i in range(8)]
        switch = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # threads interleave inside a request: a few µs, not 5 ms
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(switch)
        item = db.get_item(TableName="t", Key={"k": {"S": "n"}})["Item"]
        assert item["used"]["N"] == str(4 * 40)
    finally:
        engine.stop()
        dynamodb_backends.reset()
