"""The embedded DynamoDB engine of `inmail serve`: moto's server on loopback, with its
data saved to the data dir (on a clean stop and every minute) and loaded at start."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from ..config import Settings
from ..store.tables import table_names

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "dynamodb-snapshot.json"
# Set (to anything but "" or "0") to run moto as it ships, for comparisons: transactions copy
# whole tables and snapshots page with Scan (bench/load.py --probe measures both ways).
UNPATCHED_ENV = "INMAIL_ENGINE_UNPATCHED"
# Requests run one at a time under the engine's lock (_OneRequestAtATime); these threads only
# read requests and write responses around it, on connections kept alive between requests.
ENGINE_THREADS = 8


def unpatched_requested() -> bool:
    return os.environ.get(UNPATCHED_ENV, "") not in ("", "0")


def local_credentials() -> None:
    """moto accepts any credentials; boto3 needs some to sign with."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class EmbeddedEngine:
    """moto's DynamoDB server on loopback, in a thread of this process.

    The same parts as moto's ThreadedMotoServer, but the socket is bound in the caller's
    thread, so a port already in use fails at once (ThreadedMotoServer waits forever
    for a server that never starts), and stop() closes the socket so the port is free
    as soon as it returns."""

    def __init__(self, port: int):
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.gate: _OneRequestAtATime | None = None
        self.patched = False  # moto_internals in use (transactions by item, snapshots in one pass)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from waitress.server import create_server

        self.patched = self._patch()
        dispatcher = DomainDispatcherApplication(create_backend_app)
        if self.patched:
            from . import moto_internals

            app = self.gate = _OneRequestAtATime(moto_internals.DynamoDBFirst(dispatcher), read_body_first=True)
        else:
            app = self.gate = _OneRequestAtATime(dispatcher)
        try:
            self._server = create_server(app, host="127.0.0.1", port=self.port, threads=ENGINE_THREADS, ident="moto")
        except OSError as error:  # the port taken, most often
            why = (error.strerror or str(error)).lower()
            raise EngineError(
                f"cannot start the DynamoDB engine on 127.0.0.1:{self.port} ({why}); "
                "choose another --dynamodb-port, or --dynamodb-endpoint to use a running DynamoDB"
            ) from None
        self._thread = threading.Thread(target=self._server.run, name="dynamodb-engine", daemon=True)
        self._thread.start()

    @staticmethod
    def _patch() -> bool:
        from . import moto_internals

        if unpatched_requested():
            moto_internals.uninstall()  # installed by an earlier engine of this process
            log.warning("%s is set: moto as it ships, every transaction copies its tables", UNPATCHED_ENV)
            return False
        refused = moto_internals.install()
        if refused is not None:
            log.warning(
                "%s: the embedded engine runs moto as it ships, every transaction copies whole tables "
                "and slows as the data grows (pip install 'moto[server,dynamodb]==%s' for the fast path)",
                refused,
                moto_internals.MOTO_VERSION,
            )
            return False
        return True

    def stop(self) -> None:
        if self._server is None:
            return
        # waitress's loop runs while its map holds a socket: the listener, the trigger and any
        # kept-alive client connection; closing them all ends it.
        self._server.task_dispatcher.shutdown(cancel_pending=True)
        for channel in list(self._server._map.values()):
            channel.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None


SNAPSHOT_HEADER = "x-inmail-snapshot"
_SNAPSHOT_ENVIRON = "HTTP_X_INMAIL_SNAPSHOT"


class _OneRequestAtATime:
    """moto's backends are not thread-safe, and waitress serves requests on several
    threads: two concurrent `ADD used :one` on a counter can lose one, and a cancelled
    TransactWriteItems restores whole-table copies taken before a concurrent write, undoing
    it. DynamoDB makes every request atomic; so does this, by serving one at a time (the
    response body is built under the lock too). Found by `make load` (bench/load.py).

    A snapshot holds the lock (`exclusive()`) while it reads every table, so it sees the
    state between two requests, never the inside of one (tests/integration/
    test_crash_safety.py); its own requests carry the token and pass.

    With `read_body_first`, the request body is read before the lock is taken: a client
    that sent its headers and not yet its body (a thread waiting for the GIL between the
    two writes) would otherwise hold every other request up while the lock waits on its
    socket. One lock and not finer ones (per table, readers/writer): moto's work is pure
    Python under the GIL, so requests running side by side would not finish sooner, and a
    transaction or a snapshot spans tables (docs/performance.md, "The local stack")."""

    def __init__(self, app: Any, read_body_first: bool = False):
        self.app = app
        self.lock = threading.Lock()
        self.token = secrets.token_hex(16)
        self.read_body_first = read_body_first

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get(_SNAPSHOT_ENVIRON) == self.token:  # the snapshot's, which holds the lock
            return list(self.app(environ, start_response))
        if self.read_body_first:
            _read_body(environ)
        with self.lock:
            return list(self.app(environ, start_response))

    @contextmanager
    def exclusive(self) -> Iterator[str]:
        with self.lock:
            yield self.token


def _read_body(environ: dict[str, Any]) -> None:
    """Read the whole request body now and hand the app a buffer of it."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    if environ.get("wsgi.input_terminated"):  # waitress's buffered body ends where the request's does
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return  # moto answers that one as it would have
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)


class EngineError(RuntimeError):
    pass


def _client(settings: Settings) -> Any:
    return boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint)


class Snapshots:
    """Whole-table snapshots in DynamoDB JSON, written atomically (temp file + rename)."""

    def __init__(self, settings: Settings, data_dir: Path, engine: EmbeddedEngine | None = None):
        self.settings = settings
        self.path = data_dir / SNAPSHOT_FILE
        self._lock = threading.Lock()
        # Made once, here: clients are thread-safe, boto3's default session is not.
        self._client = _client(settings)
        self._engine = engine
        self._gate = engine.gate if engine is not None else None
        self.last_held_seconds = 0.0
        if self._gate is not None:
            self._client.meta.events.register_first("before-send.dynamodb", self._mark)

    def _mark(self, request: Any, **_: Any) -> None:
        """The snapshot's requests pass the engine's gate, which the snapshot holds."""
        if self._gate is not None:
            request.headers[SNAPSHOT_HEADER] = self._gate.token

    @contextmanager
    def _consistent(self) -> Iterator[None]:
        """No other request runs while the tables are read."""
        if self._gate is None:
            yield
            return
        with self._gate.exclusive():
            yield

    def save(self) -> int:
        # Every table at one moment, so a transaction is in the snapshot whole or not at
        # all (scanned one after another under writes, a refund could be in the counter and
        # not yet in the ledger). Everything acknowledged before `taken_at` is in it.
        with self._consistent():
            held_from = time.perf_counter()
            taken_at = datetime.now(UTC).isoformat()
            tables = self._read_tables()
            self.last_held_seconds = time.perf_counter() - held_from  # requests waited this long
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            # Owner-only, like the signing secret beside it: it holds every message.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                # dumps, not dump: json.dump runs the pure-Python encoder (~5x slower). Compact,
                # and no cycle check (DynamoDB JSON has none): 19 MB in ~0.6 s at 20k threads.
                snapshot = {"version": 1, "taken_at": taken_at, "tables": tables}
                f.write(json.dumps(snapshot, separators=(",", ":"), check_circular=False))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)  # atomic: a reader finds the old file or the new one, whole
            _fsync_dir(self.path.parent)
        return sum(len(items) for items in tables.values())

    @property
    def _in_process(self) -> bool:
        """The embedded engine, patched: its tables are read and written directly."""
        return self._engine is not None and self._engine.patched

    def _read_tables(self) -> dict[str, list[dict[str, Any]]]:
        names = table_names(self.settings)
        if self._in_process:
            from . import moto_internals

            # One pass over moto's tables (~0.4 s for 20,000 threads and their ledger entries):
            # Scan pages each walk the table from its start, quadratic in the table (~40 s).
            return moto_internals.export_tables(self.settings.region, names)
        tables: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            items: list[dict[str, Any]] = []
            for page in self._client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                items.extend(page["Items"])
            tables[name] = items
        return tables

    def load(self) -> int | None:
        """Items restored from the snapshot, or None when there is none yet (a first start)."""
        if not self.path.exists():
            return None
        data = self._read()
        if self._in_process:
            from . import moto_internals

            with self._consistent():
                try:
                    return moto_internals.import_tables(self.settings.region, data["tables"])
                except Exception as exc:  # what BatchWriteItem would have refused
                    raise _damaged(self.path, f"an item cannot be restored: {exc}") from exc
        client = self._client
        count = 0
        for name, items in data["tables"].items():
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                request: dict[str, Any] = {name: batch}
                while request:
                    response = client.batch_write_item(RequestItems=request)
                    request = response.get("UnprocessedItems") or {}
            count += len(items)
        return count

    def _read(self) -> dict[str, Any]:
        """The snapshot, refused whole when it is not one this code wrote: starting empty
        would overwrite it at the next save."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise _damaged(self.path, str(exc)) from exc
        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("tables"), dict):
            raise _damaged(self.path, "not a version 1 snapshot with tables")
        if not all(isinstance(items, list) for items in data["tables"].values()):
            raise _damaged(self.path, "a table is not a list of items")
        return data


def _damaged(path: Path, why: str) -> EngineError:
    return EngineError(f"{path} is damaged ({why}); move it aside to start with no data")


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (a crash of the machine, not only of the process)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
