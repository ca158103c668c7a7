"""`inmail serve | token | sweep` as a person meets them: --help that says what every option
does, and a sweeper loop that logs what it did, not that it did nothing."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

import pytest

from inmail.local.cli import build_parser, sweep_and_log
from world import World


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", ["serve", "token", "sweep"])
def test_every_option_says_what_it_does(command: str) -> None:
    sub = subcommands()[command]
    options = [a for a in sub._actions if a.option_strings and a.help != argparse.SUPPRESS]
    assert len(options) > 2
    undescribed = [a.option_strings[0] for a in options if not (a.help or "").strip()]
    assert undescribed == []
    text = sub.format_help()
    for action in options:
        assert action.option_strings[-1] in text


def test_serve_help_names_its_defaults() -> None:
    text = " ".join(subcommands()["serve"].format_help().split())
    assert "(default: 3000)" in text and "(default: 8000)" in text and "(default: .data)" in text
    assert "http://localhost:* and http://127.0.0.1:*" in text


def test_an_idle_sweep_is_quiet_and_a_busy_one_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    world.setup()
    world.send(follow_up_days=3)
    caplog.set_level(logging.DEBUG, logger="inmail")
    idle = sweep_and_log(world.deps, world.clock.now())
    assert idle.due == 0
    assert [r.levelno for r in caplog.records if r.getMessage().startswith("sweep:")] == [logging.DEBUG]

    caplog.clear()
    busy = sweep_and_log(world.deps, world.clock.now() + timedelta(days=3))
    assert busy.to_dict()["delivered"] == 1
    logged = [r for r in caplog.records if r.getMessage().startswith("sweep:")]
    assert [r.levelno for r in logged] == [logging.INFO]
    assert '"delivered": 1' in logged[0].getMessage()
