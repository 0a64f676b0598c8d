"""The dashboard answers only the names it is served under.

A page on another site whose name is made to resolve to 127.0.0.1 (DNS rebinding) runs in the
browser with that site as its origin, so the browser's same-origin rule lets it open the
dashboard's pages and its WebSocket, record WIP-limit changes and press Sync now. What such a
page cannot change is the `Host` header: it carries the attacker's name. `HostGuard` refuses
every HTTP request and WebSocket upgrade whose `Host` is not an allowed name, before Streamlit
sees it. No Streamlit import here: `dashboard/server.py` puts the guard in front of the app.

Allowed names: the loopback names always, the address given to `--host` when it is a name or a
specific address, this machine's host names when it listens on every interface, and the names a
deployment declares (`--allowed-host`, `[dashboard] allowed_hosts`). Ports are not compared: a
reverse proxy in front may use another one. `*.example.org` allows the subdomains, `*` anything.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

ENV_VAR = "FLOWDECK_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def normalize_host_pattern(value: str) -> str | None:
    """A host name, address or `*.`-pattern in the form matching uses; None when it is not one
    (a URL, a path, a port range...)."""
    text = value.strip().lower().rstrip(".")
    if text in ("*",):
        return text
    body = text[2:] if text.startswith("*.") else text
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    if not body:
        return None
    try:
        return (text[:2] if text.startswith("*.") else "") + str(ipaddress.ip_address(body))
    except ValueError:
        pass
    labels = body.split(".")
    if all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels):
        return (text[:2] if text.startswith("*.") else "") + body
    return None


def hosts_for(listen: str, declared: Iterable[str] = ()) -> tuple[str, ...]:
    """The allowed names for a server listening on `listen` plus the `declared` ones."""
    names: list[str] = list(LOOPBACK_NAMES)
    address = listen.strip().strip("[]")
    if address in ANY_ADDRESS:
        # Every interface: the names this machine goes by on its network.
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.append(name)
            try:
                infos = socket.getaddrinfo(name, None)
            except OSError:
                continue
            names.extend(str(info[4][0]) for info in infos)
    else:
        names.append(address)
    names.extend(declared)
    allowed: list[str] = []
    for name in names:
        pattern = normalize_host_pattern(name)
        if pattern is not None and pattern not in allowed:
            allowed.append(pattern)
    return tuple(allowed)


def host_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request's `Host` header names one of the `allowed` patterns."""
    if not header:
        return False
    try:
        parts = urlsplit(f"//{header.strip()}")
        hostname = parts.hostname
        _ = parts.port  # a port that is not a number makes the header invalid
    except ValueError:
        return False
    if hostname is None or parts.username is not None or parts.path or parts.query:
        return False
    hostname = hostname.rstrip(".")
    with contextlib.suppress(ValueError):
        hostname = str(ipaddress.ip_address(hostname))
    for pattern in allowed:
        if pattern == "*" or pattern == hostname:
            return True
        if pattern.startswith("*.") and hostname.endswith(pattern[1:]):
            return True
    return False


def allowed_from_env(environ: MutableMapping[str, str] | None = None) -> tuple[str, ...]:
    """The names `flowdeck dashboard` put in FLOWDECK_ALLOWED_HOSTS; the loopback names when it
    is unset (a dashboard started some other way stays private)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR, "")
    names = [n for n in (p.strip() for p in raw.split(",")) if n]
    return hosts_for("127.0.0.1", names)


class HostGuard:
    """ASGI middleware: 403 for an HTTP request, a refused upgrade for a WebSocket, whenever the
    `Host` header is not an allowed name."""

    def __init__(self, app: Callable[..., Awaitable[None]], allowed: Iterable[str] | None = None):
        self.app = app
        self.allowed = tuple(allowed) if allowed is not None else allowed_from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") in ("http", "websocket"):
            host = None
            for key, value in scope.get("headers") or ():
                if key == b"host":
                    host = value.decode("latin-1")
                    break
            if not host_allowed(host, self.allowed):
                await self._refuse(scope, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the upgrade with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        body = (
            b"This dashboard is not served under this host name. Open it by the address "
            b"`flowdeck dashboard` printed, or add the name with --allowed-host.\n"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
