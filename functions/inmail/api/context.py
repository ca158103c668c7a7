"""What a resolver gets: the ports and who is calling, and the one way to run a use case as
that caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

import strawberry

from ..domain.errors import Unauthenticated
from ..domain.model import Principal
from ..services.deps import Deps

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Context:
    deps: Deps
    principal: Principal | None
    request_id: str = "-"

    def caller(self) -> Principal:
        """The verified caller; UNAUTHENTICATED without one (see errors.DomainErrors)."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def call(self, use_case: Callable[Concatenate[Deps, Principal, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a use case as the verified caller. What it refuses reaches the client through
        the field's DomainErrors extension."""
        return use_case(self.deps, self.caller(), *args, **kwargs)


# What resolvers take as `info`: its `context` is a Context.
Info = strawberry.Info[Context, None]
