"""The playground's vendored files (functions/inmail/api/static/vendor) are the npm packages
pinned in playground/package-lock.json, byte for byte: offline, each file against its
manifest entry and the lockfile's versions; with npm at hand, re-derived from the registry
by `npm ci` (which checks each package against the lockfile's sha512)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inmail.api.playground import VENDOR, Playground, sri

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "playground_assets.py"
LOCKFILE = ROOT / "playground" / "package-lock.json"
PACKAGE = ROOT / "playground" / "package.json"


def manifest() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))["files"]
    return entries


def test_each_vendored_file_is_its_manifest_entry() -> None:
    for entry in manifest():
        assert sri((VENDOR / entry["file"]).read_bytes()) == entry["integrity"], entry["file"]


def test_the_manifest_names_the_locked_versions() -> None:
    locked = json.loads(LOCKFILE.read_text(encoding="utf-8"))["packages"]
    pinned = json.loads(PACKAGE.read_text(encoding="utf-8"))["dependencies"]
    for entry in manifest():
        package = locked[f"node_modules/{entry['package']}"]
        assert package["version"] == entry["version"] == pinned[entry["package"]], entry
        assert package["integrity"].startswith("sha512-"), entry
    assert {e["package"] for e in manifest()} == set(pinned), "a pinned package nothing is taken from"


def test_the_page_loads_each_vendored_file_with_its_integrity() -> None:
    from inmail.api.messages import HttpRequest

    html = Playground().page(HttpRequest("GET", "/graphql", {})).body.decode()
    for entry in manifest():
        assert f"{entry['file']}?v=" in html and f'integrity="{entry["integrity"]}"' in html, entry["file"]


def test_vendored_files_are_what_npm_installs_from_the_lockfile() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the offline checks above still hold the files to the manifest")
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
