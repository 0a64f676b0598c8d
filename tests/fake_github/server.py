"""A fake GitHub on 127.0.0.1 (a free port), spoken to over real HTTP by the unmodified PyGithub.

Serves the REST API at `/` and, like GitHub Enterprise Server, at `/api/v3/`; GraphQL at
`/graphql` and `/api/graphql`. Every answer carries GitHub's rate-limit headers. Switches:

- `fail_next(kind, times=1, ...)`: the next requests fail as GitHub does: `"rate_limit"` (403,
  `X-RateLimit-Remaining: 0` and a reset time), `"secondary"` (429 with `Retry-After`; give
  `retry_after=None` for none), `"secondary_403"` (403 with `Retry-After`),
  `"graphql_rate_limited"` (200 with a `RATE_LIMITED` error; `"graphql_rate_limited_403"` the
  same with status 403), `"bad_gateway"` (502), `"slow"`
  (answers after `delay` seconds), `"echo_headers"` (422 whose message repeats the request's
  headers and the bare Authorization value, as some proxies and servers do), `"not_json"` (200
  with an HTML page, as a captive portal or a misconfigured proxy answers), `"hostile_message"`
  (422 whose message holds terminal escape sequences). `after=k` lets k
  requests through first (a sync that fails after k pages).
- `token`: the only token accepted (anything else: 401 Bad credentials).
- `requests`: every request served, as (method, path); `graphql_queries` and
  `graphql_variables` what each GraphQL request sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.fake_github import rest_api
from tests.fake_github.graphql_api import GraphqlApi
from tests.fake_github.world import FakeRepo

TOKEN = "ghp_fake_token_for_tests_only"


class FakeGithub:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self.graphql_queries: list[str] = []
        self.graphql_variables: list[dict[str, Any]] = []
        self.invalid_queries: list[tuple[str, list[str]]] = []
        self.fake_errors: list[str] = []
        self.failures: list[dict[str, Any]] = []
        self.remaining = 5000
        self.lock = threading.Lock()
        self.graphql = GraphqlApi(self)
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeGithub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGithub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- world -----------------------------------------------------------------------------------
    def add_repo(self, repo: FakeRepo) -> FakeRepo:
        self.repos[repo.full_name.lower()] = repo
        return repo

    def fail_next(self, kind: str, times: int = 1, after: int = 0, **options: Any) -> None:
        for _ in range(after):
            self.failures.append({"kind": "pass"})  # answered normally
        for _ in range(times):
            self.failures.append({"kind": kind, **options})

    def reset_counts(self) -> None:
        self.requests.clear()
        self.graphql_queries.clear()
        self.graphql_variables.clear()

    def rate_headers(self, resource: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Used": str(5000 - self.remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": resource,
        }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a client that timed out closed its socket: nothing to report
        return None


def _handler(fake: FakeGithub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            content_type = "application/json; charset=utf-8"
            if isinstance(body, bytes):
                content_type = "text/html"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            graphql = path in ("/graphql", "/api/graphql")
            prefix = "/api/v3" if path.startswith("/api/") else ""
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with fake.lock:
                fake.requests.append((method, path))
                fake.remaining = max(fake.remaining - 1, 0)
                failure = fake.failures.pop(0) if fake.failures else None
            resource = "graphql" if graphql else "core"
            headers = fake.rate_headers(resource)
            if failure is not None and self._fail(failure, headers, graphql):
                return
            auth = self.headers.get("Authorization", "")
            if auth not in (f"token {fake.token}", f"Bearer {fake.token}"):
                self._send(
                    401,
                    {
                        "message": "Bad credentials",
                        "documentation_url": "https://docs.github.com/rest",
                        "status": "401",
                    },
                    headers,
                )
                return
            base = f"http://{self.headers.get('Host')}{prefix}"
            if graphql and method == "POST":
                request = json.loads(body or b"{}")
                with fake.lock:
                    fake.graphql_queries.append(request.get("query", ""))
                    fake.graphql_variables.append(request.get("variables") or {})
                status, payload = fake.graphql.answer(request)
                self._send(status, payload, headers)
                return
            if method != "GET":
                self._send(404, {"message": "Not Found"}, headers)
                return
            status, payload, extra = rest_api.answer(
                fake, base, path.removeprefix(prefix), parts.query
            )
            self._send(status, payload, {**headers, **extra})

        def _fail(self, failure: dict[str, Any], headers: dict[str, str], graphql: bool) -> bool:
            kind = failure["kind"]
            reset = str(int(time.time() + failure.get("reset_in", 0)))
            if kind == "rate_limit":
                headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
                self._send(
                    403,
                    {
                        "message": "API rate limit exceeded for user ID 1.",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
                    },
                    headers,
                )
            elif kind == "secondary":
                retry_after = failure.get("retry_after", 1)
                if retry_after is not None:
                    headers["Retry-After"] = str(retry_after)
                self._send(
                    429,
                    {
                        "message": "You have exceeded a secondary rate limit. Please wait a few "
                        "minutes before you try again.",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
                    },
                    headers,
                )
            elif kind in ("graphql_rate_limited", "graphql_rate_limited_403") and graphql:
                # GitHub has answered this both with 200 and with 403
                headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
                self._send(
                    403 if kind.endswith("403") else 200,
                    {
                        "errors": [
                            {
                                "type": "RATE_LIMITED",
                                "code": "graphql_rate_limit",
                                "message": "API rate limit already exceeded for user ID 1.",
                            }
                        ]
                    },
                    headers,
                )
            elif kind == "secondary_403":
                headers["Retry-After"] = str(failure.get("retry_after", 1))
                self._send(
                    403,
                    {
                        "message": "You have exceeded a secondary rate limit. Please wait a few "
                        "minutes before you try again.",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits",
                    },
                    headers,
                )
            elif kind == "slow":
                time.sleep(failure.get("delay", 2))  # the client gives up first, then retries
                return False
            elif kind == "echo_headers":
                auth = self.headers.get("Authorization", "")
                self._send(
                    422,
                    {
                        "message": f"Validation Failed for request with headers "
                        f"{dict(self.headers.items())!r}; credential {auth.split(' ')[-1]}",
                    },
                    headers,
                )
            elif kind == "hostile_message":
                # a message carrying terminal escapes: set the window title, clear the screen
                self._send(422, {"message": "\x1b]0;pwned\x07\x1b[2JValidation Failed"}, headers)
            elif kind == "not_json":
                self._send(200, b"<html><body>Sign in to the guest network</body></html>", headers)
            elif kind == "bad_gateway":
                self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", headers)
            else:
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

    return Handler
