"""The embedded engine's patches of moto (inmail.local.moto_internals): TransactWriteItems
backs up the items it names instead of deep-copying their tables, snapshots read moto's
tables in one pass, DynamoDB requests skip moto's service dispatch. Each gives what moto's
own path gives: a cancelled transaction leaves every table exactly as moto leaves it (item
by item, in the same order), alone and under concurrent requests; a snapshot holds what
Scan reads. And the patches refuse a moto they were not written against."""

from __future__ import annotations

import copy
import json
import logging
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inmail.local import moto_internals
from inmail.local.engine import UNPATCHED_ENV, EmbeddedEngine, Snapshots
from localstack_support import free_port

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"


# ---- the pin -------------------------------------------------------------------------------


def test_the_patches_are_written_for_the_installed_moto() -> None:
    """Fails when moto is upgraded or its code changes under the patches: read the diff of
    every function in `moto_internals.relied_on()`, re-run this file, then update
    MOTO_VERSION, SOURCE_DIGEST and the pin in pyproject.toml."""
    import moto

    assert moto.__version__ == moto_internals.MOTO_VERSION
    assert moto_internals.source_digest() == moto_internals.SOURCE_DIGEST
    assert moto_internals.check() is None
    pin = next(line for line in Path("pyproject.toml").read_text().splitlines() if '"moto[' in line)
    assert f"=={moto_internals.MOTO_VERSION}" in pin, pin


def test_another_moto_runs_unpatched_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    moto_internals.uninstall()
    monkeypatch.setattr(moto_internals, "MOTO_VERSION", "0.0.1")
    caplog.set_level(logging.WARNING, logger="inmail.local.engine")
    with running_engine() as engine:
        assert not engine.patched and not moto_internals.installed()
        assert "written for moto 0.0.1" in caplog.text and "copies whole tables" in caplog.text
        db = client(engine)
        make_table(db, "t")
        cancelled_increment(db, "t")  # moto's own path: still right
        assert db.get_item(TableName="t", Key={"k": {"S": "n"}}).get("Item") is None


def test_the_unpatched_switch_runs_moto_as_it_ships(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_engine():
        assert moto_internals.installed()
    monkeypatch.setenv(UNPATCHED_ENV, "1")
    with running_engine() as engine:
        assert not engine.patched and not moto_internals.installed()


# ---- transactions: the same tables as moto's own path --------------------------------------


def backend() -> Any:
    """A DynamoDB backend of its own (no server): a table keyed by hash, one by hash and
    range, and one with a stream (moto's own path restores its records too)."""
    from moto.dynamodb.models import DynamoDBBackend

    b = DynamoDBBackend(REGION, ACCOUNT)
    for name, keys, streams in (
        ("h", [("k", "HASH", "S")], None),
        ("r", [("k", "HASH", "S"), ("s", "RANGE", "N")], None),
        ("st", [("k", "HASH", "S")], {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}),
    ):
        b.create_table(
            name,
            schema=[{"AttributeName": a, "KeyType": t} for a, t, _ in keys],
            throughput=None,
            attr=[{"AttributeName": a, "AttributeType": ty} for a, _, ty in keys],
            global_indexes=None,
            indexes=None,
            streams=streams,
            billing_mode="PAY_PER_REQUEST",
            sse_specification=None,
            tags=[],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
    return b


def dump(b: Any) -> list[Any]:
    """Every table as moto holds it, in its order: hash keys (with a range table's empty
    partitions), range keys, every item's attributes; and stream records."""
    out: list[Any] = []
    for name, table in b.tables.items():
        rows: list[Any] = []
        for hk, value in table.items.items():
            if table.range_key_attr is None:
                rows.append((hk.type, hk.value, value.to_json()))
            else:
                rows.append((hk.type, hk.value, [(rk.value, item.to_json()) for rk, item in value.items()]))
        records = table.stream_shard.items if table.stream_shard else []
        stream = [(r.record["eventName"], r.record["dynamodb"].get("NewImage")) for r in records]
        out.append((name, rows, stream))
    return out


def outcome(apply: Any, b: Any, items: list[dict[str, Any]]) -> tuple[str, str] | None:
    try:
        apply(b, items)
    except Exception as exc:
        return type(exc).__name__, str(getattr(exc, "description", exc))
    return None


KEYS = st.sampled_from(["a", "b", "c", "d"])
RANGES = st.sampled_from(["1", "2", "3"])
TABLES = st.sampled_from(["h", "h", "r", "r", "st", "nope"])


@st.composite
def operation(draw: Any) -> dict[str, Any]:
    table = draw(TABLES)
    key: dict[str, Any] = {"k": {"S": draw(KEYS)}}
    if table == "r":
        key["s"] = {"N": draw(RANGES)}
    if draw(st.integers(0, 30)) == 0:
        key = {"x": {"S": "not the key"}}  # moto's own path judges it
    kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
    condition = draw(
        st.sampled_from([None, "attribute_exists(k)", "attribute_not_exists(k)", "n < :lim", "attribute_exists(t)"])
    )
    if kind == "ConditionCheck" and condition is None:
        condition = "attribute_exists(k)"
    values: dict[str, Any] = {}
    op: dict[str, Any] = {"TableName": table}
    if kind == "Put":
        op["Item"] = {**key, "n": {"N": str(draw(st.integers(0, 5)))}, "t": {"S": draw(st.sampled_from("xyz"))}}
        if draw(st.booleans()):
            op["Item"]["l"] = {"L": [{"S": "q"}, {"M": {"m": {"N": "1"}}}]}
    else:
        op["Key"] = key
    if kind == "Update":
        update, update_values = draw(
            st.sampled_from(
                [
                    ("ADD n :one", {":one": {"N": "1"}}),
                    ("SET t = :t", {":t": {"S": "u"}}),
                    ("REMOVE t", {}),
                    ("SET n = n + :one", {":one": {"N": "1"}}),  # fails when n is absent
                    ("SET l = list_append(l, :l)", {":l": {"L": [{"S": "w"}]}}),
                ]
            )
        )
        op["UpdateExpression"] = update
        values.update(update_values)
    if condition is not None:
        op["ConditionExpression"] = condition
        if ":lim" in condition:
            values[":lim"] = {"N": "3"}
    if values:
        op["ExpressionAttributeValues"] = values
    return {kind: op}


@st.composite
def seeded(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    """Items already in the tables."""
    items = []
    for table in ("h", "r", "st"):
        for k in draw(st.lists(KEYS, unique=True, max_size=4)):
            key: dict[str, Any] = {"k": {"S": k}}
            for s in draw(st.lists(RANGES, unique=True, min_size=1, max_size=2)) if table == "r" else [None]:
                if s is not None:
                    key = {**key, "s": {"N": s}}
                items.append((table, {**key, "n": {"N": str(draw(st.integers(0, 5)))}, "t": {"S": "x"}}))
    return items


FAILING_CHECK = {
    "ConditionCheck": {"TableName": "h", "Key": {"k": {"S": "zz"}}, "ConditionExpression": "attribute_exists(k)"}
}


@st.composite
def transaction(draw: Any) -> list[dict[str, Any]]:
    """A few operations, half the time followed by a check that cancels the transaction."""
    items = draw(st.lists(operation(), min_size=1, max_size=4))
    return [*items, FAILING_CHECK] if draw(st.booleans()) else items


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeded(), transactions=st.lists(transaction(), min_size=1, max_size=6))
def test_r04_transactions_leave_every_table_exactly_as_moto_own_path(
    seed: list[tuple[str, dict[str, Any]]], transactions: list[list[dict[str, Any]]]
) -> None:
    """Random transactions (puts, updates, deletes, condition checks; some cancelled by a
    condition, a duplicate key, an update that fails, a missing table) on two backends with
    the same items: the patched path and moto's own one answer alike and leave every table
    alike, item by item and in the same order."""
    assert moto_internals.install() is None
    patched, own = backend(), backend()
    for table, item in seed:
        for b in (patched, own):
            b.put_item(table, copy.deepcopy(item))
    for items in transactions:
        got = outcome(moto_internals.transact_write_items, patched, copy.deepcopy(items))
        expected = outcome(moto_internals.moto_transact_write_items, own, copy.deepcopy(items))
        assert got == expected, items
        assert dump(patched) == dump(own), items


def test_r04_a_cancelled_delete_puts_the_item_back_in_its_place() -> None:
    """moto's Scan and Query walk a table in insertion order: an item deleted then put back
    at the end by a cancelled transaction would move in every listing."""
    assert moto_internals.install() is None
    b = backend()
    for k in "abcd":
        b.put_item("h", {"k": {"S": k}, "n": {"N": "1"}})
    items = [{"Delete": {"TableName": "h", "Key": {"k": {"S": "b"}}}}, FAILING_CHECK]
    before = dump(b)
    assert outcome(moto_internals.transact_write_items, b, items) is not None
    assert dump(b) == before
    assert [hk.value for hk in b.tables["h"].items] == ["a", "b", "c", "d"]


def test_r04_a_transaction_copies_no_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the patch is for: a transaction costs what it names, not its tables. (moto's
    own path, the control, deep-copies the table.)"""
    from moto.dynamodb.models.table import Table

    assert moto_internals.install() is None
    b = backend()
    for i in range(200):
        b.put_item("h", {"k": {"S": f"f{i}"}, "n": {"N": "1"}})
    copied: list[str] = []

    def no_copy(table: Any, memo: Any) -> Any:
        copied.append(table.name)
        raise AssertionError("a table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", no_copy, raising=False)
    items = [increment("h", "f1"), FAILING_CHECK]
    assert outcome(moto_internals.transact_write_items, b, items)[0] == "TransactionCanceledException"  # type: ignore[index]
    assert copied == []
    assert b.tables["h"].items[next(iter(b.tables["h"].items))].attrs.get("used") is None
    assert outcome(moto_internals.moto_transact_write_items, b, items) == ("AssertionError", "a table was copied")
    assert copied == ["h"]


# ---- through the engine, under concurrency -------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_moto() -> Iterator[None]:
    """The engine serves moto's process-wide backends: each test starts from no tables, and
    leaves moto patched or not as it found it (later tests of this worker use moto too)."""
    from moto.core.base_backend import BackendDict
    from moto.dynamodb.models import dynamodb_backends

    assert isinstance(dynamodb_backends, BackendDict)
    was_installed = moto_internals.installed()
    dynamodb_backends.reset()
    yield
    dynamodb_backends.reset()
    if was_installed:
        moto_internals.install()
    else:
        moto_internals.uninstall()


@contextmanager
def running_engine() -> Iterator[EmbeddedEngine]:
    engine = EmbeddedEngine(free_port())
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


def client(engine: EmbeddedEngine) -> Any:
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=engine.endpoint,
        region_name=REGION,
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )


def make_table(db: Any, name: str, size: int = 0) -> None:
    db.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, size, 25):
        puts = [{"PutRequest": {"Item": {"k": {"S": f"f{i}"}, "x": {"S": "y" * 50}}}} for i in range(start, start + 25)]
        db.batch_write_item(RequestItems={name: puts})


def increment(table: str, key: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"k": {"S": key}},
            "UpdateExpression": "ADD used :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def cancelled_increment(db: Any, table: str) -> None:
    """Increments `n`, puts a new item and deletes one, then fails a condition: cancelled."""
    missing = {"TableName": table, "Key": {"k": {"S": "missing"}}, "ConditionExpression": "attribute_exists(k)"}
    try:
        db.transact_write_items(
            TransactItems=[
                increment(table, "n"),
                {"Put": {"TableName": table, "Item": {"k": {"S": "ghost"}}}},
                {"Delete": {"TableName": table, "Key": {"k": {"S": "f3"}}}},
                {"ConditionCheck": missing},
            ]
        )
    except db.exceptions.TransactionCanceledException:
        return
    raise AssertionError("the transaction was not cancelled")


def scan(db: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in db.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def concurrent_run(db_factory: Any, table: str, workers: int = 6, rounds: int = 25) -> None:
    """Half the workers commit increments of `n` (with a ledger-like put), half cancel
    transactions naming `n` too; all at once."""
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            db = db_factory()
            for r in range(rounds):
                if index % 2:
                    cancelled_increment(db, table)
                else:
                    put = {"Put": {"TableName": table, "Item": {"k": {"S": f"e{index}-{r}"}, "x": {"S": "entry"}}}}
                    db.transact_write_items(TransactItems=[increment(table, "n"), put])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads interleave inside requests, not only between them
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert failures == []


def test_r04_cancelled_transactions_under_concurrency_leave_what_moto_own_path_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same concurrent workload (committed increments beside cancelled transactions
    naming the same item) on the patched engine and on moto as it ships: every committed
    write is there, nothing of a cancelled one is, and both leave the same items."""
    results = []
    for unpatched in (False, True):
        if unpatched:
            monkeypatch.setenv(UNPATCHED_ENV, "1")
        from moto.dynamodb.models import dynamodb_backends

        dynamodb_backends.reset()
        with running_engine() as engine:
            assert engine.patched is not unpatched
            db = client(engine)
            make_table(db, "t", size=200)
            concurrent_run(lambda engine=engine: client(engine), "t")
            results.append(sorted(scan(db, "t"), key=lambda item: item["k"]["S"]))
    patched, own = results
    assert patched == own
    by_key = {item["k"]["S"]: item for item in patched}
    assert by_key["n"]["used"] == {"N": str(3 * 25)}
    assert "ghost" not in by_key and "f3" in by_key
    assert len(by_key) == 200 + 1 + 3 * 25


# ---- requests ------------------------------------------------------------------------------


def test_a_client_slow_to_send_its_body_holds_up_no_one() -> None:
    """A request whose body has not arrived waits outside the engine's one-at-a-time gate:
    another client's request is answered meanwhile."""
    with running_engine() as engine:
        db = client(engine)
        make_table(db, "t")
        body = json.dumps({"TableName": "t", "Key": {"k": {"S": "n"}}}).encode()
        head = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
            "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
            "Authorization: AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        slow = socket.create_connection(("127.0.0.1", engine.port))
        try:
            slow.sendall(head + body[:5])  # the rest of the body later
            answered = threading.Event()

            def other() -> None:
                db.describe_table(TableName="t")
                answered.set()

            threading.Thread(target=other, daemon=True).start()
            assert answered.wait(timeout=20), "a request waited for another client's body"
            slow.sendall(body[5:])
            assert b"200 OK" in slow.recv(65536)
        finally:
            slow.close()


def test_requests_for_other_services_still_reach_moto() -> None:
    """DynamoDB requests skip moto's service dispatch; anything else still goes through it."""
    with running_engine() as engine:
        streams = boto3.session.Session().client(
            "dynamodbstreams",
            endpoint_url=engine.endpoint,
            region_name=REGION,
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        assert streams.list_streams()["Streams"] == []


# ---- responses: the same JSON as moto's serializer -----------------------------------------


@contextmanager
def both_serializers() -> Iterator[Counter[str]]:
    """Every DynamoDB response written twice: by the engine's serializer and by moto's own;
    they must agree (status, headers, JSON). Yields how many attribute values of each type
    took the short cut."""
    from moto.core import serialize
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler

    assert moto_internals.install() is None
    ours = serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"]["json"]
    shortcuts: Counter[str] = Counter()
    mismatches: list[Any] = []

    class Counting(ours):  # type: ignore[misc, valid-type]
        def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if key and shape.name == "AttributeValue" and moto_internals.plain_attribute(value):
                shortcuts[next(iter(value))] += 1
            super()._serialize_type_structure(serialized, value, shape, key)

    def checking(handler: Any, action_result: Any) -> Any:
        serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"]["json"] = Counting
        fast = BaseResponse.serialized(handler, action_result)
        serialize.SERVICE_SPECIFIC_SERIALIZERS.pop("dynamodb")
        own = BaseResponse.serialized(handler, action_result)
        serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": ours}
        if (fast[0], fast[1], json.loads(fast[2])) != (own[0], own[1], json.loads(own[2])):
            mismatches.append((handler._get_action(), fast, own))
        return fast

    DynamoHandler.serialized = checking  # type: ignore[method-assign]
    try:
        yield shortcuts
    finally:
        del DynamoHandler.serialized
    assert mismatches == []


ATTRIBUTE = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(min_size=1, max_size=8)),
        st.builds(lambda n: {"N": str(n)}, st.integers(-(10**6), 10**6) | st.sampled_from(["1.5", "-0.25", "1E+3"])),
        st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=8)),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda xs: {"SS": sorted(xs)}, st.sets(st.text(min_size=1, max_size=4), min_size=1, max_size=3)),
        st.builds(lambda xs: {"NS": sorted(map(str, xs))}, st.sets(st.integers(0, 99), min_size=1, max_size=3)),
    ),
    lambda children: st.one_of(
        st.builds(lambda xs: {"L": xs}, st.lists(children, max_size=3)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.sampled_from("abcd"), children, max_size=3)),
    ),
    max_leaves=6,
)
ITEMS = st.lists(
    st.dictionaries(st.sampled_from(["s", "n", "b", "t", "x", "deep"]), ATTRIBUTE, max_size=4), min_size=1, max_size=5
)


def test_responses_are_the_json_moto_own_serializer_writes() -> None:
    """Items of every attribute type (binary, sets, nested lists and maps, NULL, BOOL,
    numbers) through every item operation: the engine writes the JSON moto's serializer
    writes (binary values are left to moto, which base64-encodes them)."""

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(items=ITEMS)
    def check(db: Any, items: list[dict[str, Any]]) -> None:
        keys = [{"k": {"S": f"i{n}"}} for n in range(len(items))]
        for key, attrs in zip(keys, items, strict=True):
            db.put_item(TableName="t", Item={**attrs, **key})
            db.get_item(TableName="t", Key=key)
            db.update_item(
                TableName="t", Key=key, UpdateExpression="SET z = :z", ExpressionAttributeValues={":z": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )  # fmt: skip
        db.batch_get_item(RequestItems={"t": {"Keys": keys}})
        db.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}} for key in keys])
        db.scan(TableName="t")
        db.query(TableName="t", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": keys[0]["k"]})
        db.transact_write_items(TransactItems=[increment("t", "counter")])
        db.batch_write_item(RequestItems={"t": [{"DeleteRequest": {"Key": key}} for key in keys[1:]] or [
            {"PutRequest": {"Item": {"k": {"S": "spare"}}}}]})  # fmt: skip
        db.delete_item(TableName="t", Key=keys[0], ReturnValues="ALL_OLD")

    with running_engine() as engine, both_serializers() as shortcuts:
        db = client(engine)
        make_table(db, "t")
        check(db)
    assert set(shortcuts) == {"S", "N", "BOOL", "NULL", "SS", "NS", "L", "M"}, shortcuts


def test_the_app_reads_the_responses_moto_own_serializer_writes(tmp_path: Path) -> None:
    """The app's own requests (sends with follow-ups, schedules, cancels, replies, every
    listing, a sweep): each DynamoDB response as moto's serializer would write it."""
    from datetime import UTC, datetime, timedelta

    from inmail.api.auth import issue_local_token, load_or_create_secret
    from inmail.api.http import GraphQLHttp, HttpRequest
    from inmail.local.cli import SECRET_FILE, _local_settings
    from inmail.services.sweep import run_sweep
    from inmail.store.tables import ensure_tables
    from inmail.wiring import build_deps
    from support import operation as op

    with running_engine() as engine, both_serializers() as shortcuts:
        settings = _local_settings(engine.endpoint, tmp_path)
        ensure_tables(settings)
        deps = build_deps(settings)
        api = GraphQLHttp(deps, settings)
        secret = load_or_create_secret(tmp_path / SECRET_FILE)

        def call(name: str, variables: dict[str, Any], sub: str, *roles: str, contract: str | None = None) -> Any:
            bearer = issue_local_token(secret, sub, list(roles), contract, timedelta(hours=1))
            body = json.dumps({"query": op(name), "variables": variables}).encode()
            headers = {"content-type": "application/json", "authorization": f"Bearer {bearer}"}
            request = HttpRequest(method="POST", path="/graphql", headers=headers, body=body, query={})
            response = json.loads(api.handle(request).body)
            assert not response.get("errors"), response
            return response["data"]

        contract = {"id": "c", "name": "C", "monthlyCredits": 100, "maxDailyLimit": 50}
        call("CreateContract", {"input": contract}, "ops", "OPERATOR")
        call("AddSeat", {"input": {"contractId": "c", "recruiterId": "r", "admin": True}}, "ops", "OPERATOR")
        for k in ("k0", "k1"):
            call("UpsertCandidate", {"input": {"candidateId": k, "name": k}}, "ops", "OPERATOR")
        me = ("r", "RECRUITER", "CONTRACT_ADMIN")
        threads = []
        for i in range(6):
            follow_up = {"body": "again", "delayDays": 3} if i % 2 else None
            send = {"candidateId": f"k{i % 2}", "subject": "s", "body": f"b{i}", "followUp": follow_up}
            threads.append(call("SendInMail", {"input": send}, *me, contract="c")["sendInMail"]["thread"]["id"])
        call("ScheduleFollowUp", {"input": {"threadId": threads[0], "body": "x", "delayDays": 4}}, *me, contract="c")
        call("CancelFollowUp", {"input": {"threadId": threads[1]}}, *me, contract="c")
        call("ReplyToInMail", {"input": {"threadId": threads[2], "body": "yes"}}, "k0", "CANDIDATE")
        for name, variables in (
            ("AwaitingReply", {"first": 10}),
            ("SentThreads", {"first": 10, "allRecruiters": True}),
            ("CreditLedger", {"first": 50}),
            ("Contract", {}),
            ("Viewer", {}),
            ("Thread", {"id": threads[3]}),
        ):
            call(name, variables, *me, contract="c")
        call("Inbox", {"first": 10}, "k1", "CANDIDATE")
        run_sweep(deps, datetime.now(UTC) + timedelta(days=5), "sweep")
    assert {"S", "N", "BOOL"} <= set(shortcuts), shortcuts


# ---- snapshots -----------------------------------------------------------------------------


def test_a_snapshot_holds_what_scan_reads_and_restores_it(tmp_path: Path) -> None:
    """Read from moto's tables in one pass (Scan pages each walk the table from its start):
    the same items as a Scan reads, in the same order, and a restart restores them."""
    from dataclasses import replace

    from inmail.config import Settings
    from inmail.store.tables import ensure_tables, table_names

    with running_engine() as engine:
        settings = replace(Settings.from_env(), dynamodb_endpoint=engine.endpoint)
        ensure_tables(settings)
        db = client(engine)
        varied = {
            "s": {"S": "é 𝄞"},
            "n": {"N": "-1.5E+3"},
            "b": {"BOOL": False},
            "z": {"NULL": True},
            "ss": {"SS": ["x", "y"]},
            "ns": {"NS": ["1", "2"]},
            "l": {"L": [{"S": "a"}, {"M": {"q": {"N": "7"}}}]},
            "m": {"M": {"deep": {"L": [{"BOOL": True}]}}},
        }
        for name in table_names(settings):
            described = db.describe_table(TableName=name)["Table"]
            types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
            keys = [k["AttributeName"] for k in described["KeySchema"]]  # a hash key, and a range key on some
            for i in range(130):  # ~1.2 MB a table: Scan reads it in two pages
                key = {k: {"S": f"{name}-{i:03d}"} if types[k] == "S" else {types[k]: str(i)} for k in keys}
                db.put_item(TableName=name, Item={**varied, **key, "pad": {"S": "p" * 9000}})
        scanned = {name: scan(db, name) for name in table_names(settings)}
        snapshots = Snapshots(settings, tmp_path, engine)
        assert snapshots.save() == sum(len(items) for items in scanned.values())
        saved = json.loads(snapshots.path.read_text())["tables"]
        assert saved == scanned
        from moto.dynamodb.models import dynamodb_backends

        dynamodb_backends.reset()
        ensure_tables(settings)
        assert snapshots.load() == sum(len(items) for items in scanned.values())
        assert {name: scan(db, name) for name in table_names(settings)} == scanned


def test_a_snapshot_item_moto_refuses_is_reported_as_damaged(tmp_path: Path) -> None:
    """Restored straight into moto's tables, an item that PutItem would refuse (no key) stops
    the start with a message naming the file, not a traceback, and leaves the file as it was."""
    from dataclasses import replace

    from inmail.config import Settings
    from inmail.local.engine import EngineError
    from inmail.store.tables import ensure_tables

    with running_engine() as engine:
        settings = replace(Settings.from_env(), dynamodb_endpoint=engine.endpoint)
        ensure_tables(settings)
        snapshots = Snapshots(settings, tmp_path, engine)
        content = json.dumps({"version": 1, "tables": {settings.threads_table: [{"no_key": {"S": "x"}}]}})
        snapshots.path.write_text(content)
        with pytest.raises(EngineError, match=r"dynamodb-snapshot\.json is damaged"):
            snapshots.load()
        assert snapshots.path.read_text() == content
