"""CPU instructions a process executes, phase by phase, counted by valgrind's callgrind.

Instructions (callgrind's `Ir`) do not depend on how busy the machine is: with
PYTHONHASHSEED fixed, the same work counts the same (an import to the instruction; a
request within 0.01%, its uuids and clock readings differing; threads within ~1%, as they
interleave), where wall times on 2 shared cores vary 2x. The program marks the end of each phase by calling
`os.getppid()` (callgrind is told to start a new count before each call of `getppid`,
which nothing in CPython or our libraries calls otherwise):

    counts = instructions([python, "script.py"], env=env)
    # [startup, phase 1, ..., phase n, exit]: one count more than the marks, plus exit

`make bench` installs valgrind (scripts/system_packages.sh). Used by `bench/coldstart.py`;
reusable for any other count (a sweep's cost per follow-up: mark around the part to
count, subtract a run that does less).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

MARK = "getppid"
_PART = re.compile(r"^part:\s*(\d+)", re.M)
_TOTALS = re.compile(r"^totals:\s*(\d+)", re.M)


class CallgrindMissing(RuntimeError):
    pass


def available() -> bool:
    return shutil.which("valgrind") is not None


def instructions(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> list[int]:
    """Run `argv` under callgrind; the instructions of each part between two marks, in
    order: before the first mark (the interpreter's startup), between each pair, and after
    the last one (to the process's exit). Raises if the program fails."""
    if not available():
        raise CallgrindMissing("valgrind is not installed: scripts/system_packages.sh valgrind")
    run_env = dict(os.environ if env is None else env)
    run_env.setdefault("PYTHONHASHSEED", "0")  # set dicts and sets iterate the same each run
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = Path(tmp, "callgrind.out")
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--dump-before={MARK}",
                f"--callgrind-out-file={out}",
                "--dump-instr=no",
                "--compress-strings=no",
                *argv,
            ],
            env=run_env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed under callgrind:\n{done.stdout}\n{done.stderr[-4000:]}")
        parts: dict[int, int] = {}
        for path in Path(tmp).glob("callgrind.out*"):
            text = path.read_text(errors="replace")
            part, totals = _PART.search(text), _TOTALS.search(text)
            if part is None or totals is None:
                raise RuntimeError(f"unreadable callgrind output {path.name}")
            parts[int(part.group(1))] = int(totals.group(1))
    return [parts[i] for i in sorted(parts)]
