#!/usr/bin/env python3
"""Make every file of graphql/operations/ a document a client can send as it is: the
operation, then the fragments it uses (transitively) and no other, copied from
graphql/fragments.graphql, the one place fragments are edited.

    python scripts/gen_operations.py          # (re)write the operation files
    python scripts/gen_operations.py --check  # exit 1 if a file is stale

Identical copies of a fragment in several files are fine for gql, Apollo (graphql-tag)
and graphql-codegen: they refuse two fragments of one name only when they differ.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "graphql" / "fragments.graphql"
OPERATIONS = ROOT / "graphql" / "operations"
MARKER = "# Fragments copied from graphql/fragments.graphql by `make operations`: edit them there.\n"

_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z]\w*)")


def fragments(text: str) -> dict[str, str]:
    """Each fragment's source text, by name, in file order."""
    parts = re.split(r"(?m)^(?=fragment )", text)
    found: dict[str, str] = {}
    for part in parts:
        match = re.match(r"fragment\s+(\w+)", part)
        if match:
            found[match.group(1)] = part.strip() + "\n"
    return found


def operation_part(text: str) -> str:
    """The file without its copied fragments."""
    return text.split(MARKER, 1)[0].rstrip() + "\n"


def used(text: str, source: dict[str, str]) -> list[str]:
    """Fragments `text` spreads, directly or through other fragments, in the order first met
    (`... on Type` inline fragments are not names)."""
    order: list[str] = []

    def visit(body: str) -> None:
        for name in _SPREAD.findall(body):
            if name == "on" or name in order:
                continue
            if name not in source:
                raise SystemExit(f"unknown fragment {name}: not in {FRAGMENTS.relative_to(ROOT)}")
            order.append(name)
            visit(source[name])

    visit(text)
    return order


def render(path: Path, source: dict[str, str]) -> str:
    operation = operation_part(path.read_text(encoding="utf-8"))
    names = used(operation, source)
    if not names:
        return operation
    return operation + "\n" + MARKER + "\n".join(source[n] for n in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file differs instead of writing it")
    args = parser.parse_args(argv)
    source = fragments(FRAGMENTS.read_text(encoding="utf-8"))
    stale = []
    for path in sorted(OPERATIONS.glob("*.graphql")):
        expected = render(path, source)
        if path.read_text(encoding="utf-8") != expected:
            stale.append(path)
            if not args.check:
                path.write_text(expected, encoding="utf-8")
                print(f"wrote {path.relative_to(ROOT)}")
    if args.check and stale:
        names = ", ".join(p.name for p in stale)
        print(f"stale in graphql/operations: {names}: run `make operations`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
