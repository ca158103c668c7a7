"""`make load`: a bounded load run against `inmail serve` on loopback.

Starts `inmail serve --no-sweeper` on free ports with a temporary data dir (or targets
--url with --data-dir and --dynamodb-endpoint), provisions a contract, one recruiter seat
per client, candidates and an auditing contract admin through the API, then runs
--clients concurrent clients (threads, one httpx client and one recruiter each) doing a
mix of sendInMail (with and without follow-up), scheduleFollowUp, cancelFollowUp,
rescheduleFollowUp, replyToInMail (as the candidate) and queries, while `inmail sweep
--now <future>` subprocesses run against the same DynamoDB engine (some of them two at
once with the same clock). At the end a last sweep decides every follow-up, and the run
checks: no 5xx, no GraphQL error at all (every request is valid: refusals are userErrors),
every acknowledged send stored exactly once, the ledger balanced against the contract's
creditsRemaining and every credit and daily counter, each follow-up in one final state
that its credits agree with. It prints a table (requests/s, p50/p95/p99 per operation)
and writes bench/results/load.json. Exit 1 when a check fails.

    .venv/bin/python -m bench.load                     # make load: 20 clients x 150 ops
    .venv/bin/python -m bench.load --clients 8 --ops 30
    .venv/bin/python -m bench.load --engine unpatched   # the same on moto as it ships
    .venv/bin/python -m bench.load --probe 0,1000,5000  # send latency vs table size, both engines

Only loopback traffic; everything it starts is stopped (the server's whole process group).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from support import operation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CONTRACT = "load"
AUDITOR = "auditor"
FINAL_STATES = {"SENT", "FAILED", "CANCELLED", "DELETED"}
STARTUP_SECONDS = 90.0
REQUEST_TIMEOUT = 60.0
SWEEP_TIMEOUT = 300.0


# A lighter page for the audit: every thread of the contract with its money and states.
AUDIT_THREADS = """query($after: String) {
  sentThreads(first: 100, after: $after, allRecruiters: true) {
    edges { node { id recruiterId candidateId status repliedAt creditsCharged creditsRefunded
      initial { id status creditCharged creditRefunded }
      followUp { id status creditCharged creditRefunded } } }
    pageInfo { hasNextPage endCursor } } }"""
AUDIT_LEDGER = """query($after: String) {
  creditLedger(first: 100, after: $after) {
    edges { node { id kind amount messageId threadId recruiterId at } }
    pageInfo { hasNextPage endCursor } } }"""
CONTRACT_QUERY = "query { contract { id monthlyCredits creditsRemaining } }"


# ---- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def inmail_command() -> list[str]:
    here = Path(sys.executable).parent / "inmail"
    if here.exists():
        return [str(here)]
    found = shutil.which("inmail")
    return [found] if found else [sys.executable, "-m", "inmail.local.cli"]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    env.setdefault("AWS_ACCESS_KEY_ID", "local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Target:
    url: str
    data_dir: Path
    dynamodb_endpoint: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def stop(self) -> None:
        """SIGTERM (a clean stop, as Ctrl-C), then the whole process group, whatever happened."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]


ENGINES = ("patched", "unpatched")  # the embedded engine as `inmail serve` runs it, and moto as it ships


def start_server(workdir: Path, engine: str = "patched", extra: tuple[str, ...] = ()) -> Target:
    from inmail.local.engine import UNPATCHED_ENV

    port, dport = free_port(), free_port()
    data_dir = workdir / "data"
    log_path = workdir / "serve.log"
    args = ["serve", "--no-sweeper", "--port", str(port), "--dynamodb-port", str(dport), "--data-dir", str(data_dir)]
    env = subprocess_env()
    env.pop(UNPATCHED_ENV, None)
    if engine == "unpatched":
        env[UNPATCHED_ENV] = "1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*inmail_command(), *args, *extra],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    target = Target(f"http://127.0.0.1:{port}/graphql", data_dir, f"http://127.0.0.1:{dport}", process, log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            target.stop()
            raise RuntimeError(f"inmail serve exited with {process.returncode}:\n{target.log_tail()}")
        try:
            if httpx.get(target.url, headers={"Accept": "text/html"}, timeout=2.0).status_code == 200:
                return target
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    target.stop()
    raise RuntimeError(f"inmail serve not ready after {STARTUP_SECONDS} s:\n{target.log_tail()}")


def tokens_for(data_dir: Path) -> Any:
    """A token maker with the local signing secret (what `inmail token` prints)."""
    from inmail.api.auth import issue_local_token, load_or_create_secret
    from inmail.local.cli import SECRET_FILE

    secret = load_or_create_secret(data_dir / SECRET_FILE)

    def make(sub: str, *roles: str, contract: str | None = None) -> str:
        return issue_local_token(secret, sub, list(roles), contract, timedelta(hours=2))

    return make


# ---- measuring --------------------------------------------------------------------


@dataclass
class Stats:
    """Every request: latency per operation, HTTP status, GraphQL errors, userErrors."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, status: int, outcome: str, error: dict[str, Any] | None) -> None:
        with self.lock:
            self.latencies[op].append(seconds)
            self.outcomes[op][outcome] += 1
            self.statuses[status] += 1
            if error is not None and len(self.errors) < 50:
                self.errors.append(error)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def unmasked(error: dict[str, Any]) -> bool:
    """An error that says more than it should: a trace, an exception's name, a library."""
    text = json.dumps(error)
    return any(s in text for s in ("Traceback", 'File \\"', "botocore", "pynamodb", "Exception", "Error:"))


class Api:
    def __init__(self, url: str, stats: Stats):
        self.url = url
        self.stats = stats
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT)

    def close(self) -> None:
        self.http.close()

    def call(self, op: str, query: str, variables: dict[str, Any], bearer: str) -> dict[str, Any] | None:
        """One POST; returns the body's data (None on a transport, HTTP or GraphQL error)."""
        body = json.dumps({"query": query, "variables": variables})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
        start = time.perf_counter()
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            self.stats.record(op, time.perf_counter() - start, 0, "transport", {"op": op, "transport": repr(exc)})
            return None
        elapsed = time.perf_counter() - start
        try:
            payload = response.json()
        except ValueError:
            payload = {"errors": [{"message": response.text[:200]}]}
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if response.status_code >= 500 or response.status_code != 200 or errors:
            outcome = f"http {response.status_code}" if response.status_code != 200 else "graphql error"
            self.stats.record(
                op, elapsed, response.status_code, outcome, {"op": op, "status": response.status_code, "errors": errors}
            )
            return None
        data: dict[str, Any] = payload["data"]
        field_payload = next(iter(data.values())) if data else None
        outcome = "ok"
        if isinstance(field_payload, dict) and field_payload.get("userErrors"):
            outcome = field_payload["userErrors"][0]["code"]
        self.stats.record(op, elapsed, response.status_code, outcome, None)
        return data


# ---- the clients ------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients were told (acknowledged), shared across threads."""

    sent: dict[str, str] = field(default_factory=dict)  # thread id -> candidate id
    replied: set[str] = field(default_factory=set)
    technical: set[str] = field(default_factory=set)  # sends acknowledged with TECHNICAL_ISSUE
    lost_sends: int = 0  # sends with no answer (transport or HTTP error): may or may not exist
    lock: threading.Lock = field(default_factory=threading.Lock)


MIX = [
    ("sendInMail", 22),
    ("sendInMail+followUp", 26),
    ("scheduleFollowUp", 9),
    ("cancelFollowUp", 9),
    ("rescheduleFollowUp", 6),
    ("replyToInMail", 14),
    ("thread", 5),
    ("awaitingReply", 4),
    ("contract", 2),
    ("inbox", 3),
]


class Client(threading.Thread):
    def __init__(
        self,
        index: int,
        args: argparse.Namespace,
        url: str,
        stats: Stats,
        shared: Ledger,
        make_token: Any,
        candidates: list[str],
        deadline: float,
    ):
        super().__init__(name=f"client-{index}", daemon=True)
        self.rid = f"r{index}"
        self.args = args
        self.api = Api(url, stats)
        self.shared = shared
        self.rng = random.Random(args.seed * 1000 + index)
        self.token = make_token(self.rid, "RECRUITER", contract=CONTRACT)
        self.make_token = make_token
        self.candidates = candidates
        self.deadline = deadline
        self.mine: dict[str, str] = {}  # my thread id -> what I believe of its follow-up
        self.done = 0

    def run(self) -> None:
        ops, weights = zip(*MIX, strict=True)
        try:
            for _ in range(self.args.ops):
                if time.monotonic() > self.deadline:
                    break
                self.step(self.rng.choices(ops, weights)[0])
                self.done += 1
        finally:
            self.api.close()

    def _pick(self, state: str) -> str | None:
        ids = [t for t, s in self.mine.items() if s == state]
        return self.rng.choice(ids) if ids else None

    def step(self, op: str) -> None:
        if op.startswith("sendInMail"):
            self.send(with_follow_up=op.endswith("followUp"))
        elif op == "scheduleFollowUp":
            tid = self._pick("none")
            if tid is None:
                return self.send(with_follow_up=False)
            data = self.api.call(
                op,
                operation("ScheduleFollowUp"),
                {"input": {"threadId": tid, "body": "Following up", "delayDays": self.rng.randint(3, 10)}},
                self.token,
            )
            self._track(tid, data, "scheduleFollowUp", "scheduled")
        elif op == "cancelFollowUp":
            tid = self._pick("scheduled")
            if tid is None:
                return self.send(with_follow_up=True)
            data = self.api.call(op, operation("CancelFollowUp"), {"input": {"threadId": tid}}, self.token)
            self._track(tid, data, "cancelFollowUp", "cancelled")
        elif op == "rescheduleFollowUp":
            tid = self._pick("cancelled")
            if tid is None:
                return self.send(with_follow_up=True)
            data = self.api.call(
                op,
                operation("RescheduleFollowUp"),
                {"input": {"threadId": tid, "delayDays": self.rng.randint(3, 10)}},
                self.token,
            )
            self._track(tid, data, "rescheduleFollowUp", "scheduled")
        elif op == "replyToInMail":
            self.reply()
        else:
            self.query(op)
        return None

    def send(self, with_follow_up: bool) -> None:
        op = "sendInMail+followUp" if with_follow_up else "sendInMail"
        candidate = self.rng.choice(self.candidates)
        request: dict[str, Any] = {"candidateId": candidate, "subject": "A role for you", "body": f"Hello {candidate}"}
        if with_follow_up:
            request["followUp"] = {"body": "Just checking in", "delayDays": self.rng.randint(3, 10)}
        data = self.api.call(op, operation("SendInMail"), {"input": request}, self.token)
        if data is None:
            with self.shared.lock:
                self.shared.lost_sends += 1
            return
        payload = data["sendInMail"]
        thread = payload["thread"]
        codes = [e["code"] for e in payload["userErrors"]]
        if thread is None:
            return  # refused: nothing was sent
        with self.shared.lock:
            self.shared.sent[thread["id"]] = candidate
            if "TECHNICAL_ISSUE" in codes:
                self.shared.technical.add(thread["id"])
        if not codes:
            self.mine[thread["id"]] = "scheduled" if with_follow_up else "none"

    def _track(self, tid: str, data: dict[str, Any] | None, name: str, state: str) -> None:
        if data is None:
            return
        payload = data[name]
        if not payload["userErrors"]:
            self.mine[tid] = state
        else:
            self.mine[tid] = "done"  # replied, swept, failed: leave it alone

    def reply(self) -> None:
        with self.shared.lock:
            open_threads = [(t, c) for t, c in self.shared.sent.items() if t not in self.shared.replied]
            if not open_threads:
                return None
            tid, candidate = self.rng.choice(open_threads)
            self.shared.replied.add(tid)
        bearer = self.make_token(candidate, "CANDIDATE")
        self.api.call(
            "replyToInMail", operation("ReplyToInMail"), {"input": {"threadId": tid, "body": "Interested!"}}, bearer
        )
        return None

    def query(self, op: str) -> None:
        if op == "thread":
            tid = self.rng.choice(list(self.mine)) if self.mine else "none"
            self.api.call(op, operation("Thread"), {"id": tid}, self.token)
        elif op == "awaitingReply":
            self.api.call(op, operation("AwaitingReply"), {"first": 20}, self.token)
        elif op == "contract":
            self.api.call(op, operation("Contract"), {}, self.token)
        else:
            bearer = self.make_token(self.rng.choice(self.candidates), "CANDIDATE")
            self.api.call(op, operation("Inbox"), {"first": 20}, bearer)


# ---- sweeps -----------------------------------------------------------------------


@dataclass
class Sweeps:
    runs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_sweep(target: Target, now: datetime, sweeps: Sweeps, label: str) -> dict[str, Any] | None:
    start = time.perf_counter()
    args = [
        "sweep",
        "--now",
        now.isoformat().replace("+00:00", "Z"),
        "--dynamodb-endpoint",
        target.dynamodb_endpoint,
        "--data-dir",
        str(target.data_dir),
    ]
    try:
        done = subprocess.run(
            [*inmail_command(), *args],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=SWEEP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        with sweeps.lock:
            sweeps.failures.append(f"{label}: timed out after {SWEEP_TIMEOUT} s")
        return None
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        with sweeps.lock:
            sweeps.failures.append(f"{label}: exit {done.returncode}: {done.stderr[-1000:]}")
        return None
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    record = {"label": label, "now": now.isoformat(), "seconds": round(seconds, 2), "summary": summary}
    with sweeps.lock:
        sweeps.runs.append(record)
    return summary


def sweeper_loop(
    target: Target, start: datetime, every: float, stop: threading.Event, sweeps: Sweeps, operator: Any = None
) -> None:
    """Sweeps with a clock 3, 4, 5... days ahead while the clients run; every third round,
    the first included, two at once with the same clock (they race for the same follow-ups:
    R30). Before each round `operator(round)` may change something the sweeper checks (a
    restricted seat)."""
    round_ = 0
    while not stop.wait(every):
        round_ += 1
        if operator is not None:
            operator(round_)
        now = start + timedelta(days=min(2 + round_, 27), minutes=round_)
        if round_ % 3 == 1:
            pair = [threading.Thread(target=run_sweep, args=(target, now, sweeps, f"pair-{round_}{x}")) for x in "ab"]
            for t in pair:
                t.start()
            for t in pair:
                t.join()
        else:
            run_sweep(target, now, sweeps, f"during-{round_}")


# ---- provisioning -----------------------------------------------------------------


def must(data: dict[str, Any] | None, name: str) -> dict[str, Any]:
    if data is None or data[name]["userErrors"]:
        raise RuntimeError(f"provisioning {name} failed: {data}")
    payload: dict[str, Any] = data[name]
    return payload


def provision(api: Api, ops: str, recruiters: list[str], candidates: list[str], contract: str = CONTRACT) -> None:
    must(
        api.call(
            "provision",
            operation("CreateContract"),
            {"input": {"id": contract, "name": "Load", "monthlyCredits": 1_000_000, "maxDailyLimit": 10_000}},
            ops,
        ),
        "createContract",
    )
    for rid in [*recruiters, AUDITOR] if contract == CONTRACT else recruiters:
        must(
            api.call(
                "provision",
                operation("AddSeat"),
                {"input": {"contractId": contract, "recruiterId": rid, "admin": rid == AUDITOR}},
                ops,
            ),
            "addSeat",
        )
    for kid in candidates:
        must(
            api.call(
                "provision",
                operation("UpsertCandidate"),
                {"input": {"candidateId": kid, "name": f"Candidate {kid}"}},
                ops,
            ),
            "upsertCandidate",
        )


# ---- the audit --------------------------------------------------------------------


def pages(api: Api, query: str, field_name: str, bearer: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        data = api.call("audit", query, {"after": after}, bearer)
        if data is None:
            raise RuntimeError(f"audit query {field_name} failed: {api.stats.errors[-1:]}")
        conn = data[field_name]
        out += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return out
        after = conn["pageInfo"]["endCursor"]


def scan_counters(target: Target) -> dict[str, int]:
    """Every counter item, read straight from the engine (credits per month, sends per day)."""
    import boto3

    from inmail.config import Settings

    table = Settings.from_env().counters_table
    client = boto3.client(
        "dynamodb",
        endpoint_url=target.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    out: dict[str, int] = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            out[item["counter_key"]["S"]] = int(item.get("used", {}).get("N", "0"))
    return out


def audit(
    api: Api, target: Target, shared: Ledger, recruiters: list[str], admin: str, started_month: str
) -> dict[str, Any]:
    """Everything the run must leave true. Returns {check: [problems...]} plus figures."""
    threads = pages(api, AUDIT_THREADS, "sentThreads", admin)
    entries = pages(api, AUDIT_LEDGER, "creditLedger", admin)
    contract_data = api.call("audit", CONTRACT_QUERY, {}, admin)
    assert contract_data is not None
    contract = contract_data["contract"]
    problems: dict[str, list[str]] = defaultdict(list)
    stored = _check_sends(threads, shared, problems)
    net_by_message, by_thread, net_by_month = _check_ledger(entries, stored, problems)
    follow_states, sent_messages = _check_threads(threads, net_by_message, by_thread, problems)

    # the contract's balance and every counter agree with the ledger
    used_now = contract["monthlyCredits"] - contract["creditsRemaining"]
    if used_now != net_by_month[started_month]:
        problems["ledger balanced"].append(
            f"{started_month}: contract used {used_now}, ledger charges - refunds {net_by_month[started_month]}"
        )
    if target.dynamodb_endpoint:
        _check_counters(scan_counters(target), net_by_month, recruiters, sent_messages, problems)
    figures = {
        "threads": len(threads),
        "acknowledged_sends": len(shared.sent),
        "sends_with_technical_issue": len(shared.technical),
        "unanswered_sends": shared.lost_sends,
        "replied_threads": sum(t["repliedAt"] is not None for t in threads),
        "ledger_entries": len(entries),
        "charges": sum(e["amount"] for e in entries if e["kind"] == "CHARGE"),
        "refunds": sum(e["amount"] for e in entries if e["kind"] == "REFUND"),
        "net_by_month": dict(net_by_month),
        "contract_used_this_month": used_now,
        "follow_ups": dict(follow_states),
        "messages_sent": sent_messages,
    }
    return {"problems": {k: v[:10] for k, v in problems.items()}, "figures": figures}


def _check_sends(threads: list[dict[str, Any]], shared: Ledger, problems: dict[str, list[str]]) -> set[str]:
    """Every acknowledged send exists exactly once; nothing else exists."""
    ids = [t["id"] for t in threads]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    if dupes:
        problems["sends stored once"].append(f"{len(dupes)} threads listed twice: {dupes[:5]}")
    stored, acked = set(ids), set(shared.sent)
    if acked - stored:
        problems["sends stored once"].append(
            f"{len(acked - stored)} acknowledged sends missing: {sorted(acked - stored)[:5]}"
        )
    extra = stored - acked
    if len(extra) > shared.lost_sends:
        problems["sends stored once"].append(
            f"{len(extra)} unacknowledged threads stored, {shared.lost_sends} sends unanswered"
        )
    return stored


def _check_ledger(
    entries: list[dict[str, Any]], stored: set[str], problems: dict[str, list[str]]
) -> tuple[Counter[str], dict[str, Counter[str]], Counter[str]]:
    """One charge and at most one refund per message attempt, each for a stored thread."""
    entry_ids = [e["id"] for e in entries]
    if len(entry_ids) != len(set(entry_ids)):
        problems["ledger entries unique"].append("an entry id appears twice")
    by_attempt: dict[str, Counter[str]] = defaultdict(Counter)
    net_by_message: Counter[str] = Counter()
    by_thread: dict[str, Counter[str]] = defaultdict(Counter)
    net_by_month: Counter[str] = Counter()
    for e in entries:
        by_attempt[e["id"].rsplit(":", 1)[0]][e["kind"]] += 1
        sign = 1 if e["kind"] == "CHARGE" else -1
        net_by_message[e["messageId"]] += sign * e["amount"]
        by_thread[e["threadId"]][e["kind"]] += e["amount"]
        net_by_month[e["at"][:7]] += sign * e["amount"]
        if e["threadId"] not in stored:
            problems["ledger entries unique"].append(f"entry {e['id']} for an unknown thread")
    for attempt, kinds in by_attempt.items():
        if kinds["CHARGE"] != 1 or kinds["REFUND"] > 1:
            problems["charged once, refunded at most once"].append(f"{attempt}: {dict(kinds)}")
    return net_by_message, by_thread, net_by_month


def _check_threads(
    threads: list[dict[str, Any]],
    net_by_message: Counter[str],
    by_thread: dict[str, Counter[str]],
    problems: dict[str, list[str]],
) -> tuple[Counter[str], int]:
    """Threads and messages agree with the ledger; follow-ups are final, their credits agree."""
    follow_states: Counter[str] = Counter()
    sent_messages = 0
    for t in threads:
        kinds = by_thread[t["id"]]
        if (t["creditsCharged"], t["creditsRefunded"]) != (kinds["CHARGE"], kinds["REFUND"]):
            problems["threads agree with the ledger"].append(
                f"{t['id']}: thread says {t['creditsCharged']}/{t['creditsRefunded']}, ledger {dict(kinds)}"
            )
        sent_messages += t["initial"]["status"] == "SENT"
        for m in (t["initial"], t["followUp"]):
            if m is None:
                continue
            net = net_by_message[m["id"]]
            if net != (1 if m["creditCharged"] and not m["creditRefunded"] else 0):
                problems["messages agree with the ledger"].append(f"{m['id']}: {m} but ledger net {net}")
        fu = t["followUp"]
        if fu is not None:
            follow_states[fu["status"]] += 1
            sent_messages += fu["status"] == "SENT"
            if fu["status"] not in FINAL_STATES:
                problems["follow-ups final"].append(f"{t['id']}: follow-up {fu['status']}")
            expected = 1 if fu["status"] == "SENT" and t["repliedAt"] is None else 0
            if net_by_message[fu["id"]] != expected:
                problems["follow-ups final"].append(
                    f"{t['id']}: follow-up {fu['status']} (replied: {t['repliedAt'] is not None}) "
                    f"has net {net_by_message[fu['id']]} credits"
                )
    return follow_states, sent_messages


def _check_counters(
    counters: dict[str, int],
    net_by_month: Counter[str],
    recruiters: list[str],
    sent_messages: int,
    problems: dict[str, list[str]],
) -> None:
    """Every month's credit counter is the ledger's net; the daily counters sum to the SENT messages."""
    credit_counters = {k.rsplit("#", 1)[1]: v for k, v in counters.items() if k.startswith(f"credits#{CONTRACT}#")}
    for month in set(credit_counters) | set(net_by_month):
        if credit_counters.get(month, 0) != net_by_month[month]:
            problems["ledger balanced"].append(
                f"{month}: counter {credit_counters.get(month, 0)}, ledger {net_by_month[month]}"
            )
    daily = sum(v for k, v in counters.items() if k.split("#")[0] == "sends" and k.split("#")[1] in recruiters)
    if daily != sent_messages:
        problems["daily counters"].append(f"daily counters sum to {daily}, {sent_messages} messages SENT")


# ---- a run ------------------------------------------------------------------------


@contextlib.contextmanager
def target_for(args: argparse.Namespace, extra: tuple[str, ...] = ()) -> Iterator[Target]:
    if args.url:
        yield Target(args.url, Path(args.data_dir), args.dynamodb_endpoint or "")
        return
    workdir = Path(tempfile.mkdtemp(prefix="inmail-load-"))
    target = start_server(workdir, args.engine, extra)
    try:
        yield target
    finally:
        target.stop()
        if target.process is not None and target.process.returncode not in (0, -signal.SIGKILL):
            print(f"inmail serve exited with {target.process.returncode}:\n{target.log_tail()}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def load(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    with target_for(args) as target:
        make_token = tokens_for(target.data_dir)
        stats = Stats()
        ops = make_token("ops", "OPERATOR")
        admin = make_token(AUDITOR, "RECRUITER", "CONTRACT_ADMIN", contract=CONTRACT)
        recruiters = [f"r{i}" for i in range(args.clients)]
        candidates = [f"k{i}" for i in range(args.candidates)]
        setup = Api(target.url, stats)
        provision(setup, ops, recruiters, candidates)
        stats = Stats()  # provisioning is not part of the figures
        setup.stats = stats
        shared, sweeps, stop = Ledger(), Sweeps(), threading.Event()
        clock0 = datetime.now(UTC)
        month = clock0.strftime("%Y-%m")
        deadline = time.monotonic() + args.max_seconds
        clients = [
            Client(i, args, target.url, stats, shared, make_token, candidates, deadline) for i in range(args.clients)
        ]
        operator_api = Api(target.url, stats)

        restricted: list[str] = []

        def restrict(round_: int) -> None:
            """Flag one recruiter per round and clear the one before (R22, R43): its sends are
            refused and the sweeper fails its follow-ups, with the refund in the sweep's month.
            One with a follow-up scheduled, so that there is one to fail even when the load is
            over within a round or two."""
            scheduled = [c.rid for c in clients if "scheduled" in c.mine.values() and c.rid not in restricted]
            flagged = scheduled[round_ % len(scheduled)] if scheduled else f"r{round_ % args.clients}"
            changes = [(restricted.pop(), False)] if restricted else []
            restricted.append(flagged)
            for rid, flag in [*changes, (flagged, True)]:
                operator_api.call(
                    "setRecruiterRestricted",
                    operation("SetRecruiterRestricted"),
                    {"input": {"recruiterId": rid, "restricted": flag}},
                    ops,
                )

        sweeper = threading.Thread(
            target=sweeper_loop, args=(target, clock0, args.sweep_every, stop, sweeps, restrict), daemon=True
        )
        t0 = time.perf_counter()
        cpu0 = process_cpu_seconds(target)
        sweeper.start()
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT))
        load_seconds = time.perf_counter() - t0
        server_cpu = process_cpu_seconds(target) - cpu0 if cpu0 is not None else None
        stop.set()
        sweeper.join(timeout=SWEEP_TIMEOUT)
        operator_api.close()
        hung = [c.name for c in clients if c.is_alive()]
        # the last sweeps: past every due time; the second must find nothing left
        final = run_sweep(target, clock0 + timedelta(days=29), sweeps, "final")
        again = run_sweep(target, clock0 + timedelta(days=29, minutes=1), sweeps, "final-again")
        result = audit(setup, target, shared, recruiters, admin, month)
        setup.close()
    ops_done = sum(c.done for c in clients)
    summary = summarize(args, stats, sweeps, result, hung, again, final, ops_done, load_seconds, started)
    if server_cpu is not None and stats.requests:
        # CPU the server spent per request while the clients ran (the sweeps' requests to its
        # engine included): what the machine's other work does not change, unlike requests/s.
        summary["load"]["server_cpu_ms_per_request"] = round(server_cpu * 1000 / stats.requests, 1)
    return summary


def process_cpu_seconds(target: Target) -> float | None:
    """User + system CPU of `inmail serve` so far (Linux /proc; None elsewhere)."""
    if target.process is None:
        return None
    try:
        fields = Path(f"/proc/{target.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarize(
    args: argparse.Namespace,
    stats: Stats,
    sweeps: Sweeps,
    result: dict[str, Any],
    hung: list[str],
    again: dict[str, Any] | None,
    final: dict[str, Any] | None,
    ops_done: int,
    load_seconds: float,
    started: float,
) -> dict[str, Any]:
    problems: dict[str, list[str]] = result["problems"]
    fivexx = sum(n for s, n in stats.statuses.items() if s >= 500)
    gql_errors = sum(n for op in stats.outcomes.values() for o, n in op.items() if o == "graphql error")
    other_http = sum(n for s, n in stats.statuses.items() if s not in (200,) and s < 500)
    if fivexx:
        problems["no 5xx"] = [f"{fivexx} responses >= 500"]
    if gql_errors or other_http:
        problems["no GraphQL errors"] = [
            f"{gql_errors} GraphQL errors, {other_http} other HTTP statuses",
            *[json.dumps(e)[:300] for e in stats.errors[:5]],
        ]
    if any(unmasked(e) for e in stats.errors):
        problems["no unmasked errors"] = [json.dumps(e)[:300] for e in stats.errors if unmasked(e)][:5]
    if hung:
        problems["no hung client"] = hung
    if sweeps.failures:
        problems["sweeps succeed"] = sweeps.failures[:5]
    if again is None or any(v for k, v in again.items() if k in ("delivered", "failed", "cancelled", "deleted")):
        problems["nothing left due"] = [f"a second final sweep found work: {again}"]
    per_op = {
        op: {
            "count": len(lat),
            "outcomes": dict(stats.outcomes[op]),
            "p50_ms": round(percentile(lat, 0.50) * 1000, 1),
            "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1),
        }
        for op, lat in sorted(stats.latencies.items())
        if op != "audit"
    }
    requests = sum(v["count"] for v in per_op.values())
    swept: Counter[str] = Counter()
    for run in sweeps.runs:
        for k, v in run["summary"].items():
            if isinstance(v, int) and not isinstance(v, bool):
                swept[k] += v
    return {
        "meta": {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "target": args.url or f"inmail serve --no-sweeper (embedded moto engine, {args.engine})",
            "command": "python -m bench.load " + " ".join(sys.argv[1:]),
        },
        "config": {
            "clients": args.clients,
            "ops_per_client": args.ops,
            "candidates": args.candidates,
            "sweep_every_s": args.sweep_every,
            "seed": args.seed,
            "engine": args.engine,
        },
        "load": {
            "seconds": round(load_seconds, 1),
            "client_operations": ops_done,
            "requests": requests,
            "requests_per_s": round(requests / load_seconds, 1) if load_seconds else 0.0,
            "http_statuses": {str(k): v for k, v in stats.statuses.items()},
            "http_5xx": fivexx,
            "graphql_errors": gql_errors,
        },
        "operations": per_op,
        "sweeps": {
            "runs": len(sweeps.runs),
            "during_load": sum(not r["label"].startswith("final") for r in sweeps.runs),
            "totals": dict(swept),
            "final": final,
            "final_again": again,
            "longest_s": max((r["seconds"] for r in sweeps.runs), default=0.0),
        },
        "audit": result["figures"],
        "checks": {name: "FAILED" if name in problems else "held" for name in CHECKS}
        | {k: "FAILED" for k in problems if k not in CHECKS},
        "problems": problems,
    }


CHECKS = [
    "no 5xx",
    "no GraphQL errors",
    "no unmasked errors",
    "no hung client",
    "sweeps succeed",
    "sends stored once",
    "ledger entries unique",
    "charged once, refunded at most once",
    "threads agree with the ledger",
    "messages agree with the ledger",
    "follow-ups final",
    "ledger balanced",
    "daily counters",
    "nothing left due",
]


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'operation':<22} {'count':>6} {'ok':>6} {'refused':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}",
        "-" * 90,
    ]
    for op, s in result["operations"].items():
        ok = s["outcomes"].get("ok", 0)
        errors = sum(n for o, n in s["outcomes"].items() if o in ("graphql error", "transport") or o.startswith("http"))
        refused = s["count"] - ok - errors
        lines.append(
            f"{op:<22} {s['count']:>6} {ok:>6} {refused:>8} {errors:>6} {s['p50_ms']:>8} {s['p95_ms']:>8} "
            f"{s['p99_ms']:>8} {s['max_ms']:>8}"
        )
    ld, sw, au = result["load"], result["sweeps"], result["audit"]
    lines += [
        "-" * 90,
        f"{ld['requests']} requests from {result['config']['clients']} clients in {ld['seconds']} s: "
        f"{ld['requests_per_s']} requests/s ({ld.get('server_cpu_ms_per_request', '-')} ms of server CPU each); "
        f"HTTP {ld['http_statuses']}; 5xx {ld['http_5xx']}; "
        f"GraphQL errors {ld['graphql_errors']}",
        f"sweeps: {sw['during_load']} during the load + 2 final (`inmail sweep --now <future>` subprocesses, "
        f"some in pairs), totals {sw['totals']}, "
        f"longest {sw['longest_s']} s",
        f"audit: {au['threads']} threads ({au['acknowledged_sends']} acknowledged sends), {au['replied_threads']} "
        f"replied, {au['ledger_entries']} ledger entries ({au['charges']} charges, {au['refunds']} refunds), "
        f"net by month {au['net_by_month']}, contract used this month {au['contract_used_this_month']}, "
        f"follow-ups {au['follow_ups']}",
    ]
    for name, verdict in result["checks"].items():
        lines.append(f"  [{'ok' if verdict == 'held' else 'FAIL'}] {name}")
        for p in result["problems"].get(name, []):
            lines.append(f"        {p}")
    return "\n".join(lines)


# ---- how latency grows with the tables -----------------------------------------------


class ProbeTarget:
    """One server of the probe: a `probe` contract whose recruiter sends, and a `seed`
    contract holding the seeded threads."""

    def __init__(self, target: Target):
        self.target = target
        make_token = tokens_for(target.data_dir)
        self.api = Api(target.url, Stats())
        ops = make_token("ops", "OPERATOR")
        provision(self.api, ops, ["p0"], ["pk0"], contract="probe")
        provision(self.api, ops, ["s0"], [], contract="seed")
        self.bearer = make_token("p0", "RECRUITER", contract="probe")
        self.seed_bearer = make_token("s0", "RECRUITER", contract="seed")
        import boto3

        region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        self.db = boto3.session.Session().client("dynamodb", endpoint_url=target.dynamodb_endpoint, region_name=region)

    def send(self, body: str) -> tuple[float, bool]:
        """How long one send took, and whether it was sent."""
        start = time.perf_counter()
        sent = self.api.call(
            "probe",
            operation("SendInMail"),
            {"input": {"candidateId": "pk0", "subject": "s", "body": body, "followUp": {"body": "f", "delayDays": 5}}},
            self.bearer,
        )
        return time.perf_counter() - start, sent is not None and not sent["sendInMail"]["userErrors"]


def write_items(db: Any, items: list[tuple[str, dict[str, Any]]]) -> None:
    """BatchWriteItem, 24 items a request (DynamoDB's limit is 25)."""
    for start in range(0, len(items), 24):
        request: dict[str, list[dict[str, Any]]] = {}
        for table, item in items[start : start + 24]:
            request.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while request:
            request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def seed_items(store: Any, settings: Any, template: Any, first: int, last: int) -> list[tuple[str, dict[str, Any]]]:
    """Threads like `template` (in the seed contract) and each one's CHARGE, as the app
    writes them (DynamoStore's own mapping), in DynamoDB JSON."""
    from dataclasses import replace

    from inmail.domain import transitions
    from inmail.domain.model import LedgerKind
    from inmail.store.dynamo import _entry_model

    items = []
    for n in range(first, last):
        tid = f"seed-{n:07d}"
        thread = replace(
            template, thread_id=tid, initial=replace(template.initial, message_id=transitions.initial_message_id(tid))
        )
        entry = transitions.ledger_entry(thread, thread.initial, LedgerKind.CHARGE, thread.created_at, "seed")
        items.append((settings.threads_table, store._thread_model(thread).serialize()))
        items.append((settings.ledger_table, _entry_model(entry).serialize()))
    return items


PROBED = ("patched", "unpatched", "empty")  # "empty": patched, never seeded (the control)


def probe(args: argparse.Namespace, at_size: Any = None) -> dict[str, Any]:
    """Send latency (sendInMail with a follow-up, one client) after seeding the threads and
    ledger tables to each size, on the patched engine and on moto as it ships, side by side
    with a third server that is never seeded (the p50 at 0 threads, measured in the same
    minutes): sends rotate across the three (A B C, B C A, ...), so what else runs on the
    machine weighs on all. Periodic snapshots are off (measured on their own). `at_size(size,
    items)` is called with each size's new items once it is measured."""
    from dataclasses import replace

    from inmail.config import Settings
    from inmail.store.dynamo import DynamoStore

    sizes = [int(s) for s in args.probe.split(",")]
    rows: list[dict[str, Any]] = []
    quiet = ("--snapshot-every", "86400")
    with contextlib.ExitStack() as stack:
        targets = {}
        for name in PROBED:
            workdir = Path(tempfile.mkdtemp(prefix=f"inmail-probe-{name}-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            target = start_server(workdir, "unpatched" if name == "unpatched" else "patched", quiet)
            stack.callback(target.stop)
            targets[name] = ProbeTarget(target)
        first = targets["patched"]
        first_send = {"input": {"candidateId": "pk0", "subject": "s", "body": "b"}}
        data = first.api.call("seed", operation("SendInMail"), first_send, first.seed_bearer)
        assert data is not None
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        settings = replace(Settings.from_env(), dynamodb_endpoint=first.target.dynamodb_endpoint)
        store = DynamoStore(settings)
        template = store.get_thread(data["sendInMail"]["thread"]["id"])
        assert template is not None
        seeded = 0
        for size in sizes:
            items = seed_items(store, settings, template, seeded, size)
            for name in ("patched", "unpatched"):
                write_items(targets[name].db, items)
            seeded = max(seeded, size)
            latencies: dict[str, list[float]] = {name: [] for name in PROBED}
            failed: Counter[str] = Counter()
            for name in PROBED:
                targets[name].send(f"warm-{size}")  # a first send after seeding is not the measure
            for i in range(args.probe_sends):
                for name in PROBED[i % 3 :] + PROBED[: i % 3]:
                    seconds, ok = targets[name].send(f"b{size}-{i}")
                    latencies[name].append(seconds)  # a failed send counts as long as it took
                    failed[name] += not ok
            # moto as shipped may fail a send (its transaction outlasting the app's DynamoDB
            # timeouts); the patched engine must not.
            assert failed["patched"] == failed["empty"] == 0, f"sends failed at {size} threads: {failed}"
            row: dict[str, Any] = {"threads": size, "sends": args.probe_sends}
            for name in PROBED:
                row[name] = {
                    "p50_ms": round(percentile(latencies[name], 0.5) * 1000, 1),
                    "p95_ms": round(percentile(latencies[name], 0.95) * 1000, 1),
                    "failed": failed[name],
                }
            empty = row["empty"]["p50_ms"]
            row["p50_over_empty"] = {name: round(row[name]["p50_ms"] / empty, 2) for name in ("patched", "unpatched")}
            row["unpatched_over_patched_p50"] = round(row["unpatched"]["p50_ms"] / row["patched"]["p50_ms"], 2)
            rows.append(row)
            if at_size is not None:
                at_size(size, items)
            patched, unpatched = row["patched"], row["unpatched"]
            print(
                f"  {size:>6} threads: sendInMail+followUp p50 / p95 patched {patched['p50_ms']} / "
                f"{patched['p95_ms']} ms ({row['p50_over_empty']['patched']}x the empty server's "
                f"{empty} ms), unpatched {unpatched['p50_ms']} / {unpatched['p95_ms']} ms, "
                f"{unpatched['failed']} failed",
                flush=True,
            )
        for target in targets.values():
            target.api.close()
    if rows and rows[0]["threads"] == 0:
        for row in rows:
            row["p50_over_first"] = {
                name: round(row[name]["p50_ms"] / rows[0][name]["p50_ms"], 2) for name in ("patched", "unpatched")
            }
    return {"probe": rows, "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Load run against inmail serve (loopback only).")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--ops", type=int, default=150, help="operations per client")
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--sweep-every", type=float, default=4.0, help="seconds between sweeps")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="clients stop starting operations after this")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=None, help="target this server instead of starting one")
    parser.add_argument("--data-dir", default=".data", help="with --url: where the signing secret is")
    parser.add_argument("--dynamodb-endpoint", default=None, help="with --url: the server's DynamoDB endpoint")
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    parser.add_argument("--no-write", action="store_true", help="do not write --out")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--engine", choices=ENGINES, default="patched", help="unpatched: moto as it ships (whole-table copies)"
    )
    parser.add_argument(
        "--probe", default=None, help="comma-separated table sizes: send latency at each, patched and unpatched"
    )
    parser.add_argument("--probe-sends", type=int, default=24, help="sends per server at each size")
    return parser


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.url and not args.dynamodb_endpoint:
        cli.error("--url needs --dynamodb-endpoint (sweeps and the counters audit use it)")
    if args.probe:
        result = probe(args)
        if not args.no_write:
            path = args.out.with_name("load_probe.json") if args.out.name == "load.json" else args.out
            path.write_text(json.dumps(result, indent=2) + "\n")
        return 0
    result = load(args)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
