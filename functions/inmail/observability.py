"""Powertools singletons. The service name, namespace and log level come from the
POWERTOOLS_* environment variables that template.yaml sets (the namespace is per stack);
the defaults serve local runs."""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger, Metrics

PACKAGE = "inmail"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or PACKAGE
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "InMail"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def _modules_log_like(service_logger: Logger) -> None:
    """Modules log through `logging.getLogger(__name__)`, children of the package's logger,
    while Powertools configures the logger named after the service: the same one only when
    the service is called "inmail". Give the package's logger the service's handler (one
    formatter, so the same keys: the correlation id, the Lambda context), whatever the
    service is called."""
    if service_logger.name == PACKAGE:
        return
    package = logging.getLogger(PACKAGE)
    package.handlers = list(service_logger.handlers)
    package.setLevel(service_logger.log_level)
    package.propagate = False  # the runtime's root handler would print each line again, as text
    if service_logger.name.startswith(f"{PACKAGE}."):
        logging.getLogger(service_logger.name).propagate = False  # else printed twice, by both


_modules_log_like(logger)
