"""functions/requirements.txt (what `sam build` ships) is generated from pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_requirements.py"
REQUIREMENTS = ROOT / "functions" / "requirements.txt"


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert requirement_lines(REQUIREMENTS.read_text(encoding="utf-8")) == project["dependencies"], (
        "functions/requirements.txt drifted from pyproject.toml: run `make requirements`"
    )


def test_generator_check_mode_agrees() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_generator_check_mode_detects_drift(tmp_path: Path) -> None:
    """The check compares the whole file: a hand edit is drift too."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import gen_requirements
    finally:
        sys.path.remove(str(SCRIPT.parent))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["a>=1", "b<2"]\n', encoding="utf-8")
    rendered = gen_requirements.render(pyproject)
    assert requirement_lines(rendered) == ["a>=1", "b<2"]
    assert rendered != REQUIREMENTS.read_text(encoding="utf-8")
