"""The docs hold: every relative link in README.md and docs/*.md reaches a file that exists
(and, with #anchor, a heading in it), and the rule -> function table in
docs/architecture.md covers every rule the code names, at functions that exist where it
says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
RULE_ID = re.compile(r"\bR(\d\d)\b")


def prose(page: Path) -> str:
    """The page without its code blocks, where brackets and parentheses are code."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, then -1,
    -2... for a heading repeated."""
    counts: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(prose(page)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        where = (page.parent / path).resolve() if path else page
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (where.suffix != ".md" or anchor not in anchors(where)):
            broken.append(f"{target}: no such heading")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_finds_a_missing_file_or_heading(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B\n\n## Two `words`, here\n\n## B\n")
    page = tmp_path / "a.md"
    page.write_text(
        "# A\n[ok](b.md) [ok](b.md#two-words-here) [ok](b.md#b-1) [ok](#a) [web](https://x.org/#y)\n"
        "```\n[code](not-a-link.md)\n```\n[no](c.md) [no](b.md#three) [no](#nothing)\n"
    )
    assert broken_links(page) == ["c.md: no such file", "b.md#three: no such heading", "#nothing: no such heading"]


def rule_table() -> list[tuple[str, str]]:
    """(rules, cell) for each row of 'Where each rule is decided'."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Where each rule is decided", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| R")]
    return [(row[1].strip(), row[2]) for row in rows]


def defined(source: str, name: str) -> bool:
    last = re.escape(name.rsplit(".", 1)[-1])
    return re.search(rf"^\s*(?:def|class)\s+{last}\b|^\s*{last}\s*[:=]", source, re.MULTILINE) is not None


def test_the_rule_table_names_what_exists_where_it_says() -> None:
    missing = []
    for rules, cell in rule_table():
        # Each `name` after a link is looked up in that link's file.
        for target, after in re.findall(r"\]\(([^)]+)\)([^[]*)", cell):
            source = (REPO / "docs" / target).resolve().read_text(encoding="utf-8")
            for name in re.findall(r"`([^`]+)`", after):
                if re.fullmatch(r"[A-Za-z_][\w.]*", name) and not defined(source, name):
                    missing.append(f"{rules}: {name} is not in {target}")
    assert missing == []


def test_the_rule_table_covers_every_rule_the_code_names() -> None:
    in_table: set[int] = set()
    for rules, _ in rule_table():
        for first, last in re.findall(r"R(\d\d)(?:-R(\d\d))?", rules):
            in_table.update(range(int(first), int(last or first) + 1))
    code = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "functions" / "inmail").rglob("*.py"))
    named = {int(n) for n in RULE_ID.findall(code)}
    assert {5, 13, 25, 29, 51} <= named
    assert sorted(f"R{n:02d}" for n in named - in_table) == []
