"""Lambda entry points. Importing one is the cold start's init phase."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def init_phase() -> Iterator[None]:
    """The collector off while a handler module imports and wires itself: what the init
    phase allocates lives as long as the process, so collecting during it is waste (about
    4% of the API's import, in instructions). What it built is then frozen out of every
    later collection, so the first requests don't walk it either."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
