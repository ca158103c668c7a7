"""Drive the real `inmail serve | token | sweep` commands as subprocesses, the way a
newcomer runs them (contract/RUNTIME.md). Every server gets its own process group, free
ports and a data dir under the test's tmp dir, and is killed (the whole group) on cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# Guards against a hang, never speed limits: the tests wait on events (a server ready, a
# process exited, an answer), and these only end a test that is broken. They are far past
# what a working server takes on a busy 2-core box (cold imports of moto + strawberry took
# over 90 s at load 19).
STARTUP_SECONDS = 600.0
STOP_SECONDS = 300.0
REQUEST_SECONDS = 120.0


def inmail_command() -> list[str]:
    """The venv's `inmail` console script (next to the running interpreter), else the one
    on PATH, else the module itself."""
    here = Path(sys.executable).parent / "inmail"
    if here.exists():
        return [str(here)]
    found = shutil.which("inmail")
    if found:
        return [found]
    return [sys.executable, "-m", "inmail.local.cli"]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # the CLI's own endpoint rules must decide
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_bindable(port: int) -> bool:
    """Can a new server listen here (with SO_REUSEADDR, as uvicorn and werkzeug do)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError:
            return False
        return True


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: still alive
        return True
    return True


def run_cli(*args: str, cwd: Path, timeout: float = STARTUP_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*inmail_command(), *args],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def token(data_dir: Path, sub: str, *roles: str, contract: str | None = None) -> str:
    args = ["token", "--sub", sub, "--data-dir", str(data_dir)]
    for role in roles:
        args += ["--role", role]
    if contract:
        args += ["--contract", contract]
    done = run_cli(*args, cwd=data_dir.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


@dataclass
class Server:
    """One `inmail serve` in its own process group."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    dynamodb_port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    # --data-dir as given on the command line (relative to data_dir.parent, the server's
    # cwd), when a test needs the output a person sees for it; default: the absolute path.
    data_dir_arg: str | None = None
    process: subprocess.Popen[bytes] | None = None
    log_dir: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def stdout_path(self) -> Path:
        return (self.log_dir or self.data_dir.parent) / f"serve-{self.port}-{self.starts}.out"

    @property
    def stderr_path(self) -> Path:
        return (self.log_dir or self.data_dir.parent) / f"serve-{self.port}-{self.starts}.err"

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid  # start_new_session: the server leads its own group

    def start(self) -> Server:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        args = ["serve", "--port", str(self.port), "--data-dir", self.data_dir_arg or str(self.data_dir), *self.extra]
        if "--dynamodb-endpoint" not in self.extra:
            args += ["--dynamodb-port", str(self.dynamodb_port)]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [*inmail_command(), *args],
                cwd=self.data_dir.parent,
                env=subprocess_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"inmail serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url, headers={"Accept": "text/html"}, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"inmail serve not ready after {STARTUP_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return f"--- stdout\n{out}\n--- stderr\n{err[-6000:]}"

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Signal the server process alone (as Ctrl-C or a supervisor would) and wait for
        it; it must stop everything it started by itself."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"inmail serve ignored {sig.name} for {STOP_SECONDS} s:\n{self.output()}") from None

    def kill(self) -> None:
        """Cleanup: whatever happened, nothing of this server is left running."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def post(self, query: str, variables: dict[str, Any] | None = None, bearer: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        body = json.dumps({"query": query, "variables": variables or {}})
        return httpx.post(self.url, content=body, headers=headers, timeout=REQUEST_SECONDS)

    def gql(self, query: str, variables: dict[str, Any] | None = None, bearer: str | None = None) -> dict[str, Any]:
        response = self.post(query, variables, bearer)
        body: dict[str, Any] = response.json()
        return body
