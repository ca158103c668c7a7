"""Powertools singletons. The service name, namespace and log level come from the
POWERTOOLS_* environment variables that template.yaml sets."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="inmail")
metrics = Metrics(namespace="InMail", service="inmail")
