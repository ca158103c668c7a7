"""Settings: a value the code cannot run with is refused at start, naming the variable,
instead of failing later (DUE_SHARDS=0 was a division by zero in the first write of a
scheduled follow-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inmail.config import AuthMode, Settings, SettingsError
from inmail.local.cli import main

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_defaults_and_good_values_are_taken() -> None:
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"DUE_SHARDS": "16", "SWEEP_SAFETY_MARGIN_MS": "0", "AUTH_MODE": "local"})
    assert (s.due_shards, s.sweep_safety_margin_ms, s.auth_mode) == (16, 0, AuthMode.LOCAL)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DUE_SHARDS": "0"}, "DUE_SHARDS must be at least 1 (got 0)."),
        ({"DUE_SHARDS": "-3"}, "DUE_SHARDS must be at least 1 (got -3)."),
        ({"DUE_SHARDS": "eight"}, "DUE_SHARDS must be a whole number (got 'eight')."),
        ({"LEASE_SECONDS": "0"}, "LEASE_SECONDS must be at least 1 (got 0)."),
        ({"SWEEP_WORKERS": "0"}, "SWEEP_WORKERS must be at least 1 (got 0)."),
        ({"DELIVERY_ATTEMPTS": "0"}, "DELIVERY_ATTEMPTS must be at least 1 (got 0)."),
        ({"SWEEP_SAFETY_MARGIN_MS": "-1"}, "SWEEP_SAFETY_MARGIN_MS must be at least 0 (got -1)."),
        ({"DYNAMODB_MAX_RETRIES": "1.5"}, "DYNAMODB_MAX_RETRIES must be a whole number (got '1.5')."),
        ({"AUTH_MODE": "cognito"}, "AUTH_MODE must be one of apigw, local (got 'cognito')."),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert str(refused.value) == message


def test_settings_made_in_code_are_checked_too() -> None:
    with pytest.raises(SettingsError, match="DUE_SHARDS must be at least 1"):
        Settings(due_shards=0)


def test_the_sweeper_refuses_to_start_with_a_bad_setting() -> None:
    """A cold start of the sweeper function fails at import, with the reason in its log."""
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS), "DUE_SHARDS": "0"}
    done = subprocess.run(
        [sys.executable, "-c", "import inmail.handlers.sweeper"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode != 0
    assert "SettingsError: DUE_SHARDS must be at least 1 (got 0)." in done.stderr


def test_the_cli_says_what_is_wrong_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DUE_SHARDS", "0")
    assert main(["sweep", "--data-dir", str(tmp_path), "--dynamodb-endpoint", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == "inmail sweep: DUE_SHARDS must be at least 1 (got 0).\n"
