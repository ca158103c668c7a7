"""`make package` reports what `sam build` built (scripts/artifact_sizes.py): sizes, and a
compiled extension for the wrong architecture fails it. The build itself needs PyPI, so it
is not run here; these tests feed the script a fake .aws-sam directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(SCRIPTS))
try:
    import artifact_sizes
finally:
    sys.path.remove(str(SCRIPTS))

ELF_MACHINE = {"x86_64": 62, "arm64": 183}


def fake_build(tmp_path: Path, extension_arch: str | None = None) -> Path:
    sam = tmp_path / ".aws-sam"
    (sam / "build").mkdir(parents=True)
    (sam / "build.toml").write_text(
        '[function_build_definitions.abc]\narchitecture = "arm64"\nfunctions = ["ApiFunction", "SweeperFunction"]\n',
        encoding="utf-8",
    )
    for name in ("ApiFunction", "SweeperFunction"):
        package = sam / "build" / name / "inmail"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("x = 1\n" * 1000, encoding="utf-8")
        if extension_arch:
            header = b"\x7fELF\x02\x01\x01" + bytes(9) + (3).to_bytes(2, "little")
            machine = ELF_MACHINE[extension_arch].to_bytes(2, "little")
            (package / "_speedups.cpython-313-linux-gnu.so").write_bytes(header + machine + bytes(44))
    return sam


def test_reports_each_function_unpacked_and_zipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "unpacked" in out and "zipped" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:3]}
    assert set(lines) == {"ApiFunction", "SweeperFunction"}
    assert lines["ApiFunction"][1] == "arm64"
    assert "compiled extensions: none" in out


def test_extension_for_the_functions_architecture_passes(tmp_path: Path) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, extension_arch="arm64"))]) == 0


def test_extension_for_another_architecture_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, extension_arch="x86_64"))]) == 1
    assert "built for x86_64, not arm64" in capsys.readouterr().err


def test_no_build_fails(tmp_path: Path) -> None:
    assert artifact_sizes.main([str(tmp_path / ".aws-sam")]) == 1
