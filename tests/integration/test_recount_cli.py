"""`inmail recount` as an operator runs it (docs/deploy.md, "The InMail report's counters"):
against a running `inmail serve`, it says the counters are the recount (exit 0), names a
counter that drifted without touching it (exit 1), corrects it with --write, and rebuilds
counters that were never written (the backfill of data from before the report)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localstack_support import Server, run_cli, token
from support import operation

pytestmark = pytest.mark.slow

DAY = "2026-11-02"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(data_dir=tmp_path_factory.mktemp("recount") / "data", extra=("--no-sweeper",))
    try:
        yield srv.start()
    finally:
        srv.kill()


def gql(server: Server, bearer: str, name: str, **variables: Any) -> Any:
    body = server.gql(operation(name), variables, bearer=bearer)
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


def recount(server: Server, *extra: str) -> tuple[int, dict[str, Any], str]:
    done = run_cli("recount", "--dynamodb-port", str(server.dynamodb_port), *extra, cwd=server.data_dir.parent)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, (done.stdout, done.stderr)
    return done.returncode, json.loads(lines[0]), done.stderr


def report_table(server: Server) -> Any:
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{server.dynamodb_port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return dynamodb.Table("inmail-report")


def test_recount_finds_names_and_corrects_drift_and_backfills(server: Server) -> None:
    ops = token(server.data_dir, "ops", "OPERATOR")
    admin = token(server.data_dir, "ada", "RECRUITER", "CONTRACT_ADMIN", contract="acme")
    assert not gql(
        server, ops, "CreateContract", input={"id": "acme", "name": "Acme", "monthlyCredits": 50, "maxDailyLimit": 25}
    )["userErrors"]
    assert not gql(server, ops, "AddSeat", input={"contractId": "acme", "recruiterId": "ada", "admin": True})[
        "userErrors"
    ]
    assert not gql(server, ops, "UpsertCandidate", input={"candidateId": "kim", "name": "Kim"})["userErrors"]
    for follow_up in (None, {"body": "Ping", "delayDays": 3}):
        p = gql(
            server,
            admin,
            "SendInMail",
            input={"candidateId": "kim", "subject": "A", "body": "B", "followUp": follow_up},
        )
        assert not p["userErrors"], p
    today = p["thread"]["createdAt"][:10]

    def sent() -> int:
        total = gql(server, admin, "InMailReport", **{"from": today, "to": today})["total"]
        value: int = total["inMailsSent"]
        return value

    code, summary, _ = recount(server)
    assert code == 0 and summary["exact"] is True, summary
    assert (summary["threads"], summary["ledger_entries"], summary["differing"]) == (2, 3, 0)

    # An incident: a counter drifts. Reported, not touched, without --write.
    key = {"contract_id": "acme", "cohort_key": f"{today}#ada"}
    report_table(server).update_item(
        Key=key, UpdateExpression="ADD inmails_sent :n", ExpressionAttributeValues={":n": 5}
    )
    assert sent() == 7
    code, summary, _ = recount(server)
    assert code == 1 and summary["exact"] is False, summary
    assert summary["differences"] == [
        {"contract": "acme", "recruiter": "ada", "day": today, "deltas": {"inmails_sent": -5}}
    ]
    assert sent() == 7

    code, summary, _ = recount(server, "--write", "--contract", "acme")
    assert code == 0 and summary["corrected"] == 1 and summary["exact"] is True, summary
    assert sent() == 2

    # Data written before the report existed has no counters: the recount is the backfill.
    report_table(server).delete_item(Key=key)
    assert sent() == 0
    code, summary, _ = recount(server, "--write")
    assert code == 0 and summary["corrected"] == 1, summary
    assert sent() == 2
    assert recount(server)[0] == 0


def test_recount_says_when_no_server_answers(tmp_path: Any) -> None:
    from localstack_support import free_port

    done = run_cli("recount", "--dynamodb-port", str(free_port()), cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert "cannot reach DynamoDB" in done.stderr and "Traceback" not in done.stderr
