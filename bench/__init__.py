"""Benchmarks (`make bench`) and the load run (`make load`).

They share their plumbing with the tests: tests/support.py is put on the path here."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
