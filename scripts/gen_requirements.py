#!/usr/bin/env python3
"""Write functions/requirements.txt (what `sam build` installs next to the handlers) from
pyproject.toml's [project] dependencies, so the Lambda functions and the project never drift.

    python scripts/gen_requirements.py          # (re)write the file
    python scripts/gen_requirements.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
TARGET = ROOT / "functions" / "requirements.txt"
HEADER = (
    "# Generated from pyproject.toml [project] dependencies by scripts/gen_requirements.py\n"
    "# (`make requirements`). Do not edit by hand: tests/contract fails when this file drifts.\n"
)


def render(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    deps = [str(d).strip() for d in project.get("dependencies", [])]
    return HEADER + "".join(f"{d}\n" for d in deps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file differs instead of writing it")
    args = parser.parse_args(argv)
    expected = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if args.check:
        if current != expected:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `make requirements`", file=sys.stderr)
            return 1
        return 0
    if current != expected:
        TARGET.write_text(expected, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
