"""Lambda entry point of the sweeper, on an EventBridge Scheduler schedule. The event's
`time` (the scheduled time, in UTC) picks what is due; each follow-up is settled at the
later of that and the clock, so a late invocation pays and counts in the UTC month and day
it acts in."""

from __future__ import annotations

from . import init_phase

with init_phase():
    from datetime import UTC, datetime
    from typing import Any

    from aws_lambda_powertools.metrics import MetricUnit

    from ..config import Settings
    from ..observability import logger, metrics
    from ..services.sweep import Outcome, SweepSummary, run_sweep
    from ..wiring import build_deps

    settings = Settings.from_env()
    deps = build_deps(settings)  # one botocore session and client, built here


def sweep_time(event: dict[str, Any]) -> datetime:
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str) and raw and not raw.startswith("<"):
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def publish(summary: SweepSummary) -> None:
    metrics.add_metric("Delivered", MetricUnit.Count, summary.counts[Outcome.DELIVERED])
    metrics.add_metric("Cancelled", MetricUnit.Count, summary.counts[Outcome.CANCELLED])
    metrics.add_metric("Deleted", MetricUnit.Count, summary.counts[Outcome.DELETED])
    metrics.add_metric("Failed", MetricUnit.Count, summary.counts[Outcome.FAILED])
    metrics.add_metric("Rescheduled", MetricUnit.Count, summary.counts[Outcome.RESCHEDULED])
    metrics.add_metric("Errors", MetricUnit.Count, summary.counts[Outcome.ERROR])
    metrics.add_metric("LeftForNextSweep", MetricUnit.Count, summary.counts[Outcome.OUT_OF_TIME])
    metrics.add_metric("RefundedCredits", MetricUnit.Count, summary.refunded_credits)
    metrics.add_metric("SweepLag", MetricUnit.Seconds, summary.lag_seconds)
    for code, count in summary.failed_by_code.items():
        metrics.add_metric(f"Failed{code.title().replace('_', '')}", MetricUnit.Count, count)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, object]:
    now = sweep_time(event)
    sweep_id = str(getattr(context, "aws_request_id", "local"))
    logger.set_correlation_id(sweep_id)

    def out_of_time() -> bool:
        remaining: int = context.get_remaining_time_in_millis()
        return remaining < settings.sweep_safety_margin_ms

    summary = run_sweep(deps, now, sweep_id, out_of_time, settings.sweep_workers)
    publish(summary)
    result = summary.to_dict()
    logger.info("sweep finished", extra={"summary": result})
    return result
