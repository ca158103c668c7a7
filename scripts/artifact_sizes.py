#!/usr/bin/env python3
"""Report what `sam build` produced: each function's size unpacked (the bytes Lambda
counts against its 250 MB limit), on disk (`du`) and zipped (as `sam deploy` uploads it),
every compiled extension checked against the function's architecture (pure-Python
wheels run anywhere; a compiled one must match arm64), and every module's bytecode:
`sam build` strips *.pyc and /var/task is read-only, so a module shipped without its
__pycache__/<name>.cpython-3XX.pyc (for the function's runtime) is compiled from source on
every cold start. `make package` compiles them after `sam build`, as unchecked-hash pycs: a
timestamp pyc is checked against the source's mtime, which unzipping changes.

    python scripts/artifact_sizes.py [.aws-sam]

Exits 1 when a function exceeds Lambda's 250 MB unzipped limit, ships an extension
built for another architecture, or ships a module without (hash-based) bytecode.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNZIPPED_LIMIT = 250 * 1024 * 1024
# ELF e_machine values.
MACHINES = {"arm64": 183, "x86_64": 62}
MACHINE_NAMES = {183: "aarch64", 62: "x86_64", 3: "i386"}
DEFAULT_RUNTIME = "python3.13"  # when build.toml names none (or not a CPython one)
RUNTIME = re.compile(r"python(\d+)\.(\d+)")
# A .pyc starts with a 4-byte magic number then 4 bytes of flags (PEP 552): bit 0 set means
# hash-based; clear means checked against the source's mtime and size.
PYC_HASH_BASED = 0b01
SHOWN = 5  # missing files named per function


@dataclass
class Artifact:
    name: str
    architecture: str
    runtime: str = DEFAULT_RUNTIME
    unpacked: int = 0
    on_disk: int = 0
    zipped: int = 0
    files: int = 0
    extensions: list[Path] = field(default_factory=list)
    wrong_arch: list[tuple[Path, str]] = field(default_factory=list)
    modules: int = 0
    no_bytecode: list[Path] = field(default_factory=list)
    timestamp_bytecode: list[Path] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return cache_tag(self.runtime)


def _build_definitions(sam_dir: Path) -> list[dict[str, Any]]:
    """The build's own record of each function build (.aws-sam/build.toml)."""
    build_toml = sam_dir / "build.toml"
    if not build_toml.exists():
        return []
    definitions = tomllib.loads(build_toml.read_text(encoding="utf-8")).get("function_build_definitions", {})
    return list(definitions.values())


def architectures(sam_dir: Path) -> dict[str, str]:
    """Function name -> architecture, from .aws-sam/build.toml."""
    return {
        function: str(definition.get("architecture", "x86_64"))
        for definition in _build_definitions(sam_dir)
        for function in definition.get("functions", [])
    }


def runtimes(sam_dir: Path) -> dict[str, str]:
    """Function name -> runtime ("python3.13"), from .aws-sam/build.toml."""
    return {
        function: str(definition.get("runtime", DEFAULT_RUNTIME))
        for definition in _build_definitions(sam_dir)
        for function in definition.get("functions", [])
    }


def cache_tag(runtime: str) -> str:
    """python3.13 -> cpython-313, the tag in the name of the .pyc that runtime loads."""
    match = RUNTIME.fullmatch(runtime) or RUNTIME.fullmatch(DEFAULT_RUNTIME)
    assert match is not None
    return f"cpython-{match[1]}{match[2]}"


def pyc_is_hash_based(path: Path) -> bool:
    with path.open("rb") as f:
        header = f.read(8)
    return len(header) == 8 and bool(int.from_bytes(header[4:8], "little") & PYC_HASH_BASED)


def elf_machine(path: Path) -> int | None:
    with path.open("rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def zipped_size(root: Path) -> int:
    """Deflate the directory the way sam deploy does before uploading it."""
    with tempfile.TemporaryFile() as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root))
        return tmp.tell()


def inspect(root: Path, architecture: str, runtime: str = DEFAULT_RUNTIME) -> Artifact:
    artifact = Artifact(root.name, architecture, runtime)
    expected = MACHINES.get(architecture)
    tag = artifact.tag
    for dirpath, _, filenames in os.walk(root):
        artifact.on_disk += Path(dirpath).stat().st_blocks * 512
        for filename in filenames:
            path = Path(dirpath, filename)
            artifact.files += 1
            if path.suffix == ".py" and path.parent.name != "__pycache__":
                artifact.modules += 1
                pyc = path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc"
                if not pyc.is_file():
                    artifact.no_bytecode.append(path.relative_to(root))
                elif not pyc_is_hash_based(pyc):
                    artifact.timestamp_bytecode.append(path.relative_to(root))
            stat = path.stat()
            artifact.unpacked += stat.st_size
            artifact.on_disk += stat.st_blocks * 512
            if ".so" in path.suffixes or path.suffix == ".so":
                artifact.extensions.append(path.relative_to(root))
                machine = elf_machine(path)
                if machine is not None and expected is not None and machine != expected:
                    artifact.wrong_arch.append((path.relative_to(root), MACHINE_NAMES.get(machine, str(machine))))
    artifact.zipped = zipped_size(root)
    return artifact


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _some(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in sorted(paths)[:SHOWN])
    return shown + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sam_dir", nargs="?", default=".aws-sam", type=Path)
    args = parser.parse_args(argv)
    build = args.sam_dir / "build"
    functions = sorted(p for p in build.iterdir() if p.is_dir()) if build.is_dir() else []
    if not functions:
        print(f"no built functions under {build}: run `make package`", file=sys.stderr)
        return 1
    arch_of = architectures(args.sam_dir)
    runtime_of = runtimes(args.sam_dir)
    failed = False
    extensions = 0
    print(f"{'function':<20} {'arch':<7} {'unpacked':>10} {'du':>10} {'zipped':>10} {'files':>6}")
    for root in functions:
        artifact = inspect(root, arch_of.get(root.name, "arm64"), runtime_of.get(root.name, DEFAULT_RUNTIME))
        extensions += len(artifact.extensions)
        print(
            f"{artifact.name:<20} {artifact.architecture:<7} {mb(artifact.unpacked):>10} {mb(artifact.on_disk):>10} "
            f"{mb(artifact.zipped):>10} {artifact.files:>6}"
        )
        if artifact.unpacked > UNZIPPED_LIMIT:
            print(f"  over Lambda's {mb(UNZIPPED_LIMIT)} unzipped limit", file=sys.stderr)
            failed = True
        if artifact.extensions:
            print(f"  compiled extensions: {len(artifact.extensions)}")
        for path, machine in artifact.wrong_arch:
            print(f"  {path}: built for {machine}, not {artifact.architecture}", file=sys.stderr)
            failed = True
        tag = artifact.tag
        compiled = artifact.modules - len(artifact.no_bytecode) - len(artifact.timestamp_bytecode)
        print(f"  bytecode: {compiled} of {artifact.modules} modules compiled for {tag}")
        if artifact.no_bytecode:
            print(
                f"{artifact.name}: {len(artifact.no_bytecode)} modules ship without __pycache__/<name>.{tag}.pyc "
                f"({_some(artifact.no_bytecode)}), so every cold start compiles them from source: "
                "`sam build` strips *.pyc and `make package` compiles them after it; build with `make package`.",
                file=sys.stderr,
            )
            failed = True
        if artifact.timestamp_bytecode:
            print(
                f"{artifact.name}: {len(artifact.timestamp_bytecode)} modules ship timestamp-based bytecode "
                f"({_some(artifact.timestamp_bytecode)}), checked against the source's mtime, which "
                "unzipping changes: compile with `-m compileall --invalidation-mode unchecked-hash` "
                "(as `make package` does).",
                file=sys.stderr,
            )
            failed = True
    if not extensions:
        print("compiled extensions: none (pure Python, runs on any architecture)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
