"""CORS on the local stack, by the rules of the deployed HttpApi's CorsConfiguration in
template.yaml (a contract test holds these constants to it). In AWS, API Gateway answers
preflights and adds the headers; locally this does, in front of the same GraphQLHttp.

By default any page served from http://localhost:<port> or http://127.0.0.1:<port> may call
the API (a frontend dev server), and no other origin. `inmail serve --cors-origin` replaces
that list."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..api.messages import HttpResponse

# template.yaml, HttpApi.CorsConfiguration (no AllowCredentials, no ExposeHeaders).
ALLOW_METHODS = ("GET", "POST", "OPTIONS")
ALLOW_HEADERS = ("authorization", "content-type")
MAX_AGE_SECONDS = 600
ALLOW_CREDENTIALS = False

DEFAULT_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")

# "*", "http://*" / "https://*" (API Gateway's wildcards), "scheme://host:*" (any port: the
# local addition), or one exact origin "scheme://host[:port]".
_PATTERN = re.compile(r"\*|https?://\*|https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:(\*|\d{1,5}))?")


def origin_pattern(text: str) -> str:
    """`text` as an origin pattern, or ValueError saying what one looks like."""
    value = text.strip().rstrip("/")
    if not _PATTERN.fullmatch(value):
        raise ValueError(
            f"{text!r} is not an origin: give scheme://host[:port] (e.g. http://localhost:5173), "
            "http://host:* for any port, or *"
        )
    return value.lower()


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...] = DEFAULT_ORIGINS

    @classmethod
    def from_patterns(cls, patterns: Sequence[str] | None) -> CorsPolicy:
        return cls(tuple(origin_pattern(p) for p in patterns) if patterns else DEFAULT_ORIGINS)

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        origin = origin.lower()
        return any(_matches(pattern, origin) for pattern in self.origins)

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        """What API Gateway answers itself: OPTIONS with Origin and Access-Control-Request-Method."""
        return method.upper() == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def preflight(self, headers: Mapping[str, str]) -> HttpResponse:
        """204 with the configured rules for an allowed origin; without any CORS header for
        another (the browser then refuses the request it asked about)."""
        origin = headers.get("origin")
        if not self.allows(origin):
            return HttpResponse(204, {"vary": "origin"}, b"")
        assert origin is not None
        cors = {
            "access-control-allow-origin": origin,
            "access-control-allow-methods": ",".join(ALLOW_METHODS),
            "access-control-allow-headers": ",".join(ALLOW_HEADERS),
            "access-control-max-age": str(MAX_AGE_SECONDS),
            "vary": "origin",
        }
        return HttpResponse(204, cors, b"")

    def decorate(self, headers: Mapping[str, str], response: HttpResponse) -> HttpResponse:
        """The answer to an actual request, with Access-Control-Allow-Origin when the
        request's origin is allowed (the request ran either way, as behind API Gateway)."""
        origin = headers.get("origin")
        if not self.allows(origin):
            return response
        assert origin is not None
        vary = response.headers.get("vary")
        added = {"access-control-allow-origin": origin, "vary": f"{vary}, origin" if vary else "origin"}
        return HttpResponse(response.status, {**response.headers, **added}, response.body)


def _matches(pattern: str, origin: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("://*"):
        return origin.startswith(pattern[:-1]) and len(origin) > len(pattern) - 1
    if pattern.endswith(":*"):
        base = pattern[:-2]
        return origin == base or (origin.startswith(f"{base}:") and origin[len(base) + 1 :].isdigit())
    return origin == pattern
