"""The query parameters each route takes, checked in one place for every route: a
misspelt or unknown parameter (`?qq=saga`, `?srot=facts`) is a 400 naming it and the
closest one the route takes, where it was silently ignored and the answer looked like an
empty or default one.

A route takes the parameters FastAPI reads from its signature and those its
`openapi_extra` declares (`takes(...)`, for a route that reads the query string
itself); a route whose parameters are open-ended (a named query's, given by name)
says so with `takes(..., more=...)` and checks them itself."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from kg.query.queries import unknown_parameters

MORE = "x-more-parameters"  # openapi_extra key: what else the route takes, in words


def takes(*names: str, more: str | None = None) -> dict:
    """The `openapi_extra` of a route that reads `names` from the query string itself:
    they are documented and accepted; `more` says which others it takes (then any)."""
    extra: dict = {"parameters": [{"name": n, "in": "query", "required": False,
                                   "schema": {"type": "string"}} for n in names]}
    if more:
        extra[MORE] = more
    return extra


def known(route: APIRoute) -> frozenset[str] | None:
    """The query parameters `route` takes, or None when they are open-ended."""
    extra = route.openapi_extra or {}
    if extra.get(MORE):
        return None
    names = _signature(route.dependant)
    names |= {p["name"] for p in extra.get("parameters", []) if p.get("in") == "query"}
    return frozenset(names)


def _signature(dependant: Dependant) -> set[str]:
    """The query parameters a route's signature and its dependencies declare."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _signature(sub)
    return names


async def check_parameters(request: Request) -> None:
    """A ParameterError for a query parameter the matched route does not take (every
    route depends on this: see create_app)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names = known(route)
    if names is None:
        return
    unknown = [n for n in dict.fromkeys(request.query_params) if n not in names]
    if not unknown:
        return
    raise unknown_parameters(request.url.path, unknown, sorted(names))


__all__ = ["check_parameters", "known", "takes"]
