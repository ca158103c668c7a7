"""`inmail serve | token | sweep | recount`: the local stack (see contract/RUNTIME.md), and
the report's recount (docs/deploy.md)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..config import AuthMode, Settings, SettingsError

if TYPE_CHECKING:  # imported where used: `inmail token` starts without them
    from ..services.deps import Deps
    from ..services.sweep import SweepSummary

log = logging.getLogger("inmail")

SECRET_FILE = "jwt-secret"
SWEEP_EVERY_SECONDS = 60
SNAPSHOT_EVERY_SECONDS = 60
DEFAULT_DATA_DIR = ".data"


def _endpoint(args: argparse.Namespace) -> str:
    """First found: --dynamodb-endpoint, AWS_ENDPOINT_URL_DYNAMODB, --dynamodb-port."""
    return (
        args.dynamodb_endpoint
        or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or f"http://127.0.0.1:{args.dynamodb_port}"
    )


def _local_settings(endpoint: str, data_dir: Path) -> Settings:
    return replace(
        Settings.from_env(),
        dynamodb_endpoint=endpoint,
        auth_mode=AuthMode.LOCAL,
        local_secret_file=str(data_dir / SECRET_FILE),
    )


def cmd_token(args: argparse.Namespace) -> int:
    from ..api.auth import issue_local_token, load_or_create_secret
    from ..domain.model import Role

    roles = args.role or []
    unknown = [r for r in roles if r not in {x.value for x in Role}]
    if not roles or unknown:
        print(f"--role must be one of {', '.join(r.value for r in Role)}", file=sys.stderr)
        return 2
    if not args.sub.strip():
        print("--sub must name the caller (the server refuses a token without a subject)", file=sys.stderr)
        return 2
    try:
        secret = load_or_create_secret(Path(args.data_dir) / SECRET_FILE)
    except ValueError as exc:
        print(f"inmail token: {exc}", file=sys.stderr)
        return 1
    ttl = timedelta(hours=args.ttl_hours)
    print(issue_local_token(secret, args.sub, roles, args.contract, ttl))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..domain.errors import TransientStoreError
    from ..services.fan_out import sweep_with_fan_out
    from ..services.sweep import run_sweep
    from ..wiring import build_deps
    from .engine import local_credentials

    local_credentials()
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    settings = _local_settings(_endpoint(args), Path(args.data_dir))
    deps = build_deps(settings)
    fan_out = _served_fan_out(settings, deps)
    sweep_id = f"cli-{uuid.uuid4()}"
    try:
        if fan_out is None:
            summary = run_sweep(deps, now, sweep_id, workers=settings.sweep_workers)
        else:
            summary = sweep_with_fan_out(
                deps, fan_out.queue, now, sweep_id, fan_out.above, workers=settings.sweep_workers
            )
    except TransientStoreError:
        print(
            f"inmail sweep: cannot reach DynamoDB at {settings.dynamodb_endpoint}; is `inmail serve` "
            "running (its --dynamodb-port), or give --dynamodb-endpoint",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(summary.to_dict()))
    return 0


def _served_fan_out(settings: Settings, deps: Deps) -> FanOut | None:
    """The fan-out queue of the `inmail serve` whose engine is at the DynamoDB endpoint, when
    it runs one (its worker then settles what this sweep hands off above FAN_OUT_ABOVE, as
    the serve's own sweeper does); else None: the sweep settles everything itself. Only a
    loopback endpoint is asked (a serve's embedded engine), once, without retries."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from ..store.tables import LOCAL_WORK_QUEUE
    from ..store.work_queue import SqsWorkQueue
    from ..wiring import build_work_queue

    endpoint = settings.sqs_endpoint or settings.dynamodb_endpoint
    if not endpoint or not _loopback(endpoint):
        return None
    quick = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    client = boto3.client("sqs", region_name=settings.region, endpoint_url=endpoint, config=quick)
    try:
        url: str = client.get_queue_url(QueueName=LOCAL_WORK_QUEUE)["QueueUrl"]
    except (BotoCoreError, ClientError):  # no serve with a worker there (or no SQS at all)
        return None
    queue = build_work_queue(replace(settings, sqs_endpoint=endpoint, fan_out_queue_url=url), deps)
    assert isinstance(queue, SqsWorkQueue)
    return FanOut(queue, settings.fan_out_above)


def _loopback(endpoint: str) -> bool:
    from urllib.parse import urlparse

    return urlparse(endpoint).hostname in ("127.0.0.1", "localhost", "::1")


def cmd_recount(args: argparse.Namespace) -> int:
    """The report's figures rebuilt from the threads and ledger and compared with its
    counters; with --write, the counters corrected where no write came in between. Exit 0:
    the counters are the recount; 1: they differ (not written), or the threads and the
    ledger disagree; 3: some cohorts were written while counting (run again)."""
    from ..domain.errors import TransientStoreError
    from ..services.recount import recount_report
    from ..store.dynamo import DynamoStore
    from .engine import local_credentials

    endpoint = _endpoint(args)
    if _loopback(endpoint):  # against AWS, the caller's own credentials and region
        local_credentials()
    settings = replace(_local_settings(endpoint, Path(args.data_dir)), dynamodb_max_retries=8)
    try:
        result = recount_report(DynamoStore(settings), args.contract, write=args.write)
    except TransientStoreError:
        print(
            f"inmail recount: cannot reach DynamoDB at {settings.dynamodb_endpoint}; is `inmail serve` "
            "running (its --dynamodb-port), or give --dynamodb-endpoint",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(result.to_dict()))
    if result.busy:
        print(
            f"inmail recount: {len(result.busy)} cohort(s) were written while counting and were left as they "
            "are; run it again",
            file=sys.stderr,
        )
        return 3
    return 0 if result.exact and not result.disagreements else 1


def _every(seconds: float, stop: threading.Event, work: Callable[[], object], name: str) -> threading.Thread:
    """Run `work` every `seconds`, start to start (a slow round does not push the next
    one later: snapshots stay at least once a minute)."""

    def loop() -> None:
        next_at = time.monotonic() + seconds
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += seconds
            try:
                work()
            except Exception:  # keep the loop alive; the next round retries
                log.exception("%s failed", name)
            next_at = max(next_at, time.monotonic())  # skip rounds missed, don't burst

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def sweep_and_log(deps: Deps, now: datetime, fan_out: FanOut | None = None) -> SweepSummary:
    """One sweep of `inmail serve`'s loop. Logged when it found or decided anything; an idle
    sweep only at DEBUG: a line a minute saying nothing happened hides the lines that matter.
    With `fan_out`, what is due beyond its threshold goes to the local queue's worker."""
    from ..services.fan_out import sweep_with_fan_out
    from ..services.sweep import run_sweep

    sweep_id = f"local-{uuid.uuid4()}"
    if fan_out is None:
        summary = run_sweep(deps, now, sweep_id)
    else:
        summary = sweep_with_fan_out(deps, fan_out.queue, now, sweep_id, fan_out.above, fan_out.recent)
    log.log(logging.INFO if summary.acted else logging.DEBUG, "sweep: %s", json.dumps(summary.to_dict()))
    return summary


class FanOut:
    """The local fan-out: the queue on the embedded engine, the threshold, and what this
    process handed off recently."""

    def __init__(self, queue: Any, above: int):
        from ..services.fan_out import RecentHandOffs

        self.queue = queue
        self.above = above
        self.recent = RecentHandOffs()


class _Terminated(BaseException):
    """SIGTERM as an exception, so a terminated server takes the same clean-stop path as
    Ctrl-C. Python's default for SIGTERM ends the process on the spot, and uvicorn, after
    its own graceful shutdown, re-raises the signal it caught: without this handler the
    final snapshot would never be written."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def cmd_serve(args: argparse.Namespace) -> int:
    from .engine import EngineError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore.credentials"):  # moto's request log, boto's chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # "Task queue depth is N": requests waiting for the engine's threads, which serve one at a
    # time anyway (engine.py); not a problem to report.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _serve(args)
    except (KeyboardInterrupt, _Terminated):
        log.info("stopped")
    except EngineError as exc:
        print(f"inmail serve: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from ..store.tables import ensure_tables
    from ..wiring import build_deps
    from .asgi import create_app
    from .cors import CorsPolicy
    from .engine import EmbeddedEngine, EngineError, Snapshots, local_credentials

    local_credentials()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine: EmbeddedEngine | None = None
    # Set only once the snapshot is loaded: saving a half-restored engine would lose data.
    snapshots: Snapshots | None = None
    endpoint = args.dynamodb_endpoint
    stop = threading.Event()
    loops: list[threading.Thread] = []
    held: list[object] = []
    listener: socket.socket | None = None
    try:
        if endpoint is None:
            held.append(_lock(data_dir))  # for the life of the process
        # Bound before anything starts and before the banner: a busy port fails here, with
        # nothing printed that says the playground is up.
        listener = _bind(args.port)
        if endpoint is None:
            engine = EmbeddedEngine(args.dynamodb_port)
            engine.start()
            endpoint = engine.endpoint
        settings = _local_settings(endpoint, data_dir)
        ensure_tables(settings)
        if engine is not None:
            restoring = Snapshots(settings, data_dir, engine)
            restored = restoring.load()
            try:  # a data dir that can't be written is refused now, not found out at the stop
                restoring.save()
            except OSError as exc:
                raise EngineError(f"cannot write snapshots to {data_dir}: {exc}") from exc
            snapshots = restoring
            if restored is None:
                log.info("no snapshot in %s yet: starting with empty tables (saved to %s)", data_dir, snapshots.path)
            else:
                log.info("restored %d items from %s", restored, snapshots.path)
            loops.append(_every(args.snapshot_every, stop, snapshots.save, "snapshot"))
        deps = build_deps(settings)
        fan_out = _local_fan_out(settings, deps) if engine is not None and not args.no_sweeper else None
        if fan_out is not None:
            loops.append(_worker(deps, fan_out, stop))
        if not args.no_sweeper:
            sweep = lambda: sweep_and_log(deps, datetime.now(UTC), fan_out)  # noqa: E731
            loops.append(_every(SWEEP_EVERY_SECONDS, stop, sweep, "sweeper"))
        cors = CorsPolicy.from_patterns(args.cors_origin)
        try:
            app = create_app(deps, settings, cors)
        except ValueError as exc:  # an empty signing secret
            raise EngineError(str(exc)) from exc
        print(_banner(args, endpoint, data_dir if engine else None, cors), flush=True)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=args.port, lifespan="off", log_level="info", timeout_graceful_shutdown=5
        )
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if listener is not None:
            listener.close()
        _shutdown(stop, loops, snapshots, engine)


def _local_fan_out(settings: Settings, deps: Deps) -> FanOut:
    """The fan-out queue on the embedded engine (moto's server serves SQS on its endpoint),
    as in AWS: above `FAN_OUT_ABOVE` due follow-ups a sweep hands the rest to it."""
    from ..store.tables import ensure_work_queue
    from ..store.work_queue import SqsWorkQueue
    from ..wiring import build_work_queue

    local = replace(settings, sqs_endpoint=settings.sqs_endpoint or settings.dynamodb_endpoint)
    local = replace(local, fan_out_queue_url=ensure_work_queue(local))
    queue = build_work_queue(local, deps)
    assert isinstance(queue, SqsWorkQueue)
    log.info("fan-out: above %d due follow-ups a sweep hands the rest to %s", local.fan_out_above, queue.url)
    return FanOut(queue, local.fan_out_above)


def _worker(deps: Deps, fan_out: FanOut, stop: threading.Event) -> threading.Thread:
    from .fan_out import LocalWorker

    worker = LocalWorker(deps, fan_out.queue)
    thread = threading.Thread(target=worker.run, args=(stop,), name="fan-out-worker", daemon=True)
    thread.start()
    return thread


def _banner(args: argparse.Namespace, endpoint: str, embedded_data: Path | None, cors: Any) -> str:
    """What `inmail serve` prints once its ports are bound (README.md shows it: a test
    holds the two together)."""
    token_hint = ".venv/bin/inmail token --sub ops --role OPERATOR"
    if args.data_dir != DEFAULT_DATA_DIR:
        token_hint += f" --data-dir {args.data_dir}"
    engine = f" (embedded, data in {embedded_data})" if embedded_data is not None else ""
    return (
        f"InMail follow-ups, local stack\n"
        f"  GraphQL API and playground: http://127.0.0.1:{args.port}/graphql\n"
        f"  DynamoDB endpoint:          {endpoint}{engine}\n"
        f"  Sweeper:                    {'off' if args.no_sweeper else 'every 60 s'}\n"
        f"  Browser origins (CORS):     {', '.join(cors.origins)}\n"
        f"  Tokens: the playground's Local tokens panel, or\n"
        f"    {token_hint}\n"
        f'    then {{"Authorization": "Bearer <token>"}} in its Headers pane\n'
        f"  Stop with Ctrl-C."
    )


def _shutdown(stop: threading.Event, loops: list[threading.Thread], snapshots: Any, engine: Any) -> None:
    """Stop the loops, write the last snapshot, stop the engine. A second SIGTERM does not
    cut this short; a second Ctrl-C does (the snapshot file is replaced atomically)."""
    from .engine import EngineError

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop.set()
    for thread in loops:  # a periodic snapshot must not land after the final one
        thread.join(timeout=10)
    if snapshots is not None:
        try:
            saved = snapshots.save()
            log.info("saved %d items to %s", saved, snapshots.path)
        except Exception as exc:
            log.exception("final snapshot failed")
            if engine is not None:
                engine.stop()
            raise EngineError(f"the final snapshot failed, writes since the last one are lost: {exc}") from exc
    if engine is not None:
        engine.stop()


def _bind(port: int) -> socket.socket:
    """The API's listening socket on 127.0.0.1 (SO_REUSEADDR, as uvicorn sets it)."""
    from .engine import EngineError

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise EngineError(
            f"cannot serve the API on 127.0.0.1:{port}: {exc.strerror or exc}; stop what holds it "
            "(another `inmail serve`?), or choose another --port"
        ) from None
    return sock


def _lock(data_dir: Path) -> object:
    """One `inmail serve` per data dir: two would each save only their own engine's data
    over the other's snapshot."""
    import fcntl

    from .engine import EngineError

    try:
        handle = (data_dir / ".lock").open("w")
    except OSError as exc:
        raise EngineError(f"cannot write to {data_dir}: {exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise EngineError(f"{data_dir} is in use by another `inmail serve`; stop it, or give --data-dir") from exc
    return handle


def _positive_number(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _origin(text: str) -> str:
    from .cors import origin_pattern

    try:
        return origin_pattern(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inmail", description="InMail follow-ups: the local stack.")
    sub = parser.add_subparsers(dest="command", required=True)
    data_dir_help = "where the data and the token signing secret live (default: %(default)s)"

    serve = sub.add_parser(
        "serve",
        help="run the API, the sweeper and an embedded DynamoDB",
        description="Run the local stack: the GraphQL API and its playground, the sweeper every minute, "
        "and an embedded DynamoDB engine whose data is kept in --data-dir. Ctrl-C stops it all.",
    )
    serve.add_argument(
        "--port", type=int, default=3000, help="port of the API and playground on 127.0.0.1 (default: %(default)s)"
    )
    serve.add_argument(
        "--dynamodb-port",
        type=int,
        default=8000,
        help="port of the embedded DynamoDB engine on 127.0.0.1 (default: %(default)s)",
    )
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=data_dir_help)
    serve.add_argument(
        "--no-sweeper", action="store_true", help="do not sweep every minute (run `inmail sweep` by hand instead)"
    )
    serve.add_argument(
        "--dynamodb-endpoint",
        default=None,
        metavar="URL",
        help="use this DynamoDB (DynamoDB Local, LocalStack, AWS) and start no engine; nothing is snapshotted",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        type=_origin,
        metavar="ORIGIN",
        help="a browser origin that may call the API, e.g. http://localhost:5173, http://host:* for any port, "
        "or *; repeat for more. Given, it replaces the default: http://localhost:* and http://127.0.0.1:*",
    )
    # Hidden, for the crash-safety tests: seconds between snapshots (start to start).
    serve.add_argument(
        "--snapshot-every", type=_positive_number, default=SNAPSHOT_EVERY_SECONDS, help=argparse.SUPPRESS
    )
    serve.set_defaults(run=cmd_serve)

    token = sub.add_parser(
        "token",
        help="print a bearer token the local server accepts",
        description="Print a token signed with the local secret of --data-dir, for the header "
        "Authorization: Bearer <token>.",
    )
    token.add_argument("--sub", required=True, help="the caller's id: a recruiter's seat or a candidate is keyed by it")
    token.add_argument(
        "--role",
        action="append",
        choices=[r.value for r in _roles()],
        help="a role the token grants; repeat for more (e.g. --role RECRUITER --role CONTRACT_ADMIN)",
    )
    token.add_argument("--contract", default=None, help="the contract id of a recruiter or contract admin (optional)")
    token.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=data_dir_help)
    token.add_argument(
        "--ttl-hours", type=_positive_number, default=12.0, help="hours until the token expires (default: %(default)s)"
    )
    token.set_defaults(run=cmd_token)

    sweep = sub.add_parser(
        "sweep",
        help="run one sweep and print its JSON summary",
        description="Run one sweep, the code the scheduled Lambda runs, against the tables `inmail serve` uses.",
    )
    sweep.add_argument(
        "--now", default=None, help="ISO-8601 time the sweep runs at, e.g. 2030-01-01T00:00:00Z (default: now)"
    )
    sweep.add_argument(
        "--dynamodb-endpoint",
        default=None,
        metavar="URL",
        help="the DynamoDB to sweep (default: AWS_ENDPOINT_URL_DYNAMODB, else http://127.0.0.1:--dynamodb-port)",
    )
    sweep.add_argument(
        "--dynamodb-port", type=int, default=8000, help="port of `inmail serve`'s engine (default: %(default)s)"
    )
    sweep.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=data_dir_help)
    sweep.set_defaults(run=cmd_sweep)

    recount = sub.add_parser(
        "recount",
        help="rebuild the InMail report's figures from the threads and ledger; compare (or --write) the counters",
    )
    recount.add_argument("--contract", default=None, help="only this contract's counters (the tables are read whole)")
    recount.add_argument(
        "--write", action="store_true", help="correct the counters that differ (each only if unchanged meanwhile)"
    )
    recount.add_argument("--dynamodb-endpoint", default=None)
    recount.add_argument("--dynamodb-port", type=int, default=8000)
    recount.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    recount.set_defaults(run=cmd_recount)
    return parser


def _roles() -> list[Any]:
    from ..domain.model import Role

    return list(Role)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except SettingsError as exc:  # a bad environment variable, refused before any work
        print(f"inmail {args.command}: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
