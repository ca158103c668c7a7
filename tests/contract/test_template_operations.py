"""What an operator would hit once template.yaml is deployed (defects an audit found on
2026-11-27, fixed). Each test states a production expectation and checks the template (raw
or as aws-sam-translator transforms it), infra/samconfig.toml or the code the template
runs. Offline only."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from test_template import ROOT, TEMPLATE, load_template, resources_of, sam_transform, serverless_functions

from inmail.config import Settings

SAMCONFIG = ROOT / "infra" / "samconfig.toml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    return sam_transform(template)


def alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["Properties"] for a in resources_of(template, "AWS::CloudWatch::Alarm").values()]


# ---- 1. CORS: the deployed x-amazon-apigateway-cors --------------------------------------


def test_cors_configuration_survives_the_transform(transformed: dict[str, Any]) -> None:
    """An intrinsic in AllowOrigins alone made samtranslator treat it as the WHOLE
    CorsConfiguration (open_api.py add_cors): the deployed extension became Fn::Split's list,
    and methods/headers/maxAge were gone. Browser preflights would all have failed."""
    body = transformed["Resources"]["HttpApi"]["Properties"]["Body"]
    condition, cors, otherwise = body["x-amazon-apigateway-cors"]["Fn::If"]  # off with no origins
    assert condition == "HasCorsOrigins" and otherwise == {"Ref": "AWS::NoValue"}
    assert isinstance(cors, dict) and "Fn::Split" not in cors, f"x-amazon-apigateway-cors is {cors!r}"
    assert {"allowOrigins", "allowMethods", "allowHeaders", "maxAge"} <= set(cors), cors
    assert "authorization" in cors["allowHeaders"]


# ---- 2. SweepLag alarm shared by every stack in the account -------------------------------


def _resolve(value: Any, stack: str) -> Any:
    if isinstance(value, dict):
        if value == {"Ref": "AWS::StackName"}:
            return stack
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"].replace("${AWS::StackName}", stack)
        return {k: _resolve(v, stack) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, stack) for v in value]
    return value


def test_sweep_lag_alarm_sees_only_its_own_stack(template: dict[str, Any]) -> None:
    """The namespace was a constant (the code even ignored POWERTOOLS_METRICS_NAMESPACE), so
    the dev and prod stacks of infra/samconfig.toml, in one account, published the same
    metric: prod's 'sweeps stopped' alarm was kept quiet by dev's SweepLag=0 datapoints, and
    dev's lag paged prod. Now one namespace per stack."""
    stacks = [
        tomllib.loads(SAMCONFIG.read_text())[env]["global"]["parameters"]["stack_name"] for env in ("default", "prod")
    ]
    lag = next(a for a in alarms(template) if a["MetricName"] == "SweepLag")
    watched = {str(_resolve([lag["Namespace"], lag["Dimensions"]], s)) for s in stacks}
    assert len(watched) == 2, f"stacks {stacks} all alarm on the same metric: {watched.pop()}"


def test_metrics_namespace_follows_the_template_environment() -> None:
    """The namespace comes from POWERTOOLS_METRICS_NAMESPACE, as template.yaml sets it
    (tests/conftest.py sets InMailTest)."""
    import os

    from inmail.observability import metrics

    assert os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    assert metrics.namespace == os.environ["POWERTOOLS_METRICS_NAMESPACE"]


# ---- 3. API bugs never reach an alarm -------------------------------------------------------


def test_api_internal_errors_are_alarmed(template: dict[str, Any]) -> None:
    """api/http.py turns an unexpected exception into a 500 *response* (a resolver's becomes a
    masked error in a 200), so AWS/Lambda Errors stays 0 for every bug: the HTTP API's 5xx
    must alarm (and the masked errors, through a log metric filter)."""
    from inmail.api.http import GraphQLHttp, HttpRequest
    from inmail.wiring import build_deps

    settings = Settings()
    api = GraphQLHttp(build_deps(settings), settings)

    def boom(_: Any) -> Any:
        raise RuntimeError("a bug")

    api._view.run = boom  # type: ignore[method-assign,assignment]
    response = api.handle(
        HttpRequest(
            method="POST", path="/graphql", headers={"content-type": "application/json"}, body=b"{}", request_id="req-1"
        )
    )
    assert response.status == 500  # returned, not raised: Lambda counts no error

    watched = {(str(_resolve(a["Namespace"], "stack")), a["MetricName"]) for a in alarms(template)}
    assert ("AWS/ApiGateway", "5xx") in watched, f"no alarm on HTTP API 5xx; alarms: {sorted(watched)}"
    assert ("InMail/stack", "ApiUnexpectedErrors") in watched
    metric_filter = next(iter(resources_of(template, "AWS::Logs::MetricFilter").values()))["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "ApiFunctionLogs"}
    assert metric_filter["FilterPattern"].strip('"') in "unexpected error in ['viewer'] (request r1)"


# ---- 4. Sweeper: what SweepLag does not see ---------------------------------------------------


def test_swallowed_sweep_errors_and_backlog_are_alarmed(template: dict[str, Any]) -> None:
    """The sweeper publishes Errors (items settle_one swallowed: the Lambda succeeds) and
    LeftForNextSweep (README 'When to fan out' says to act on it); no alarm watched either,
    and AWS/Lambda Errors cannot see them."""
    watched = {(str(_resolve(a["Namespace"], "stack")), a["MetricName"]) for a in alarms(template)}
    missing = {("InMail/stack", "Errors"), ("InMail/stack", "LeftForNextSweep")} - watched
    assert not missing, f"published but never alarmed: {sorted(missing)}"


# ---- 5. DynamoDB client timeouts vs the functions' time budgets ----------------------------


def test_transaction_client_uses_the_configured_timeouts() -> None:
    """The TransactWriteItems connection had PynamoDB's default timeouts (connect 15 s, read
    30 s, x4 attempts) instead of the models' 2 s / 5 s: one stuck transaction outlasted the
    API's 25 s Lambda timeout (the client got a 503 instead of TECHNICAL_ISSUE)."""
    from inmail.store.dynamo import DynamoStore
    from inmail.store.models import ThreadModel

    store = DynamoStore(Settings())
    tx = store.transaction_client().meta.config
    model = ThreadModel._get_connection().connection.client.meta.config
    assert (tx.connect_timeout, tx.read_timeout) == (model.connect_timeout, model.read_timeout)

    api_timeout_s = serverless_functions(load_template(TEMPLATE))["ApiFunction"]["Timeout"]
    assert tx.read_timeout < api_timeout_s, f"one transaction attempt may wait {tx.read_timeout}s > {api_timeout_s}s"


# ---- 6. samconfig prod ------------------------------------------------------------------------


def _overrides(env: str) -> dict[str, str]:
    raw = tomllib.loads(SAMCONFIG.read_text())[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in raw.split())


def test_prod_sets_its_own_cors_origins(template: dict[str, Any]) -> None:
    """Prod set no CorsAllowedOrigins, so it deployed with the template's default
    http://localhost:3000: any page on a developer's localhost was allowed. The default is
    now none (CORS off); dev sets localhost explicitly."""
    origins = _overrides("prod").get("CorsAllowedOrigins", template["Parameters"]["CorsAllowedOrigins"]["Default"])
    assert "localhost" not in origins, f"prod CorsAllowedOrigins = {origins}"


# ---- 7. Dead-letter alarm ------------------------------------------------------------------


def test_dead_letter_alarm_fires_on_each_new_failure(template: dict[str, Any]) -> None:
    """It alarmed on messages *visible* in a queue nothing drains and that keeps them 14 days:
    after the first message it stayed in ALARM, so later failed sweeps notified nobody."""
    dlq = next(
        a
        for a in alarms(template)
        if a["Namespace"] == "AWS/SQS" and a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == "SweeperDeadLetterQueue"
    )
    assert dlq["MetricName"] == "NumberOfMessagesSent" and dlq["Statistic"] == "Sum", (
        f"{dlq['MetricName']}/{dlq['Statistic']}: sticky while the queue is not drained"
    )
