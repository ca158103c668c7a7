"""docs/playground.md's session, run as a newcomer runs it: every code block in order against
a real `inmail serve` (free ports, a temp dir laid out like the repository), each ```sh block
with bash as written, each ```graphql block as the person its step names, and each ```json
block the doc shows checked against what the block answered. The test reads the doc: change
the doc, and this runs the new session. README.md's `make run` block is checked against
what `inmail serve` printed."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inmail.local.playground import PRESETS
from localstack_support import STARTUP_SECONDS, Server, inmail_command, subprocess_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_DOC = ROOT / "docs" / "playground.md"
README = ROOT / "README.md"
DOC_PORT, DOC_DYNAMODB_PORT = 3000, 8000  # what the docs show; the test's server uses free ports

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_PERSON = re.compile(r"As \*\*(\w+)\*\*")


@dataclass
class Block:
    lang: str
    text: str
    person: str | None  # the last "As **name**" before the block
    line: int
    expected: Any = None  # the ```json block right after it, if any


def session_blocks(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    for match in _FENCE.finditer(markdown):
        indent = match.group("indent")
        text = "\n".join(line.removeprefix(indent) for line in match.group("body").splitlines())
        people = _PERSON.findall(markdown[: match.start()])
        line = markdown.count("\n", 0, match.start()) + 1
        lang = match.group("lang")
        if lang == "json":
            assert blocks and blocks[-1].expected is None, f"line {line}: a json block shows the block before it"
            blocks[-1].expected = json.loads(text)
        else:
            blocks.append(Block(lang, text, people[-1] if people else None, line))
    return blocks


def mismatches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Where `actual` differs from what the doc shows: every key the doc shows, with its
    value (keys it leaves out, such as ids and times, are not compared); lists whole."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: the doc shows an object, got {actual!r}"]
        found = []
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{where}.{key}: missing")
            else:
                found += mismatches(value, actual[key], f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: the doc shows {len(expected)} items, got {actual!r}"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [m for i, (e, a) in pairs for m in mismatches(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: the doc shows {expected!r}, got {actual!r}"]


# ---- the server, in a directory laid out like the repository ------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dir where `.venv/bin/inmail` (the doc's commands, run from the repository root) is
    this venv's inmail, and `.data` the server's data dir."""
    work = tmp_path_factory.mktemp("newcomer")
    bin_dir = work / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    command = inmail_command()
    wrapper = bin_dir / "inmail"
    wrapper.write_text("#!/bin/sh\nexec " + " ".join(f"'{part}'" for part in command) + ' "$@"\n')
    wrapper.chmod(0o755)
    return work


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Server]:
    """`inmail serve --data-dir .data` from that dir, as `make run` starts it (free ports)."""
    srv = Server(data_dir=workdir / ".data", data_dir_arg=".data")
    try:
        yield srv.start()
    finally:
        srv.kill()


def run_sh(block: Block, server: Server, workdir: Path) -> str:
    """A shell block as written, but for the ports (the test's own, not 3000 and 8000)."""
    script = block.text.replace(f"127.0.0.1:{DOC_PORT}", f"127.0.0.1:{server.port}")
    env = {**subprocess_env(), "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{server.dynamodb_port}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,  # a hang guard, not a speed limit
        check=False,
    )
    assert done.returncode == 0, f"docs/playground.md line {block.line}:\n{script}\n{done.stderr}"
    return done.stdout


def tokens_from(block: Block, output: str) -> dict[str, str]:
    """A block of `inmail token --sub NAME ...` lines: NAME -> the token each line printed."""
    subs = re.findall(r"^\.venv/bin/inmail token --sub (\w+)", block.text, re.M)
    printed = output.split()
    if not subs:
        return {}
    assert len(printed) == len(subs) and all(t.count(".") == 2 for t in printed), output
    return dict(zip(subs, printed, strict=True))


def utc_today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_the_playground_session_runs_as_the_doc_says(server: Server, workdir: Path) -> None:
    blocks = session_blocks(PLAYGROUND_DOC.read_text(encoding="utf-8"))
    assert {b.lang for b in blocks} <= {"sh", "graphql"}, [b.lang for b in blocks]
    tokens: dict[str, str] = {}
    thread_id: str | None = None
    template_id: str | None = None  # the template the session's saveTemplate saved
    first_day: str | None = None  # the UTC day of the session's first sendInMail
    checked = 0
    for block in blocks:
        where = f"docs/playground.md line {block.line}"
        if block.lang == "sh":
            output = run_sh(block, server, workdir)
            tokens.update(tokens_from(block, output))
            actual: Any = json.loads(output) if block.expected is not None else None
        else:
            assert block.person in tokens, f"{where}: no token for {block.person!r} (the token block names them)"
            assert block.expected is not None, f"{where}: show what the block answers in a ```json block after it"
            query = block.text
            if "THREAD_ID" in query:
                assert thread_id, f"{where}: THREAD_ID before any sendInMail"
                query = query.replace("THREAD_ID", thread_id)
            if "TEMPLATE_ID" in query:
                assert template_id, f"{where}: TEMPLATE_ID before any saveTemplate"
                query = query.replace("TEMPLATE_ID", template_id)
            if "sendInMail" in query and first_day is None:
                first_day = utc_today()
            if "TODAY" in query:  # the days of the session, even across a midnight
                query = query.replace('from: "TODAY"', f'from: "{first_day or utc_today()}"')
                query = query.replace("TODAY", utc_today())
            actual = server.gql(query, bearer=tokens[block.person])
            assert "errors" in block.expected or not actual.get("errors"), f"{where}: {actual}"
            sent = (actual.get("data") or {}).get("sendInMail") or {}
            thread_id = thread_id or (sent.get("thread") or {}).get("id")
            saved = (actual.get("data") or {}).get("saveTemplate") or {}
            template_id = template_id or (saved.get("template") or {}).get("id")
        if block.expected is not None:
            assert mismatches(block.expected, actual) == [], f"{where}: {json.dumps(actual)}"
            checked += 1
    assert checked >= len([b for b in blocks if b.lang == "graphql"])


def test_the_local_tokens_panel_offers_the_people_of_the_session() -> None:
    """One click in the playground gives the token the doc's token block prints."""
    blocks = session_blocks(PLAYGROUND_DOC.read_text(encoding="utf-8"))
    token_block = next(b for b in blocks if b.text.startswith(".venv/bin/inmail token --sub"))
    people = []
    for line in token_block.text.splitlines():
        sub = re.search(r"--sub (\w+)", line)
        assert sub, line
        contract = re.search(r"--contract (\w+)", line)
        roles = re.findall(r"--role (\w+)", line)
        people.append({"sub": sub.group(1), "roles": roles, "contract": contract.group(1) if contract else None})
    assert people == list(PRESETS)


def test_readme_shows_what_make_run_prints(server: Server) -> None:
    """README's block after "It prints:" (the first `make run`) is the banner, line for line
    (the ports aside: the test's server has its own)."""
    readme = README.read_text(encoding="utf-8")
    shown = re.search(r"It prints:\s*\n```\w*\n(.*?)```", readme, re.S)
    assert shown, "README.md: no block after `It prints:`"
    printed = server.stdout_path.read_text()
    printed = printed.replace(f"127.0.0.1:{server.port}/", f"127.0.0.1:{DOC_PORT}/")
    printed = printed.replace(f"127.0.0.1:{server.dynamodb_port} ", f"127.0.0.1:{DOC_DYNAMODB_PORT} ")
    expected = shown.group(1).strip("\n").splitlines()
    # The banner comes first; uvicorn's request log follows it on stdout.
    lines = printed.splitlines()
    assert lines[: len(expected)] == expected
    assert all(line.startswith("INFO:") for line in lines[len(expected) :]), "the banner has more lines than README"


def test_the_session_parser_sees_every_block() -> None:
    """What the session test relies on: indented blocks inside list items, the person of
    each step, json blocks paired with the block before them."""
    markdown = (
        "```sh\ninmail token --sub a --role X\n```\n\n1. As **a**, do:\n\n   ```graphql\n   { a }\n   ```\n\n"
        '   ```json\n   {"data": {"a": 1}}\n   ```\n\n2. As **b**:\n   ```graphql\n   { b }\n   ```\n'
    )
    blocks = session_blocks(markdown)
    assert [(b.lang, b.person, b.text.strip(), b.expected) for b in blocks] == [
        ("sh", None, "inmail token --sub a --role X", None),
        ("graphql", "a", "{ a }", {"data": {"a": 1}}),
        ("graphql", "b", "{ b }", None),
    ]
    assert mismatches({"data": {"a": 1}}, {"data": {"a": 2, "id": "x"}}) == ["$.data.a: the doc shows 1, got 2"]
    assert mismatches({"l": [{"k": 1}]}, {"l": [{"k": 1}, {"k": 2}]}) != []
