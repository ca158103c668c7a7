"""The GraphiQL playground on GET /graphql, with every file it loads served by the app
itself under /graphql/assets/: React, GraphiQL and its explorer plugin (vendored from
their npm packages, pinned in playground/package-lock.json: scripts/playground_assets.py)
and the page's own script. Nothing on the page is fetched from anywhere else, and its
Content-Security-Policy lets the browser fetch from nowhere else.

The same code serves it from Lambda and from `inmail serve`; the local stack adds a
PlaygroundExtension (the Local tokens panel). Files are read on first use, never at import:
a cold start that answers an operation reads none of them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .messages import HttpRequest, HttpResponse, error_response

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
ASSETS_DIR = "assets"

CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# The browser may load scripts, styles and make requests to this origin only. GraphiQL's
# fonts and icons are data: URLs inside its CSS; React sets inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*\.(?:js|css)")


@dataclass(frozen=True)
class Asset:
    """One file the page loads, its integrity and a gzip copy made once, when first asked for."""

    name: str
    path: Path

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def integrity(self) -> str:
        return sri(self.data)

    @cached_property
    def version(self) -> str:
        """In the page's URLs, so a changed file is a new URL and the old one may be cached forever."""
        return hashlib.sha256(self.data).hexdigest()[:12]

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.data, compresslevel=6, mtime=0)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.path.suffix]


def sri(data: bytes) -> str:
    """A Subresource Integrity value: the browser refuses a file that does not match it."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


Route = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class PlaygroundExtension:
    """What the local stack adds to the page: scripts that run before the page's own (they
    may register GraphiQL plugins), settings for them in the page's config, and POST routes
    under /graphql/. The Lambda handler builds the playground without one."""

    scripts: tuple[Path, ...] = ()
    config: Mapping[str, object] = field(default_factory=dict)
    routes: Mapping[str, Route] = field(default_factory=dict)


class Playground:
    def __init__(self, extension: PlaygroundExtension | None = None):
        self.extension = extension or PlaygroundExtension()

    @cached_property
    def vendor(self) -> list[Asset]:
        """The vendored files in the order the page loads them (manifest.json's order)."""
        manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
        assets = [Asset(entry["file"], VENDOR / entry["file"]) for entry in manifest["files"]]
        for asset, entry in zip(assets, manifest["files"], strict=True):
            if asset.integrity != entry["integrity"]:  # a file changed without scripts/playground_assets.py
                raise RuntimeError(f"{asset.path} does not match vendor/manifest.json")
        return assets

    @cached_property
    def own(self) -> list[Asset]:
        """The page's own files, the extension's scripts before the page's script."""
        extra = [Asset(path.name, path) for path in self.extension.scripts]
        css, js = (Asset(name, STATIC / name) for name in ("playground.css", "playground.js"))
        return [css, *extra, js]

    @cached_property
    def assets(self) -> dict[str, Asset]:
        return {asset.name: asset for asset in [*self.vendor, *self.own]}

    @property
    def routes(self) -> Mapping[str, Route]:
        return self.extension.routes

    def page(self, request: HttpRequest) -> HttpResponse:
        # Relative URLs, so the page works behind a stage prefix (/prod/graphql) too.
        base = f"{ASSETS_DIR}/" if request.path.endswith("/") else f"graphql/{ASSETS_DIR}/"
        ordered = list(self.assets.values())
        styles = "\n".join(
            f'    <link rel="stylesheet" href="{base}{a.name}?v={a.version}" integrity="{a.integrity}" />'
            for a in ordered
            if a.name.endswith(".css")
        )
        scripts = "\n".join(
            f'    <script src="{base}{a.name}?v={a.version}" integrity="{a.integrity}"></script>'
            for a in ordered
            if a.name.endswith(".js")
        )
        config = {"routesBase": base.removesuffix(f"{ASSETS_DIR}/"), **self.extension.config}
        # `<` escaped: the JSON cannot close its <script> element.
        config_json = json.dumps(config, separators=(",", ":")).replace("<", "\\u003c")
        html = (
            (STATIC / "playground.html")
            .read_text(encoding="utf-8")
            .replace("{{styles}}", styles)
            .replace("{{scripts}}", scripts)
            .replace("{{config}}", config_json)
        )
        return HttpResponse(
            200,
            {
                "content-type": "text/html; charset=utf-8",
                "cache-control": "no-cache",
                "content-security-policy": CONTENT_SECURITY_POLICY,
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
            html.encode(),
        )

    def asset(self, request: HttpRequest, name: str) -> HttpResponse:
        """GET /graphql/assets/<name>: a fixed set of files, nothing else (no paths)."""
        asset = self.assets.get(name) if _NAME.fullmatch(name) else None
        if asset is None:
            return error_response(404, "NOT_FOUND", "Not found. The API is at /graphql.")
        if request.method.upper() not in ("GET", "HEAD"):
            return error_response(405, "METHOD_NOT_ALLOWED", "Assets are read with GET.")
        headers = {
            "content-type": asset.content_type,
            "cache-control": IMMUTABLE if request.query.get("v") == asset.version else "no-cache",
            "x-content-type-options": "nosniff",
            "vary": "accept-encoding",
        }
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            headers, body = {**headers, "content-encoding": "gzip"}, asset.gzipped
        else:
            body = asset.data
        return HttpResponse(200, headers, b"" if request.method.upper() == "HEAD" else body)


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params.strip().startswith("q=") and _zero(q))
    return False


def _zero(q: str) -> bool:
    try:
        return float(q) == 0
    except ValueError:
        return False
