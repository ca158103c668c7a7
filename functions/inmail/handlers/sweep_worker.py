"""Lambda entry point of the fan-out worker: an SQS event source on the fan-out queue
hands it batches of follow-ups a sweep leased and left to it (services/fan_out.py). Each is
settled with the sweeper's own `settle_one`; the answer is a partial batch response, so
only the messages left unsettled come back."""

from __future__ import annotations

from . import init_phase

with init_phase():
    from typing import Any

    from ..config import Settings
    from ..observability import logger, metrics
    from ..wiring import build_deps
    from .fan_out_batch import settle_batch, worker_cache
    from .metrics import publish

    settings = Settings.from_env()
    deps = build_deps(settings)  # one botocore session and client, built here
    cache = worker_cache(deps)  # kept by the warm environment from one batch to the next


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    worker_id = str(getattr(context, "aws_request_id", "local"))
    logger.set_correlation_id(worker_id)

    def out_of_time() -> bool:
        remaining: int = context.get_remaining_time_in_millis()
        return remaining < settings.sweep_safety_margin_ms

    response, summary = settle_batch(deps, event, worker_id, out_of_time, settings.sweep_workers, cache)
    publish(summary, worker=True)
    result = {**summary.to_dict(), "retried": len(response.get("batchItemFailures", []))}
    logger.info("hand-offs settled", extra={"summary": result})
    return response
