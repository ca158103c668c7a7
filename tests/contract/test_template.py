"""template.yaml, checked offline: `sam validate` (plain and --lint), cfn-lint on the SAM
template and on its offline transform (aws-sam-translator), assertions on what the transform
creates (schedule, JWT authorizer, least-privilege IAM), the tables against the PynamoDB
models, and a broken copy of the template failing the same checks.

Nothing here reaches AWS: credentials are dummies and every AWS endpoint points at a closed
local port, so an accidental call fails instead of leaving the machine.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.config import ManualArgs
from pynamodb.models import Model
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from inmail.config import Settings
from inmail.store.models import ALL_MODELS, TABLE_SETTINGS, CounterModel

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TOOLS = ROOT / ".venv-tools"
SAM = TOOLS / "bin" / "sam"
LAMBDA_PYTHON = TOOLS / "lambda" / "bin" / "python"
REGION = "us-east-1"
# A guard against a hung tool, not a speed limit (`sam validate` takes ~10 s, over 30 s on
# a busy box).
TOOL_SECONDS = 600
DEAD_ENDPOINT = "http://127.0.0.1:9"  # discard port: nothing listens, any AWS call fails fast

OFFLINE_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ENDPOINT_URL": DEAD_ENDPOINT,
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAM_CLI_TELEMETRY": "0",
    "SAM_CLI_CONTAINER_CONNECTION_TIMEOUT": "1",
}

# Transformed output: SAM resolves parameter references in CorsConfiguration to their values,
# so the CorsAllowedOrigins parameter looks unused afterwards.
TRANSFORMED_IGNORED_RULES = ("W2001",)

# Every DynamoDB action a function may hold; TransactWriteItems is authorized per item action.
DYNAMODB_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
}
ALLOWED_MANAGED_POLICIES = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


# ---- running the checks -------------------------------------------------------------------


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAM_"))}
    env.update(OFFLINE_ENV)
    return env


def require_tools() -> None:
    if not SAM.exists() or not LAMBDA_PYTHON.exists():
        pytest.fail(f"{TOOLS.name}/ is missing or incomplete: run `make tools` (make test does)")


def load_template(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def sam_validate(path: Path, *, lint: bool) -> subprocess.CompletedProcess[str]:
    args = [str(SAM), "validate", "--template-file", str(path), "--region", REGION]
    if lint:
        args.append("--lint")
    return subprocess.run(
        args, capture_output=True, text=True, env=offline_env(), cwd=path.parent, timeout=TOOL_SECONDS
    )


def cfn_lint(path: Path, ignore: tuple[str, ...] = ()) -> list[str]:
    """Errors and warnings (informational findings do not fail the build)."""
    matches = lint_file(path, config=ManualArgs(regions=[REGION], ignore_checks=list(ignore)))
    return [f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})" for m in matches if m.rule.id[0] in "EW"]


class ManagedPolicyStub:
    """samtranslator asks IAM for managed policy ARNs by name; offline, there are none."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudFormation that AWS::Serverless-2016-10-31 expands the template into, as
    `sam package` would see it (a local CodeUri becomes an S3 location first)."""
    fragment = copy.deepcopy(dict(template))
    function_globals = fragment.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://offline-bucket/functions.zip"
    for resource in fragment.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://offline-bucket/functions.zip"
    saved = {k: os.environ.get(k) for k in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    try:
        return transform(fragment, {}, ManagedPolicyStub())  # type: ignore[arg-type]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Report:
    """What every check said about one template."""

    path: Path
    template: dict[str, Any]
    sam_validate: subprocess.CompletedProcess[str]
    sam_validate_lint: subprocess.CompletedProcess[str]
    cfn_lint: list[str]
    transformed: dict[str, Any] | None = None
    transform_error: str | None = None
    cfn_lint_transformed: list[str] = field(default_factory=list)
    policy_violations: list[str] = field(default_factory=list)

    def failures(self) -> dict[str, str]:
        failed: dict[str, str] = {}
        if self.sam_validate.returncode != 0:
            failed["sam validate"] = self.sam_validate.stdout + self.sam_validate.stderr
        if self.sam_validate_lint.returncode != 0:
            failed["sam validate --lint"] = self.sam_validate_lint.stdout + self.sam_validate_lint.stderr
        if self.cfn_lint:
            failed["cfn-lint"] = "\n".join(self.cfn_lint)
        if self.transform_error:
            failed["transform"] = self.transform_error
        if self.cfn_lint_transformed:
            failed["cfn-lint transformed"] = "\n".join(self.cfn_lint_transformed)
        if self.policy_violations:
            failed["iam"] = "\n".join(self.policy_violations)
        return failed


def run_checks(path: Path, workdir: Path) -> Report:
    """Every offline check on one template; the two `sam validate` runs go in parallel."""
    require_tools()
    template = load_template(path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        plain = pool.submit(sam_validate, path, lint=False)
        linted = pool.submit(sam_validate, path, lint=True)
        lint_findings = cfn_lint(path)
        transformed: dict[str, Any] | None = None
        error: str | None = None
        try:
            transformed = sam_transform(template)
        except InvalidDocumentException as exc:
            error = "; ".join(str(e) for e in exc.causes)
        report = Report(path, template, plain.result(), linted.result(), lint_findings, transformed, error)
    if transformed is not None:
        out = workdir / f"{path.stem}.transformed.json"
        out.write_text(json.dumps(transformed, indent=1), encoding="utf-8")
        report.cfn_lint_transformed = cfn_lint(out, TRANSFORMED_IGNORED_RULES)
        report.policy_violations = policy_violations(transformed)
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run_checks(TEMPLATE, tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="module")
def transformed(report: Report) -> dict[str, Any]:
    assert report.transformed is not None, report.transform_error
    return report.transformed


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


# ---- helpers on templates -------------------------------------------------------------------


def resources_of(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == type_}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iter_statements(transformed: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role logical id, statement) for every inline statement of every IAM role or policy."""
    for logical_id, res in transformed["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in as_list(document.get("Statement", [])):
                yield logical_id, statement


def table_arn_target(resource: Any, tables: Mapping[str, dict[str, Any]]) -> tuple[str, str | None] | None:
    """(table logical id, index name or None) when `resource` is a table or index ARN of this
    template, else None."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        target = target.split(".") if isinstance(target, str) else target
        if len(target) == 2 and target[0] in tables and target[1] == "Arn":
            return target[0], None
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/([\w.-]+)", resource["Fn::Sub"])
        if found and found.group(1) in tables:
            table, index = found.group(1), found.group(2)
            gsis = {g["IndexName"] for g in tables[table]["Properties"].get("GlobalSecondaryIndexes", [])}
            return (table, index) if index in gsis else None
    return None


def statement_violations(where: str, statement: Mapping[str, Any], tables: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if "NotAction" in statement or "NotResource" in statement:
        found.append(f"{where}: NotAction/NotResource")
    actions = as_list(statement.get("Action", []))
    for action in actions:
        if not isinstance(action, str) or action == "*" or action.endswith(":*"):
            found.append(f"{where}: wildcard action {action!r}")
        elif action.startswith("dynamodb:") and action not in DYNAMODB_ACTIONS:
            found.append(f"{where}: DynamoDB action not used by the code: {action}")
    on_dynamodb = any(isinstance(a, str) and a.startswith("dynamodb:") for a in actions)
    for resource in as_list(statement.get("Resource", [])):
        if isinstance(resource, str) and "*" in resource:
            found.append(f"{where}: wildcard resource {resource!r}")
        elif on_dynamodb and table_arn_target(resource, tables) is None:
            found.append(f"{where}: DynamoDB access outside the stack's tables: {resource!r}")
    return found


def policy_violations(transformed: Mapping[str, Any]) -> list[str]:
    """No `*` action or resource anywhere; DynamoDB actions only on this stack's table and
    index ARNs; no managed policy beyond basic logging."""
    tables = resources_of(transformed, "AWS::DynamoDB::Table")
    found: list[str] = []
    for role, statement in iter_statements(transformed):
        found += statement_violations(f"{role} {statement.get('Sid', '')}".strip(), statement, tables)
    for logical_id, res in resources_of(transformed, "AWS::IAM::Role").items():
        for arn in res["Properties"].get("ManagedPolicyArns", []):
            if arn not in ALLOWED_MANAGED_POLICIES:
                found.append(f"{logical_id}: managed policy {arn!r}")
    return found


def function_grants(transformed: Mapping[str, Any], function: str) -> dict[str, set[tuple[str, str | None]]]:
    """action -> {(table, index)} the function's execution role allows."""
    tables = resources_of(transformed, "AWS::DynamoDB::Table")
    role_ref = transformed["Resources"][function]["Properties"]["Role"]
    role = role_ref["Fn::GetAtt"][0]
    grants: dict[str, set[tuple[str, str | None]]] = {}
    for logical_id, statement in iter_statements(transformed):
        if logical_id != role or statement.get("Effect") != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if not action.startswith("dynamodb:"):
                continue
            for resource in as_list(statement["Resource"]):
                target = table_arn_target(resource, tables)
                assert target is not None, resource
                grants.setdefault(action, set()).add(target)
    return grants


def serverless_functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's properties with the Function Globals merged in (shallow, plus the
    environment variables, which is how SAM merges them)."""
    defaults = template.get("Globals", {}).get("Function", {})
    merged: dict[str, dict[str, Any]] = {}
    for name, res in resources_of(template, "AWS::Serverless::Function").items():
        props = {**defaults, **res.get("Properties", {})}
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **res.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        props["Environment"] = {"Variables": variables}
        merged[name] = props
    return merged


# ---- the checks pass on template.yaml --------------------------------------------------------


def test_sam_validate(report: Report) -> None:
    result = report.sam_validate
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_sam_validate_lint(report: Report) -> None:
    result = report.sam_validate_lint
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_cfn_lint(report: Report) -> None:
    assert report.cfn_lint == []


def test_transform_and_cfn_lint_transformed(report: Report) -> None:
    assert report.transform_error is None
    assert report.cfn_lint_transformed == []


def test_samconfig_environments_validate() -> None:
    """`sam validate --config-file infra/samconfig.toml` from the repository root, per environment."""
    require_tools()

    def validate(env_name: str) -> subprocess.CompletedProcess[str]:
        args = [str(SAM), "validate", "--config-file", "infra/samconfig.toml", "--config-env", env_name]
        return subprocess.run(args, capture_output=True, text=True, env=offline_env(), cwd=ROOT, timeout=TOOL_SECONDS)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for result in pool.map(validate, ("default", "prod")):
            assert result.returncode == 0, result.stdout + result.stderr
            assert str(TEMPLATE) in result.stdout + result.stderr


# ---- what the transform creates --------------------------------------------------------------


def test_sweeper_schedule(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    schedules = resources_of(transformed, "AWS::Scheduler::Schedule")
    assert len(schedules) == 1
    props = next(iter(schedules.values()))["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert "Name" not in props, "let CloudFormation name the schedule (OmitName)"
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"time": "<aws.scheduler.scheduled-time>"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert transformed["Resources"][dlq]["Type"] == "AWS::SQS::Queue"

    sweeper = serverless_functions(template)["SweeperFunction"]
    assert sweeper["Handler"] == "inmail.handlers.sweeper.handler"
    assert sweeper["ReservedConcurrentExecutions"] == 1
    variables = sweeper["Environment"]["Variables"]
    margin_ms = int(variables.get("SWEEP_SAFETY_MARGIN_MS", Settings().sweep_safety_margin_ms))
    assert margin_ms == 10_000
    assert sweeper["Timeout"] * 1000 > margin_ms, "the sweep needs time left after its safety margin"


def test_http_api_jwt_authorizer_and_routes(transformed: dict[str, Any]) -> None:
    apis = resources_of(transformed, "AWS::ApiGatewayV2::Api")
    assert list(apis) == ["HttpApi"]
    body = apis["HttpApi"]["Properties"]["Body"]
    schemes = body["components"]["securitySchemes"]
    jwt_names = [n for n, s in schemes.items() if s["x-amazon-apigateway-authorizer"]["type"] == "jwt"]
    assert jwt_names == ["JwtAuthorizer"]
    authorizer = schemes["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["jwtConfiguration"] == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}
    assert authorizer["identitySource"] == "$request.header.Authorization"

    graphql = body["paths"]["/graphql"]
    assert set(graphql) == {"get", "post"}
    assert graphql["post"]["security"] == [{"JwtAuthorizer": []}]
    assert graphql["get"]["security"] == [{"NONE": []}]  # the GraphiQL page only
    for route in graphql.values():
        integration = route["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0"
        # The published alias, so a SnapStart snapshot (ApiSnapStart) serves the routes.
        assert "${ApiFunctionAliaslive}" in integration["uri"]["Fn::Sub"]
    # The playground's files: GET only, no authorizer (the app serves a fixed list, nothing else).
    assets = body["paths"]["/graphql/assets/{asset}"]
    assert set(assets) == {"get"} and assets["get"]["security"] == [{"NONE": []}]
    assert "${ApiFunctionAliaslive}" in assets["get"]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    assert set(body["paths"]) == {"/graphql", "/graphql/assets/{asset}"}
    assert "x-amazon-apigateway-cors" in body

    stage = next(iter(resources_of(transformed, "AWS::ApiGatewayV2::Stage").values()))["Properties"]
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"]


def test_api_snapstart_is_a_parameter_off_by_default(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    parameter = template["Parameters"]["ApiSnapStart"]
    assert parameter["Default"] == "None" and set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    function = resources_of(transformed, "AWS::Lambda::Function")["ApiFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": {"Ref": "ApiSnapStart"}}
    aliases = resources_of(transformed, "AWS::Lambda::Alias")
    assert [a["Properties"]["Name"] for a in aliases.values()] == ["live"]


def test_iam_has_no_wildcards_and_only_table_arns(report: Report, transformed: dict[str, Any]) -> None:
    assert report.policy_violations == []
    statements = list(iter_statements(transformed))
    assert any(a.startswith("dynamodb:") for _, s in statements for a in as_list(s["Action"]))


def test_iam_least_privilege_per_function(transformed: dict[str, Any]) -> None:
    """Exactly the calls functions/inmail/store/dynamo.py makes: GetItem (_get), BatchGetItem
    (a batch's candidates and threads; the listings' threads), PutItem (save / TransactWrite
    put), UpdateItem (counters, the report's among them; the sweeper's claim on a thread),
    DeleteItem (templates and their name claims), ConditionCheckItem (version expects), Query
    (the listings' keys-only indexes, the report and a contract's templates on the API, the
    sparse `due` index on the sweeper). No Scan: the recount is an operator's tool. The
    sweeper touches neither templates nor batches; the fan-out worker settles what a sweep
    leased: no claim and no query."""
    tables = ("ContractsTable", "SeatsTable", "CandidatesTable", "ThreadsTable", "CountersTable")
    sending = ("TemplatesTable", "BatchesTable")
    listing_indexes = {
        ("ThreadsTable", "by-recruiter-keys"),
        ("ThreadsTable", "by-contract-keys"),
        ("ThreadsTable", "inbox-keys"),
        ("ThreadsTable", "awaiting-reply-keys"),
        ("LedgerTable", "by-contract"),
        ("LedgerTable", "by-recruiter"),
    }
    report = {("ReportTable", None), ("ReportTable", "by-recruiter"), ("SeatsTable", "by-contract")}
    api = function_grants(transformed, "ApiFunction")
    assert api == {
        "dynamodb:GetItem": {(t, None) for t in (*tables, *sending)},
        "dynamodb:BatchGetItem": {("CandidatesTable", None), ("ThreadsTable", None)},
        "dynamodb:PutItem": {(t, None) for t in ("ContractsTable", "SeatsTable", "CandidatesTable", *sending)}
        | {("ThreadsTable", None), ("LedgerTable", None)},
        "dynamodb:UpdateItem": {("CountersTable", None), ("ReportTable", None)},
        "dynamodb:DeleteItem": {("TemplatesTable", None)},
        "dynamodb:ConditionCheckItem": {(t, None) for t in ("ContractsTable", "SeatsTable", "CandidatesTable")},
        "dynamodb:Query": listing_indexes | report | {("TemplatesTable", None)},
    }
    settling = {
        "dynamodb:GetItem": {(t, None) for t in tables},
        "dynamodb:PutItem": {("ThreadsTable", None), ("LedgerTable", None)},
        "dynamodb:UpdateItem": {("CountersTable", None), ("ReportTable", None)},
        # A delivery is conditioned on the contract, seat and candidate it was decided on.
        "dynamodb:ConditionCheckItem": {(t, None) for t in ("ContractsTable", "SeatsTable", "CandidatesTable")},
    }
    sweeper = function_grants(transformed, "SweeperFunction")
    assert sweeper == {
        **settling,
        "dynamodb:UpdateItem": {("CountersTable", None), ("ReportTable", None), ("ThreadsTable", None)},
        "dynamodb:Query": {("ThreadsTable", "due")},
    }
    assert function_grants(transformed, "SweepWorkerFunction") == settling


def test_alarms(template: dict[str, Any]) -> None:
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()
    watched = {
        (
            json.dumps(a["Properties"]["Namespace"]),
            a["Properties"]["MetricName"],
            json.dumps(a["Properties"].get("Dimensions"), sort_keys=True),
        )
        for a in alarms
    }
    for function in ("ApiFunction", "SweeperFunction", "SweepWorkerFunction"):
        dims = json.dumps([{"Name": "FunctionName", "Value": {"Ref": function}}], sort_keys=True)
        assert ('"AWS/Lambda"', "Errors", dims) in watched
        assert ('"AWS/Lambda"', "Throttles", dims) in watched
    queues = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a["Properties"]
        for a in alarms
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert set(queues) == {"SweeperDeadLetterQueue", "FanOutDeadLetterQueue", "FanOutQueue"}
    dlq = queues["SweeperDeadLetterQueue"]
    assert dlq["MetricName"] == "NumberOfMessagesSent" and dlq["Threshold"] == 1
    # Hand-offs reach their dead-letter queue by redrive, which NumberOfMessagesSent misses.
    fan_out_dlq = queues["FanOutDeadLetterQueue"]
    assert fan_out_dlq["MetricName"] == "ApproximateNumberOfMessagesVisible" and fan_out_dlq["Threshold"] == 1
    # Workers that fall behind show as old messages before the leases (15 min) run out.
    backlog = queues["FanOutQueue"]
    assert backlog["MetricName"] == "ApproximateAgeOfOldestMessage" and backlog["Threshold"] < 15 * 60
    lag = [a["Properties"] for a in alarms if a["Properties"]["MetricName"] == "SweepLag"]
    assert len(lag) == 1
    # The names the sweeper publishes through Powertools (observability.py's Metrics), in
    # the namespace the functions' environment gives it.
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert lag[0]["Namespace"] == namespace == {"Fn::Sub": "InMail/${AWS::StackName}"}
    assert lag[0]["Dimensions"] == [{"Name": "service", "Value": "inmail"}]
    assert lag[0]["Threshold"] == 300 and lag[0]["ComparisonOperator"] == "GreaterThanThreshold"
    # The report's counters ride in every commit: their throttling (table or index) alarms.
    report_dims = [{"Name": "TableName", "Value": {"Ref": "ReportTable"}}]
    index_dims = [*report_dims, {"Name": "GlobalSecondaryIndexName", "Value": "by-recruiter"}]
    for dims in (report_dims, index_dims):
        assert ('"AWS/DynamoDB"', "WriteThrottleEvents", json.dumps(dims, sort_keys=True)) in watched


def test_functions_runtime_and_environment(template: dict[str, Any]) -> None:
    """Env var names are the ones config.py reads; each table variable names its table."""
    read: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recording())
    tables = resources_of(template, "AWS::DynamoDB::Table")
    for name, props in serverless_functions(template).items():
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        variables = props["Environment"]["Variables"]
        unknown = {v for v in variables if not v.startswith("POWERTOOLS_")} - read
        assert not unknown, f"{name}: config.py never reads {sorted(unknown)}"
        for model, setting in TABLE_SETTINGS.items():
            ref = variables[setting.upper()]
            assert isinstance(ref, dict) and ref.get("Ref") in tables, (name, model.__name__)
        assert variables["AUTH_MODE"] == "apigw"
        assert variables["DUE_SHARDS"] == {"Ref": "DueShards"}
        assert variables["POWERTOOLS_SERVICE_NAME"] == "inmail"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::Sub": "InMail/${AWS::StackName}"}
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_graphql_url_output(template: dict[str, Any]) -> None:
    value = template["Outputs"]["GraphQLUrl"]["Value"]
    assert value == {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/graphql"}


# ---- tables equal the PynamoDB models ------------------------------------------------------


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    order = {"HASH": 0, "RANGE": 1}
    return sorted(((k["KeyType"], k["AttributeName"]) for k in schema), key=lambda k: order[k[0]])


def model_shape(model: type[Model]) -> dict[str, Any]:
    schema = model._get_schema()
    gsis = {}
    for index in schema["global_secondary_indexes"]:
        projection = dict(index["projection"])
        projection["NonKeyAttributes"] = sorted(projection.get("NonKeyAttributes", []))
        gsis[index["index_name"]] = {"keys": _keys(index["key_schema"]), "projection": projection}
    return {
        "keys": _keys(schema["key_schema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]),
        "gsis": gsis,
        "lsis": sorted(i["index_name"] for i in schema["local_secondary_indexes"]),
        "billing": getattr(model.Meta, "billing_mode", None),
    }


def template_shape(props: Mapping[str, Any]) -> dict[str, Any]:
    gsis = {}
    for index in props.get("GlobalSecondaryIndexes", []):
        projection = dict(index["Projection"])
        projection["NonKeyAttributes"] = sorted(projection.get("NonKeyAttributes", []))
        gsis[index["IndexName"]] = {"keys": _keys(index["KeySchema"]), "projection": projection}
    return {
        "keys": _keys(props["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]),
        "gsis": gsis,
        "lsis": sorted(i["IndexName"] for i in props.get("LocalSecondaryIndexes", [])),
        "billing": props.get("BillingMode"),
    }


def table_of_model(template: Mapping[str, Any]) -> dict[type[Model], str]:
    """Model -> table logical id, through the env var config.py reads for that model."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {model: variables[setting.upper()]["Ref"] for model, setting in TABLE_SETTINGS.items()}


def test_one_table_per_model(template: dict[str, Any]) -> None:
    mapping = table_of_model(template)
    assert set(mapping) == set(ALL_MODELS)
    assert sorted(mapping.values()) == sorted(resources_of(template, "AWS::DynamoDB::Table"))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_table_equals_model(template: dict[str, Any], model: type[Model]) -> None:
    table = resources_of(template, "AWS::DynamoDB::Table")[table_of_model(template)[model]]
    assert template_shape(table["Properties"]) == model_shape(model)


def test_tables_durability(template: dict[str, Any]) -> None:
    for name, table in resources_of(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain", name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}, name
        assert "TableName" not in props, f"{name}: let CloudFormation name it"
    counters = resources_of(template, "AWS::DynamoDB::Table")[table_of_model(template)[CounterModel]]
    ttl = counters["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}
    assert "expires_at" in CounterModel.get_attributes()


# ---- every Handler imports from its CodeUri, with only functions/requirements.txt ----------


def _handlers() -> list[tuple[str, str, str]]:
    functions = serverless_functions(load_template(TEMPLATE))
    return [(name, props["Handler"], props["CodeUri"]) for name, props in sorted(functions.items())]


@pytest.mark.parametrize(("function", "handler", "code_uri"), _handlers(), ids=[h[0] for h in _handlers()])
def test_handler_imports_in_clean_environment(
    template: dict[str, Any], function: str, handler: str, code_uri: str
) -> None:
    """Imported by the `.venv-tools/lambda` interpreter: functions/requirements.txt and nothing
    else. Table names are placeholders and AWS is unreachable: building the handler's
    DynamoStore at import must not call AWS."""
    require_tools()
    module, _, attr = handler.rpartition(".")
    variables = serverless_functions(template)[function]["Environment"]["Variables"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / code_uri),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": DEAD_ENDPOINT,
        "AWS_ENDPOINT_URL_DYNAMODB": DEAD_ENDPOINT,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    parameters = template["Parameters"]
    for key, value in variables.items():
        if isinstance(value, str):
            env[key] = value
        elif isinstance(value, dict) and "Default" in parameters.get(value.get("Ref"), {}):
            env[key] = str(parameters[value["Ref"]]["Default"])  # DUE_SHARDS, FAN_OUT_ABOVE...
        else:
            env[key] = f"placeholder-{key.lower()}"
    env["POWERTOOLS_LOG_LEVEL"] = "INFO"
    code = f"import importlib; h = getattr(importlib.import_module({module!r}), {attr!r}); assert callable(h)"
    result = subprocess.run(
        [str(LAMBDA_PYTHON), "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=TOOL_SECONDS,
    )
    assert result.returncode == 0, result.stderr


def test_time_zones_come_from_the_shipped_tzdata_in_the_lambda_environment() -> None:
    """R70: `tzdata` from functions/requirements.txt gives the zones, with the OS's zone
    files out of reach (PYTHONTZPATH empty), as on a runtime image without them."""
    require_tools()
    code = (
        "from datetime import UTC, datetime; from inmail.domain.send_windows import local_iso; "
        "print(local_iso(datetime(2026, 7, 1, 12, tzinfo=UTC), 'Australia/Lord_Howe'))"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT / "functions"), "PYTHONTZPATH": ""}
    result = subprocess.run([str(LAMBDA_PYTHON), "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-07-01T22:30:00+10:30"


# ---- a broken copy fails -----------------------------------------------------------------


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "template.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_bad_runtime_fails(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, "Runtime: python3.13", "Runtime: python2.7")
    failed = run_checks(broken, tmp_path).failures()
    assert "cfn-lint" in failed and "python2.7" in failed["cfn-lint"]
    assert "sam validate --lint" in failed
    assert "cfn-lint transformed" in failed


def test_unknown_event_property_fails(tmp_path: Path) -> None:
    broken = _broken_copy(
        tmp_path,
        "            ScheduleExpression: rate(1 minute)\n",
        "            ScheduleExpression: rate(1 minute)\n            Frequency: often\n",
    )
    failed = run_checks(broken, tmp_path).failures()
    # cfn-lint (and so `sam validate --lint`) validates no SAM event properties: the
    # translator is what catches this, in `sam validate` and in the offline transform.
    assert "transform" in failed and "Frequency" in failed["transform"]
    assert "sam validate" in failed


def test_wildcard_policy_fails(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, "Action: dynamodb:UpdateItem", 'Action: "*"')
    failed = run_checks(broken, tmp_path).failures()
    assert "iam" in failed and "wildcard action '*'" in failed["iam"]


# ---- the IAM policies cover every call the code makes ----------------------------------------


TRANSACTION_ITEM_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Delete": "DeleteItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
}


class CallRecorder:
    """(action, table, index) of every DynamoDB request PynamoDB sends, transaction items
    included (IAM authorizes TransactWriteItems per item action)."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str, str | None]] = set()

    def record(self, operation: str, kwargs: Mapping[str, Any]) -> None:
        if operation == "TransactWriteItems":
            for item in kwargs["TransactItems"]:
                for key, request in item.items():
                    self.calls.add((f"dynamodb:{TRANSACTION_ITEM_ACTIONS.get(key, key)}", request["TableName"], None))
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            self.calls.update((f"dynamodb:{operation}", table, None) for table in kwargs["RequestItems"])
        else:
            self.calls.add((f"dynamodb:{operation}", kwargs["TableName"], kwargs.get("IndexName")))

    def take(self) -> set[tuple[str, str, str | None]]:
        calls, self.calls = self.calls, set()
        return calls


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
    from pynamodb.connection.base import Connection

    recorder = CallRecorder()
    dispatch = Connection.dispatch

    def recording(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        recorder.record(operation_name, operation_kwargs)
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    return recorder


def test_policies_cover_every_call(
    api: Any, clock: Any, settings: Settings, recorder: CallRecorder, transformed: dict[str, Any], template: Any
) -> None:
    """Drive the API through its use cases and the sweeper through each outcome on moto; every
    DynamoDB request must be allowed by that function's role in the transformed template."""
    from datetime import timedelta

    from inmail.services.sweep import run_sweep

    logical_ids = table_of_model(template)
    table_ids = {getattr(settings, setting): logical_ids[model] for model, setting in TABLE_SETTINGS.items()}

    api.contract("c1", credits=10)
    recruiter = api.seat("r1", "c1", admin=True, daily=5)
    candidate = api.candidate("k1")
    api.candidate("k2")
    kept = recruiter.mutate(
        "SendInMail", candidateId="k1", subject="A role", body="Hello", followUp={"body": "ping", "delayDays": 3}
    )
    gone = recruiter.mutate(
        "SendInMail", candidateId="k2", subject="A role", body="Hello", followUp={"body": "ping", "delayDays": 3}
    )
    assert not kept["userErrors"] and not gone["userErrors"], (kept, gone)
    for name in ("SentThreads", "AwaitingReply", "CreditLedger", "Contract", "Viewer"):
        recruiter.data(name)
    recruiter.data("SentThreads", allRecruiters=True)
    days = {"from": "2026-11-01", "to": "2026-11-30"}
    assert recruiter.data("InMailReport", **days)["inMailReport"]["total"]["inMailsSent"] == 2
    plain = api.seat("r2", "c1")
    assert [r["recruiterId"] for r in plain.data("InMailReport", **days)["inMailReport"]["rows"]] == ["r2"]
    candidate.data("Inbox")
    # R90-R92: a template saved, renamed, used for a keyed batch (and the batch retried:
    # its threads read back), listed, deleted.
    saved = recruiter.mutate("SaveTemplate", name="Intro", subject="Hi {firstName|there}", body="A role")
    template_id = saved["template"]["id"]
    recruiter.mutate("SaveTemplate", id=template_id, name="Welcome", subject="Hi", body="A role")
    batch = {"candidateIds": ["k1", "k2"], "templateId": template_id, "idempotencyKey": "b-1"}
    for _ in range(2):
        assert not recruiter.mutate("SendInMails", **batch)["userErrors"]
    recruiter.data("Templates")
    assert not recruiter.mutate("DeleteTemplate", id=template_id)["userErrors"]
    api.operator.mutate("UpsertCandidate", candidateId="k2", name="Candidate k2", deleted=True)
    api_calls = recorder.take()
    assert {call[0] for call in api_calls} >= {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:Query"}

    report = run_sweep(api.deps, clock.now() + timedelta(days=4), "sweep-1", workers=1)
    assert report.counts[next(o for o in report.counts if o.value == "delivered")] == 1, report.to_dict()
    assert report.refunded_credits == 1, report.to_dict()
    sweeper_calls = recorder.take()

    # The fan-out: a sweep hands a due follow-up off (the sweeper's calls), a worker settles it.
    worker_calls = _fan_out_calls(api, clock, settings, recorder)

    for function, calls in (
        ("ApiFunction", api_calls),
        ("SweeperFunction", sweeper_calls | worker_calls["sweeper"]),
        ("SweepWorkerFunction", worker_calls["worker"]),
    ):
        grants = function_grants(transformed, function)
        used = {(action, table_ids[table], index) for action, table, index in calls}
        missing = {(a, t, i) for a, t, i in used if (t, i) not in grants.get(a, set())}
        assert used, function
        assert not missing, f"{function} makes calls its role does not allow: {sorted(missing, key=str)}"


def _fan_out_calls(api: Any, clock: Any, settings: Settings, recorder: CallRecorder) -> dict[str, set[Any]]:
    from dataclasses import replace
    from datetime import timedelta

    from inmail.handlers.fan_out_batch import settle_batch
    from inmail.services.fan_out import sweep_with_fan_out
    from inmail.store.tables import ensure_work_queue
    from inmail.store.work_queue import SqsWorkQueue

    recruiter = api.as_("r1", "RECRUITER", contract="c1")
    sent = recruiter.mutate(
        "SendInMail", candidateId="k1", subject="Again", body="Hello", followUp={"body": "ping", "delayDays": 3}
    )
    assert not sent["userErrors"], sent
    url = ensure_work_queue(settings, "policy-check")
    queue = SqsWorkQueue.from_settings(replace(settings, fan_out_queue_url=url), api.deps.store.session)
    recorder.take()
    at = clock.now() + timedelta(days=4)
    summary = sweep_with_fan_out(api.deps, queue, at, "sweep-2", keep=0, workers=1)
    assert summary.handed_off == 1, summary.to_dict()
    sweeper = recorder.take()
    response, settled = settle_batch(api.deps, {"Records": queue.receive_all()}, "worker-1", workers=1)
    assert response == {"batchItemFailures": []} and settled.to_dict()["delivered"] == 1, settled.to_dict()
    return {"sweeper": sweeper, "worker": recorder.take()}


def sqs_grants(transformed: Mapping[str, Any], function: str) -> dict[str, set[str]]:
    """sqs action -> the queues (logical ids) the function's execution role allows it on."""
    role = transformed["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    grants: dict[str, set[str]] = {}
    for logical_id, statement in iter_statements(transformed):
        if logical_id != role or statement.get("Effect") != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if action.startswith("sqs:"):
                for resource in as_list(statement["Resource"]):
                    grants.setdefault(action, set()).add(resource["Fn::GetAtt"][0])
    return grants


def test_fan_out_queue_rights(transformed: dict[str, Any]) -> None:
    """The sweeper may only send to the fan-out queue (and its own failed invocations to its
    dead-letter queue); the worker (its event source mapping) only receive and delete from
    the fan-out queue; the API nothing. No managed policy (SAM's SQS event would attach
    AWSLambdaSQSQueueExecutionRole, on every queue): the mapping is declared."""
    assert sqs_grants(transformed, "SweeperFunction") == {"sqs:SendMessage": {"FanOutQueue", "SweeperDeadLetterQueue"}}
    assert sqs_grants(transformed, "SweepWorkerFunction") == {
        action: {"FanOutQueue"} for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    }
    assert sqs_grants(transformed, "ApiFunction") == {}
    mappings = resources_of(transformed, "AWS::Lambda::EventSourceMapping")
    assert [m["Properties"]["FunctionName"] for m in mappings.values()] == [{"Ref": "SweepWorkerFunction"}]
    mapping = next(iter(mappings.values()))["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["FanOutQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "FanOutConcurrency"}}
    queue = transformed["Resources"]["FanOutQueue"]["Properties"]
    worker = transformed["Resources"]["SweepWorkerFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"], "AWS's advice for a Lambda event source"
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FanOutDeadLetterQueue", "Arn"]}
    sweeper_env = transformed["Resources"]["SweeperFunction"]["Properties"]["Environment"]["Variables"]
    assert sweeper_env["FAN_OUT_QUEUE_URL"] == {"Ref": "FanOutQueue"}
