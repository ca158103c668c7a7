"""Powertools singletons. The service name, namespace and log level come from the
POWERTOOLS_* environment variables that template.yaml sets (the namespace is per stack);
the defaults serve local runs."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "inmail"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "InMail"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
