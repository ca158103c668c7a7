"""`make package` reports what `sam build` built (scripts/artifact_sizes.py): sizes, and a
compiled extension for the wrong architecture or a module without (unchecked-hash) bytecode
fails it. The build itself needs PyPI, so it is not run here; these tests feed the script a
fake .aws-sam directory. The last two show why the bytecode is unchecked-hash: a package
zipped as `sam deploy` zips it still runs from its .pyc files, and timestamp ones go stale."""

from __future__ import annotations

import compileall
import os
import py_compile
import subprocess
import sys
import time
import zipfile
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
# What `compileall --invalidation-mode unchecked-hash` writes first: a magic number, then the
# PEP 552 flags (1: hash-based, not checked against the source; 0: timestamp-based).
UNCHECKED_HASH_PYC = b"\xf3\r\r\n" + (1).to_bytes(4, "little") + bytes(8)
TIMESTAMP_PYC = b"\xf3\r\r\n" + bytes(12)
MODULES = ("__init__.py", "handlers/__init__.py", "handlers/api.py")


def fake_build(
    tmp_path: Path,
    extension_arch: str | None = None,
    runtime: str | None = "python3.13",
    pyc: bytes | None = UNCHECKED_HASH_PYC,
) -> Path:
    """Two functions of three modules each, compiled for `runtime` (as `make package` does)
    unless `pyc` is None; `runtime` None leaves it out of build.toml."""
    sam = tmp_path / ".aws-sam"
    (sam / "build").mkdir(parents=True)
    runtime_line = f'runtime = "{runtime}"\n' if runtime else ""
    (sam / "build.toml").write_text(
        f'[function_build_definitions.abc]\n{runtime_line}architecture = "arm64"\n'
        'functions = ["ApiFunction", "SweeperFunction"]\n',
        encoding="utf-8",
    )
    tag = artifact_sizes.cache_tag(runtime or "python3.13")
    for name in ("ApiFunction", "SweeperFunction"):
        package = sam / "build" / name / "inmail"
        for module in MODULES:
            source = package / module
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_text("x = 1\n" * 1000, encoding="utf-8")
            if pyc is not None:
                (source.parent / "__pycache__").mkdir(exist_ok=True)
                (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").write_bytes(pyc)
        if extension_arch:
            header = b"\x7fELF\x02\x01\x01" + bytes(9) + (3).to_bytes(2, "little")
            machine = ELF_MACHINE[extension_arch].to_bytes(2, "little")
            (package / "_speedups.cpython-313-linux-gnu.so").write_bytes(header + machine + bytes(44))
    return sam


def test_reports_each_function_unpacked_and_zipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "unpacked" in out and "zipped" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[0].endswith("Function")}
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


def test_reports_bytecode_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.count("bytecode: 3 of 3 modules compiled for cpython-313") == 2


def test_tag_follows_the_runtime_in_build_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, runtime="python3.12"))]) == 0
    assert "compiled for cpython-312" in capsys.readouterr().out


def test_tag_without_a_runtime_in_build_toml_is_python_3_13(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, runtime=None))]) == 0
    assert "compiled for cpython-313" in capsys.readouterr().out


def test_missing_bytecode_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, pyc=None))]) == 1
    captured = capsys.readouterr()
    assert "bytecode: 0 of 3 modules compiled for cpython-313" in captured.out
    assert "ApiFunction: 3 modules ship without __pycache__/<name>.cpython-313.pyc" in captured.err
    assert "inmail/handlers/api.py" in captured.err
    assert "make package" in captured.err


def test_one_missing_module_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sam = fake_build(tmp_path)
    (sam / "build" / "SweeperFunction" / "inmail" / "handlers" / "__pycache__" / "api.cpython-313.pyc").unlink()
    assert artifact_sizes.main([str(sam)]) == 1
    captured = capsys.readouterr()
    assert "bytecode: 2 of 3 modules compiled for cpython-313" in captured.out
    assert "SweeperFunction: 1 modules ship without" in captured.err
    assert "ApiFunction" not in captured.err


def test_bytecode_for_another_python_does_not_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sam = fake_build(tmp_path, runtime="python3.13")
    toml = sam / "build.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("python3.13", "python3.12"), encoding="utf-8")
    assert artifact_sizes.main([str(sam)]) == 1
    assert "without __pycache__/<name>.cpython-312.pyc" in capsys.readouterr().err


def test_timestamp_bytecode_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert artifact_sizes.main([str(fake_build(tmp_path, pyc=TIMESTAMP_PYC))]) == 1
    err = capsys.readouterr().err
    assert "timestamp-based bytecode" in err and "unchecked-hash" in err


def test_real_compileall_output_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pycs `make package` writes, on this Python: the script accepts them."""
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    sam = fake_build(tmp_path, runtime=runtime, pyc=None)
    for root in sorted((sam / "build").iterdir()):
        assert compileall.compile_dir(root, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert artifact_sizes.main([str(sam)]) == 0
    assert f"3 of 3 modules compiled for {sys.implementation.cache_tag}" in capsys.readouterr().out


# ---- why unchecked-hash: the bytecode must still be used after sam deploy's zip ----------


def _deployed_copy(tmp_path: Path, invalidation: py_compile.PycInvalidationMode) -> Path:
    """A package compiled as `make package` does, zipped as `sam deploy` zips a build
    (samcli's make_zip_with_permissions: a bare ZipInfo per file, so every entry is dated
    1980), and unzipped where Lambda would run it, the files dated as their entries."""
    build = tmp_path / "build"
    package = build / "shipped"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 42\n", encoding="utf-8")
    assert compileall.compile_dir(build, quiet=1, invalidation_mode=invalidation)
    archive = tmp_path / "function.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(build.rglob("*")):
            if path.is_file():
                zf.writestr(zipfile.ZipInfo(str(path.relative_to(build))), path.read_bytes())
    task = tmp_path / "task"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(task)
        for info in zf.infolist():  # as `unzip` does: each file dated as its entry
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(task / info.filename, (stamp, stamp))
    return task


def _loads_from_bytecode(task: Path) -> bool:
    """Whether `import shipped` runs the shipped .pyc (`python -v` says which it loads)."""
    env = {"PYTHONPATH": str(task), "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-v", "-c", "import shipped; assert shipped.VALUE == 42"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    pyc = str(task / "shipped" / "__pycache__")
    return any(line.startswith("# code object from") and pyc in line for line in done.stderr.splitlines())


def test_unchecked_hash_bytecode_is_used_after_the_deploy_zip(tmp_path: Path) -> None:
    assert _loads_from_bytecode(_deployed_copy(tmp_path, py_compile.PycInvalidationMode.UNCHECKED_HASH))


def test_timestamp_bytecode_is_stale_after_the_deploy_zip(tmp_path: Path) -> None:
    """What `make package` avoids: the zip loses the sources' times, so Python recompiles."""
    assert not _loads_from_bytecode(_deployed_copy(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP))
