"""Who sent a request, and to which host: the client key that the worker pool's shares are
counted by, and the Host check against DNS rebinding.

A client is its token when it sends one the service knows (`Authorization: Bearer`), else
its address. Behind a reverse proxy every request comes from the proxy's address, so the
address a trusted proxy reports (RFC 7239 `Forwarded: for=`, or `X-Forwarded-For`) is used
instead, read from the right: the first hop that is not itself a trusted proxy. Headers
from anyone else are ignored, so a client cannot choose its own key."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.query.guard import Policy

_FOR = re.compile(r'(?i)(?:^|[;,\s])for\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)')


def _address(text: str) -> str:
    """A forwarded node as a key: an IP address in normal form (brackets and port
    dropped), else the text as given (an obfuscated name such as `_proxy1`)."""
    node = text.strip().strip('"')
    if node.startswith("["):
        node = node[1:].split("]", 1)[0]
    elif node.count(":") == 1:
        node = node.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(node))
    except ValueError:
        return node


class ClientKeys:
    """The key of a request's client (see the module). `trusted_proxies` are addresses
    or networks (`10.0.0.0/8`); `tokens` maps bearer tokens to names (the update token
    is one when set)."""

    def __init__(self, trusted_proxies: Iterable[str], policy: Policy | None = None,
                 tokens: dict[str, str] | None = None):
        try:
            self.proxies = [ipaddress.ip_network(p.strip(), strict=False)
                            for p in trusted_proxies if p.strip()]
        except ValueError as err:
            raise ValueError(f"not an address or network of a trusted proxy: {err}") from None
        self.tokens = dict(tokens or {})
        if policy is not None and policy.update_token:
            self.tokens[policy.update_token] = policy.token_name

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def _token(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        given = token.strip().encode()
        for known, name in self.tokens.items():
            if hmac.compare_digest(given, known.encode()):
                return name
        return None

    def forwarded(self, peer: str, headers) -> str:
        """The client's address as the proxies report it, or `peer` itself."""
        if not self.proxies or not self._trusted(peer):
            return peer
        hops: list[str] = []
        if "forwarded" in headers:
            for value in headers.getlist("forwarded"):
                hops += [_address(m.group(1)) for m in _FOR.finditer(value)]
        elif "x-forwarded-for" in headers:
            for value in headers.getlist("x-forwarded-for"):
                hops += [_address(h) for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def of(self, request: Request) -> str:
        name = self._token(request) if self.tokens else None
        if name is not None:
            return "token:" + hashlib.sha256(name.encode()).hexdigest()[:16]
        peer = request.client.host if request.client else ""
        return "address:" + self.forwarded(peer, request.headers)


def _host_name(host: str) -> str:
    """The name in a Host header or an allowed-host entry: lower case, port, brackets and
    a final dot dropped."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class HostCheck:
    """ASGI middleware: answer 400 to a request whose Host header names a host not in
    `allowed` (an entry `*.example.org` allows its subdomains). A page of this service
    opened under another name (DNS rebinding) gets nothing."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]):
        self.app = app
        entries = [_host_name(h) for h in allowed if h.strip()]
        self.names = {e for e in entries if not e.startswith("*.")}
        self.suffixes = tuple(e[1:] for e in entries if e.startswith("*."))
        self.any = "*" in self.names

    def allows(self, host: str) -> bool:
        name = _host_name(host)
        return self.any or name in self.names or (bool(self.suffixes)
                                                   and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"),
                        None)
            if host is not None and not self.allows(host):
                await _refuse(send, host)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, host: str) -> None:
    body = json.dumps({"error": "HostNotAllowed",
                       "message": f"this service does not answer to the host {host[:200]!r}; "
                                  "start it with --allowed-host NAME to accept it"}).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
