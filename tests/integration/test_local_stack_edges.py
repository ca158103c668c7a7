"""The local stack at its edges, against contract/RUNTIME.md and the README (defects an
audit found on 2026-11-27, fixed): an unwritable data dir, two servers on one data dir, a
damaged snapshot, the signing secret made by processes at once, tokens the server would
reject, a sweep with no server. All drive the real `inmail` commands on free ports and temp
data dirs, and kill what they start."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inmail.api.auth import principal_from_bearer
from localstack_support import (
    STARTUP_SECONDS,
    STOP_SECONDS,
    Server,
    free_port,
    inmail_command,
    port_bindable,
    run_cli,
    subprocess_env,
    token,
)
from support import operation

pytestmark = pytest.mark.slow

SNAPSHOT = "dynamodb-snapshot.json"
SERVING = "GraphQL API and playground:"  # `inmail serve`'s banner, once it is ready to serve


def create_contract(srv: Server, bearer: str, cid: str) -> None:
    body = srv.gql(
        operation("CreateContract"),
        {"input": {"id": cid, "name": cid.upper(), "monthlyCredits": 10, "maxDailyLimit": 5}},
        bearer=bearer,
    )
    assert body["data"]["createContract"]["userErrors"] == [], body


def saved_contract_ids(data_dir: Path) -> str:
    """The contracts table of the snapshot on disk (what the next start restores), as text."""
    tables = json.loads((data_dir / SNAPSHOT).read_text())["tables"]
    return json.dumps([t for name, t in tables.items() if "contract" in name])


def serve_until_exit(tmp_path: Path, data_dir: Path) -> tuple[int | None, str]:
    """`inmail serve` on free ports, until it exits or starts serving: whichever comes
    first, however long the machine takes. Returns (exit code, or None if it started and
    had to be stopped; stderr)."""
    port, dport = free_port(), free_port()
    out, err = tmp_path / f"serve-{port}.out", tmp_path / f"serve-{port}.err"
    with out.open("wb") as outf, err.open("wb") as errf:
        proc = subprocess.Popen(
            [
                *inmail_command(),
                "serve",
                "--port",
                str(port),
                "--dynamodb-port",
                str(dport),
                "--data-dir",
                str(data_dir),
                "--no-sweeper",
            ],
            cwd=tmp_path,
            env=subprocess_env(),
            stdin=subprocess.DEVNULL,
            stdout=outf,
            stderr=errf,
            start_new_session=True,
        )
    code: int | None = None
    try:
        # The events: the process exits, or prints its banner (which comes only after the
        # snapshot was restored). The guard only ends a test that is broken.
        deadline = time.monotonic() + STARTUP_SECONDS
        while (code := proc.poll()) is None and time.monotonic() < deadline:
            if SERVING in out.read_text(errors="replace"):
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    for p in (port, dport):
        assert port_bindable(p), f"port {p} left bound"
    return code, err.read_text(errors="replace")


# ---- a data dir that cannot be written (the server ran, and every write was lost) -------


@pytest.fixture
def immutable_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir nobody (root included) can create files in: `chattr +i`."""
    data = tmp_path / "data"
    data.mkdir()
    # A previous run left its secret, so only the snapshot write can fail.
    assert run_cli("token", "--sub", "ops", "--role", "OPERATOR", "--data-dir", str(data), cwd=tmp_path).returncode == 0
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(data)], capture_output=True).returncode:
        pytest.skip("chattr +i not available here")
    try:
        yield data
    finally:
        subprocess.run(["chattr", "-i", str(data)], check=False)


def test_an_unwritable_data_dir_is_refused_at_start_not_found_out_at_stop(tmp_path: Path, immutable_dir: Path) -> None:
    srv = Server(data_dir=immutable_dir, extra=("--no-sweeper",))
    ops = token(immutable_dir, "ops", "OPERATOR")
    try:
        srv.start()
    except AssertionError as exc:  # the fix: it refuses to start, saying why
        assert "Traceback" not in str(exc), exc
        assert str(immutable_dir) in str(exc), exc
        return
    try:
        create_contract(srv, ops, "c1")  # acknowledged...
        code = srv.stop(signal.SIGTERM)
    finally:
        srv.kill()
    # ...and lost: the snapshot could never be written, yet the stop is "clean".
    assert not (immutable_dir / SNAPSHOT).exists()
    pytest.fail(
        f"inmail serve ran on a data dir it cannot write, acknowledged writes, lost them, exited {code}:\n"
        + srv.output()[-1500:]
    )


# ---- two servers on one data dir (each saved only its own data over the other's) -------


def test_two_servers_on_one_data_dir_do_not_lose_each_others_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Server(data_dir=data, extra=("--no-sweeper",))
    second = Server(data_dir=data, extra=("--no-sweeper",))
    try:
        first.start()
        ops = token(data, "ops", "OPERATOR")
        try:
            second.start()  # README: "inmail serve --port 3001 --dynamodb-port 8001"
        except AssertionError as exc:  # the fix: refused, the data dir is in use
            assert str(data) in str(exc) and "Traceback" not in str(exc), exc
            return
        create_contract(first, ops, "first")
        create_contract(second, ops, "second")
        first.stop(signal.SIGTERM)
        second.stop(signal.SIGTERM)  # its snapshot replaces the first's
        kept = {cid: cid in saved_contract_ids(data) for cid in ("first", "second")}
    finally:
        first.kill()
        second.kill()
    assert kept == {"first": True, "second": True}, f"acknowledged data lost: {kept}"


# ---- a damaged snapshot (a traceback, or silently empty data) --------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('{"version": 1, "taken_at": "2026-01-01T00:00:00+00:00", "tables": {"inmail-con', id="truncated"),
        pytest.param("", id="empty"),
        pytest.param("[]", id="not an object"),
        pytest.param('{"version": 1}', id="no tables"),
    ],
)
def test_a_damaged_snapshot_is_refused_with_a_clear_message(tmp_path: Path, content: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / SNAPSHOT).write_text(content)
    code, err = serve_until_exit(tmp_path, data)
    assert (data / SNAPSHOT).read_text() == content, "the damaged snapshot was overwritten"
    assert code not in (None, 0), f"started on a damaged snapshot (exit {code}):\n{err[-1500:]}"
    assert "Traceback" not in err, err[-1500:]
    assert SNAPSHOT in err, err[-1500:]


# ---- the signing secret, made by several processes at once -----------------------------

RACE = """
import sys
from inmail.local.cli import main
print("ready", flush=True)
sys.stdin.readline()  # "go": every process is past its imports, and they start together
raise SystemExit(main(["token", "--sub", "u", "--role", "OPERATOR", "--data-dir", sys.argv[1]]))
"""


def test_concurrent_first_tokens_are_all_signed_with_the_one_secret(tmp_path: Path) -> None:
    """A fresh checkout, tokens made in parallel (or `make run &` then `inmail token`):
    every token printed must verify with the secret the server will load."""
    for attempt in range(5):
        data = tmp_path / f"data{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, str(data)],
                env=subprocess_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        for p in procs:  # a barrier: each says it is ready, then all are let go at once
            assert p.stdout is not None and p.stdout.readline() == "ready\n", p.communicate()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [(p.wait(timeout=STARTUP_SECONDS), *p.communicate()) for p in procs]
        secret = (data / "jwt-secret").read_bytes().strip()
        for code, out, err in results:
            assert code == 0, f"inmail token failed on a fresh data dir:\n{err[-800:]}"
            assert principal_from_bearer(f"Bearer {out.strip()}", secret) is not None, (
                "inmail token printed a token the server rejects (signed with a secret another process overwrote)"
            )


def test_an_empty_secret_file_gives_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    """What an interrupted first use (touch, then write) leaves behind."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "jwt-secret").write_bytes(b"")
    done = run_cli("token", "--sub", "ops", "--role", "OPERATOR", "--data-dir", str(data), cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.returncode != 0 and "jwt-secret" in done.stderr, done


# ---- `inmail token` never prints a token the server rejects ----------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--sub", ""], id="empty sub"),
        pytest.param(["--sub", "ops", "--ttl-hours", "0"], id="ttl 0"),
        pytest.param(["--sub", "ops", "--ttl-hours", "-1"], id="negative ttl"),
        pytest.param(["--sub", "ops", "--ttl-hours", "nan"], id="nan ttl"),
    ],
)
def test_token_never_prints_a_token_the_server_rejects(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "data"
    done = run_cli("token", *args, "--role", "OPERATOR", "--data-dir", str(data), cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    if done.returncode == 0:
        secret = (data / "jwt-secret").read_bytes().strip()
        principal = principal_from_bearer(f"Bearer {done.stdout.strip()}", secret)
        assert principal is not None, f"exit 0 with a token the server rejects: {args}"


# ---- `inmail sweep` with no server on the port -----------------------------------------


def test_sweep_without_a_server_says_so(tmp_path: Path) -> None:
    port = free_port()
    done = run_cli("sweep", "--dynamodb-port", str(port), cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    assert str(port) in done.stderr, done.stderr[-800:]
