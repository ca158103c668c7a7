"""The playground as the deployed Lambda serves it (inmail.handlers.api.handler, wired from
template.yaml's environment, on moto): the page and every file it loads come from the
function, within Lambda's response limit; the Local tokens panel and its route exist only in
`inmail serve`, never here."""

from __future__ import annotations

import base64
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_handlers import api, invoke, lambda_settings, load_event  # noqa: F401  (fixtures)

from inmail.api.http import GraphQLHttp
from inmail.api.playground import VENDOR, sri
from inmail.config import AuthMode, Settings
from inmail.local.playground import local_playground
from support import claims_for

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # bytes of the invocation's response payload
MANIFEST = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))


def get(path: str, accept_encoding: str | None = "gzip, deflate, br") -> dict[str, Any]:
    event = load_event("api_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /graphql/assets/{asset}"
    if accept_encoding is not None:
        event["headers"]["accept-encoding"] = accept_encoding
    return event


def body_bytes(response: dict[str, Any]) -> bytes:
    raw = base64.b64decode(response["body"]) if response["isBase64Encoded"] else response["body"].encode()
    if (response.get("headers") or {}).get("content-encoding") == "gzip":
        return gzip.decompress(raw)
    return raw


def page(api: ModuleType) -> tuple[dict[str, str], str]:  # noqa: F811
    status, headers, response = invoke(api, load_event("api_get"))
    assert status == 200
    return headers, response["body"]


def test_the_lambda_page_has_no_local_tokens_panel(api: ModuleType) -> None:  # noqa: F811
    headers, html = page(api)
    config = json.loads(re.search(r'id="playground-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert "localTokens" not in config
    assert "local-tokens" not in html and "Local tokens" not in html
    assert "default-src 'none'" in headers["content-security-policy"]


def test_the_lambda_has_no_local_token_route(api: ModuleType) -> None:  # noqa: F811
    for claims in (None, claims_for("ops", "OPERATOR")):
        event = load_event("api_post")
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/graphql/local-token"
        event["body"] = json.dumps({"sub": "ops", "roles": ["OPERATOR"]})
        if claims is None:
            del event["requestContext"]["authorizer"]
        status, _, response = invoke(api, event)
        assert status == 404, response
        assert json.loads(response["body"])["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    status, _, _ = invoke(api, get("/graphql/assets/local-tokens.js"))
    assert status == 404


def test_the_page_loads_only_files_the_function_serves(api: ModuleType) -> None:  # noqa: F811
    """Every <script> and stylesheet of the page is a relative URL under graphql/assets/ with
    its integrity; each one is served, and is the file the integrity names."""
    _, html = page(api)
    assert "https://" not in html and "http://" not in html and "//" not in html.replace("<!--", "")
    tags = re.findall(r'(?:src|href)="(graphql/assets/[^"?]+)\?v=\w+" integrity="([^"]+)"', html)
    vendored = {entry["file"] for entry in MANIFEST["files"]}
    assert vendored <= {url.rsplit("/", 1)[1] for url, _ in tags}
    for url, integrity in tags:
        status, headers, response = invoke(api, get(f"/{url}"))
        assert status == 200, url
        assert sri(body_bytes(response)) == integrity, url
        assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("entry", MANIFEST["files"], ids=lambda e: e["file"])
def test_each_vendored_file_fits_a_lambda_response_with_or_without_gzip(
    api: ModuleType,  # noqa: F811
    entry: dict[str, str],
) -> None:
    for encoding in ("gzip", None):
        status, headers, response = invoke(api, get(f"/graphql/assets/{entry['file']}", encoding))
        assert status == 200
        assert (headers.get("content-encoding") == "gzip") is (encoding == "gzip")
        assert response["isBase64Encoded"] is (encoding == "gzip")
        assert body_bytes(response) == (VENDOR / entry["file"]).read_bytes()
        assert len(json.dumps(response).encode()) < LAMBDA_RESPONSE_LIMIT


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/assets/manifest.json",
        "/graphql/assets/licenses/react.txt",
        "/graphql/assets/../http.py",
        "/graphql/assets/%2e%2e%2fhttp.py",
        "/graphql/assets/playground.html",
        "/graphql/assets/",
        "/graphql/other",
    ],
)
def test_nothing_but_the_page_files_is_served(api: ModuleType, path: str) -> None:  # noqa: F811
    status, _, response = invoke(api, get(path))
    assert status == 404, path
    assert json.loads(response["body"])["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_playground_extension_is_refused_outside_the_local_stack(tmp_path: Path, dynamo_deps: Any) -> None:
    """The Local tokens panel cannot be wired into the AWS mode by mistake."""
    extension = local_playground(tmp_path / "jwt-secret")
    with pytest.raises(ValueError, match="local stack"):
        GraphQLHttp(dynamo_deps, Settings(auth_mode=AuthMode.APIGW), extension=extension)


def test_the_lambda_never_imports_the_local_stack() -> None:
    """The Local tokens code is not even loaded where the Lambda runs (it ships in the zip
    with the rest of functions/, unused)."""
    code = "import sys, inmail.handlers.api\nprint(' '.join(sorted(sys.modules)))"
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "PATH": "/usr/bin:/bin",
    }
    loaded = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "inmail.api.playground" in loaded
    assert not [m for m in loaded if m.startswith("inmail.local")]
