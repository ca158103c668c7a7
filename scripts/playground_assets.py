#!/usr/bin/env python3
"""Vendor the GraphiQL playground's browser files from the npm packages GraphiQL publishes,
at the versions and integrity hashes pinned in playground/package-lock.json.

    python scripts/playground_assets.py          # npm ci, then (re)write the vendored files
    python scripts/playground_assets.py --check  # npm ci, exit 1 if a vendored file differs

`npm ci` verifies every package against the lockfile's sha512 before anything is copied. The
copies are committed under functions/inmail/api/static/vendor/, so `make run` needs nothing
but Python and `sam build` (CodeUri functions/) puts them in the Lambda artifact as they are.
MANIFEST lists each file's package, version and sha384 (the page's `integrity` attribute).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "playground"
VENDOR = ROOT / "functions" / "inmail" / "api" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"

# Served name -> (npm package, path inside it). UMD builds: the page loads them with plain
# <script> tags, no bundler (graphiql 3 is the last major version that ships one).
FILES = {
    "react.production.min.js": ("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.min.js": ("graphiql", "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql.min.css"),
    "plugin-explorer.umd.js": ("@graphiql/plugin-explorer", "dist/index.umd.js"),
    "plugin-explorer.css": ("@graphiql/plugin-explorer", "dist/style.css"),
}


def sri(data: bytes) -> str:
    """Subresource Integrity value (what a <script integrity> attribute holds)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def install(into: Path) -> Path:
    """`npm ci` of the pinned packages in a scratch dir; the node_modules it made."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PINS / name, into / name)
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=into,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return into / "node_modules"


def build(modules: Path) -> dict[str, bytes]:
    """Every file the vendor dir should hold, by relative path: the assets, their licences
    and the manifest."""
    out: dict[str, bytes] = {}
    entries = []
    packages = {}
    for served, (package, inner) in FILES.items():
        meta = json.loads((modules / package / "package.json").read_text(encoding="utf-8"))
        data = (modules / package / inner).read_bytes()
        out[served] = data
        entries.append(
            {"file": served, "package": package, "version": meta["version"], "path": inner, "integrity": sri(data)}
        )
        packages[package] = meta
    for package, meta in packages.items():
        licence = modules / package / "LICENSE"
        stated = f"{meta['license']} (from its package.json: no LICENSE file)\n".encode()
        text = licence.read_bytes() if licence.exists() else stated
        out[f"licenses/{package.lstrip('@').replace('/', '-')}.txt"] = text
    out["manifest.json"] = (json.dumps({"files": entries}, indent=2) + "\n").encode()
    return out


def current() -> dict[str, bytes]:
    if not VENDOR.exists():
        return {}
    return {str(p.relative_to(VENDOR)): p.read_bytes() for p in VENDOR.rglob("*") if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a vendored file differs instead of writing")
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        print("npm not found: install Node.js (npm) to vendor or check the playground assets", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="playground-assets-") as scratch:
        expected = build(install(Path(scratch)))
    have = current()
    differ = sorted(name for name in expected.keys() | have.keys() if expected.get(name) != have.get(name))
    if args.check:
        if differ:
            print(f"vendored playground files differ from playground/package-lock.json: {differ}", file=sys.stderr)
            return 1
        return 0
    shutil.rmtree(VENDOR, ignore_errors=True)
    for name, data in expected.items():
        target = VENDOR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(expected)} files to {VENDOR.relative_to(ROOT)} ({', '.join(differ) or 'unchanged'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
