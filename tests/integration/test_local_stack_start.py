"""How `inmail serve` starts, as a newcomer reads it: a first log line that says what is true
(no snapshot yet, or how much it restored), and the banner only once the API's port takes
connections (a busy port: an error, and no banner announcing a playground that is not
there)."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from localstack_support import (
    STARTUP_SECONDS,
    Server,
    free_port,
    inmail_command,
    port_accepts,
    run_cli,
    subprocess_env,
)

pytestmark = pytest.mark.slow

BANNER_END = "Stop with Ctrl-C."


def inmail_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if " INFO inmail" in line]


def test_the_first_line_says_there_was_no_snapshot_then_what_was_restored(tmp_path: Path) -> None:
    srv = Server(data_dir=tmp_path / "data", extra=("--no-sweeper",))
    try:
        srv.start()
        first = inmail_lines(srv.stderr_path.read_text())
        assert "no snapshot in" in first[0] and "starting with empty tables" in first[0], first
        assert "restored 0 items" not in srv.stderr_path.read_text()
        assert srv.stop(signal.SIGTERM) == 0
        srv.start()
        again = inmail_lines(srv.stderr_path.read_text())
        assert "restored 0 items from" in again[0] and "dynamodb-snapshot.json" in again[0], again
        assert srv.stop(signal.SIGTERM) == 0
    finally:
        srv.kill()


def test_the_banner_comes_once_the_api_port_takes_connections(tmp_path: Path) -> None:
    port = free_port()
    args = ["serve", "--port", str(port), "--dynamodb-port", str(free_port()), "--data-dir", str(tmp_path / "d")]
    process = subprocess.Popen(
        [*inmail_command(), *args, "--no-sweeper"],
        cwd=tmp_path,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(STARTUP_SECONDS, process.kill)  # a hang guard: a server that never prints ends the read
    watchdog.start()
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if BANNER_END in line:
                assert port_accepts(port), "the banner came before the API's port accepted connections"
                break
        else:
            pytest.fail(f"no banner: {''.join(seen)}")
    finally:
        watchdog.cancel()
        process.kill()
        process.wait(timeout=30)


@pytest.mark.parametrize("busy_option", ["--port", "--dynamodb-port"])
def test_a_busy_port_gets_an_error_and_no_banner(tmp_path: Path, busy_option: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        ports = {"--port": str(free_port()), "--dynamodb-port": str(free_port())}
        ports[busy_option] = str(busy.getsockname()[1])
        options = [x for option_and_port in ports.items() for x in option_and_port]
        done = run_cli("serve", *options, "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 1
    assert "in use" in done.stderr and busy_option in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "playground" not in done.stdout, done.stdout
