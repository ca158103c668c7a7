"""Lambda entry point of the sweeper, on an EventBridge Scheduler schedule. The event's
`time` (the scheduled time, in UTC) picks what is due; each follow-up is settled at the
later of that and the clock, so a late invocation pays and counts in the UTC month and day
it acts in."""

from __future__ import annotations

from . import init_phase

with init_phase():
    from datetime import UTC, datetime
    from typing import Any

    from ..config import Settings
    from ..observability import logger, metrics
    from ..services.fan_out import RecentHandOffs, sweep_with_fan_out
    from ..services.sweep import run_sweep
    from ..wiring import build_deps, build_work_queue
    from .metrics import publish

    settings = Settings.from_env()
    deps = build_deps(settings)  # one botocore session and client, built here
    # With FAN_OUT_QUEUE_URL: what a sweep leaves to the workers (its SQS client, on the same
    # session); and what this warm process handed off, so later sweeps skip it.
    work_queue = build_work_queue(settings, deps)
    recent_hand_offs = RecentHandOffs()


def sweep_time(event: dict[str, Any]) -> datetime:
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str) and raw and not raw.startswith("<"):
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, object]:
    now = sweep_time(event)
    sweep_id = str(getattr(context, "aws_request_id", "local"))
    logger.set_correlation_id(sweep_id)

    def out_of_time() -> bool:
        remaining: int = context.get_remaining_time_in_millis()
        return remaining < settings.sweep_safety_margin_ms

    if work_queue is None:
        summary = run_sweep(deps, now, sweep_id, out_of_time, settings.sweep_workers)
    else:
        summary = sweep_with_fan_out(
            deps,
            work_queue,
            now,
            sweep_id,
            settings.fan_out_above,
            recent_hand_offs,
            out_of_time,
            settings.sweep_workers,
        )
    publish(summary)
    result = summary.to_dict()
    logger.info("sweep finished", extra={"summary": result})
    return result
