"""What a sweep and a fan-out worker publish: one set of metric names for both, so the
dashboards and alarms count a follow-up wherever it was settled."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from ..observability import metrics
from ..services.sweep import Outcome, SweepSummary


def publish(summary: SweepSummary, *, worker: bool = False) -> None:
    """A worker's unsettled messages come back from the queue: counted as WorkerRetries, not
    LeftForNextSweep, whose alarm (Minimum over a minute) is about sweeps alone."""
    metrics.add_metric("Delivered", MetricUnit.Count, summary.counts[Outcome.DELIVERED])
    metrics.add_metric("Cancelled", MetricUnit.Count, summary.counts[Outcome.CANCELLED])
    metrics.add_metric("Deleted", MetricUnit.Count, summary.counts[Outcome.DELETED])
    metrics.add_metric("Failed", MetricUnit.Count, summary.counts[Outcome.FAILED])
    metrics.add_metric("Rescheduled", MetricUnit.Count, summary.counts[Outcome.RESCHEDULED])
    metrics.add_metric("Errors", MetricUnit.Count, summary.counts[Outcome.ERROR])
    if worker:
        metrics.add_metric("WorkerRetries", MetricUnit.Count, summary.counts[Outcome.OUT_OF_TIME])
    else:
        metrics.add_metric("LeftForNextSweep", MetricUnit.Count, summary.counts[Outcome.OUT_OF_TIME])
        metrics.add_metric("HandedOff", MetricUnit.Count, summary.handed_off)
    metrics.add_metric("RefundedCredits", MetricUnit.Count, summary.refunded_credits)
    metrics.add_metric("SweepLag", MetricUnit.Seconds, summary.lag_seconds)
    for code, count in summary.failed_by_code.items():
        metrics.add_metric(f"Failed{code.title().replace('_', '')}", MetricUnit.Count, count)
