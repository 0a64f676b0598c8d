"""The PyGithub client of a source, its bounded rate-limit waits, and GitHub failures as one line.

Waiting is bounded by the source's `max_wait`: a 403/429 rate limit whose reset or `Retry-After`
lies further away stops the sync with `SyncStopped` instead of hanging; what the sync's last
checkpoint wrote stays stored and the next sync resumes from its cursor. 5xx answers and
timeouts are retried by urllib3 with exponential backoff starting at `backoff` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from github import Auth, Github, GithubException
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.GithubRetry import GithubRetry

from connectors.github.settings import GithubSettings
from connectors.retry import Retry, RetryPolicy, retrying
from connectors.secrets import require_secret
from metrics.errors import FlowdeckError

WaitListener = Callable[[float, str], None]


class SyncStopped(FlowdeckError):
    """GitHub asked for a longer pause than allowed, or kept failing: the sync stops cleanly."""


class WaitTooLong(Exception):
    """Raised inside urllib3 when GitHub asks for a longer pause than allowed (-> SyncStopped)."""

    def __init__(self, wait: float, why: str):
        super().__init__(f"{why}: {wait:.0f} s")
        self.wait = wait
        self.why = why


def retry_policy(settings: GithubSettings) -> RetryPolicy:
    """The source's retries: a wait longer than `max_wait` stops the sync (resumable from its
    last checkpoint) rather than hanging it."""
    return RetryPolicy(
        retries=max(settings.retries, 1),
        backoff=settings.backoff,
        max_wait=settings.max_wait,
        shorten_long_waits=False,
    )


class NotJson(Exception):
    """GitHub's answer was not JSON (PyGithub wraps such a body as `{"data": "<text>"}`)."""


def require_json(data: Any) -> Any:
    """`data` as PyGithub parsed it, or `NotJson` when the server sent something else (a proxy's
    or a captive portal's HTML page): it would fail later as an AttributeError far from here."""
    if isinstance(data, dict) and len(data) == 1 and isinstance(data.get("data"), str):
        raise NotJson()
    return data


class BoundedRetry(GithubRetry):
    """GithubRetry whose waits follow the source's `RetryPolicy` and are reported.

    urllib3 honours `Retry-After` without any bound; the policy bounds it, and this retries a
    429 that has no `Retry-After` (PyGithub's default retry does not).
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        listeners: list[WaitListener] | None = None,
        **kwargs: Any,
    ):
        # None only inside urllib3's `new`, which sets it right after
        self.policy = policy or RetryPolicy(retries=0, backoff=0.0, max_wait=0.0)
        self.listeners = listeners if listeners is not None else []
        super().__init__(**kwargs)

    def new(self, **kw: Any):  # type: ignore[override]
        retry = super().new(**kw)
        retry.policy = self.policy
        retry.listeners = self.listeners
        return retry

    def sleep(self, response=None) -> None:  # type: ignore[override]
        wait = self.get_retry_after(response) if response is not None else None
        why = "GitHub asked to retry later" if wait is not None else "retrying"
        if wait is None:
            wait = self.get_backoff_time()
            if response is not None and response.status in (403, 429):
                why = "GitHub rate limit"
        if self.policy.bounded(wait) is None:
            raise WaitTooLong(wait, why)
        if wait > 0:
            for listener in self.listeners:
                listener(wait, why)
            time.sleep(wait)


@dataclass
class GithubClient:
    """The PyGithub client of one source plus where its waits are reported."""

    github: Github
    settings: GithubSettings
    listeners: list[WaitListener] = field(default_factory=list)

    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """One GraphQL request (waiting out a GraphQL `RATE_LIMITED` error within `max_wait`)."""

        def ask() -> dict[str, Any]:
            _, data = self.github.requester.graphql_query(query, dict(variables))
            return require_json(data).get("data") or {}

        try:
            return retrying(ask, retry_policy(self.settings), _graphql_retry, on_wait=self._tell)
        except GithubException as exc:
            wait = _graphql_rate_limit_wait(exc)
            if wait is None:
                raise
            raise WaitTooLong(wait, "GitHub GraphQL rate limit") from None

    def _tell(self, wait: float, why: str) -> None:
        for listener in self.listeners:
            listener(wait, why)


def _graphql_retry(exc: Exception) -> Retry | None:
    # Transport failures were already retried by urllib3; only GitHub's answer "RATE_LIMITED"
    # (in a 200 or 403 body) is left to wait out here.
    if not isinstance(exc, GithubException):
        return None
    wait = _graphql_rate_limit_wait(exc)
    return None if wait is None else Retry(asked=wait, why="GitHub GraphQL rate limit")


def _graphql_rate_limit_wait(exc: GithubException) -> float | None:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") or []
    if not any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors):
        return None
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    if "retry-after" in headers and str(headers["retry-after"]).isdigit():
        return float(headers["retry-after"])
    reset = str(headers.get("x-ratelimit-reset", ""))
    if reset.isdigit():
        # plus one second: the reset happens at some moment within that second
        return max(0.0, int(reset) - time.time()) + 1.0
    return 60.0


def make_client(settings: GithubSettings, secrets: Mapping[str, str]) -> GithubClient:
    token = require_secret(secrets, settings.token_env, settings.repo)
    # PyGithub logs every retry to stderr at INFO; the progress line reports the waits instead.
    logging.getLogger("github").setLevel(logging.WARNING)
    listeners: list[WaitListener] = []
    retry = BoundedRetry(
        policy=retry_policy(settings),
        listeners=listeners,
        total=settings.retries,
        backoff_factor=settings.backoff,
        backoff_max=max(settings.max_wait, settings.backoff),
        status_forcelist=[429, *range(500, 600)],
        secondary_rate_wait=min(60.0, settings.max_wait),
        max_rate_limit_wait=settings.max_wait,
    )
    github = Github(
        base_url=settings.api_url,
        auth=Auth.Token(token),
        retry=retry,
        per_page=100,
        timeout=settings.timeout,
        # GraphQL reads are POSTs: PyGithub would space them 1 s apart as if they were writes.
        # The sync sends one request at a time, which is all GitHub asks of readers.
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return GithubClient(github=github, settings=settings, listeners=listeners)


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


@contextmanager
def github_failures(settings: GithubSettings, what: str) -> Iterator[None]:
    """Turn what GitHub or the network answered into one complete line (never the token)."""
    saved = "what is already in the store is kept; run the sync again to resume"
    try:
        yield
    except NotJson:
        raise FlowdeckError(
            f"{settings.repo}: the server at {settings.api_url} did not answer with JSON while "
            f"{what} (a proxy or a sign-in page in between? check api_url)"
        ) from None
    except (WaitTooLong, RateLimitExceededExceedsMaxWait) as exc:
        wait = exc.wait if isinstance(exc, WaitTooLong) else float(exc.wait or 0.0)
        raise SyncStopped(
            f"{settings.repo}: GitHub rate limit while {what}: the next request is allowed at "
            f"{_at(time.time() + wait)} ({wait:.0f} s), longer than max_wait = "
            f"{settings.max_wait:g} s; {saved}"
        ) from None
    except RateLimitExceededException:
        raise SyncStopped(
            f"{settings.repo}: GitHub rate limit while {what} persisted after "
            f"{settings.retries} retries; {saved}"
        ) from None
    except BadCredentialsException:
        raise FlowdeckError(
            f"{settings.repo}: GitHub at {settings.api_url} refused the token in "
            f"{settings.token_env} (401 Bad credentials); create a new token and export "
            f"{settings.token_env}=..."
        ) from None
    except UnknownObjectException as exc:
        detail = f": {exc.message}" if getattr(exc, "message", None) else ""
        checks = "`repo`" + (
            ", `project`, `project_owner`" if settings.status_from == "project" else ""
        )
        raise FlowdeckError(
            f"{settings.repo}: not found at {settings.api_url} while {what}{detail} (check "
            f"{checks}, and that the token in {settings.token_env} can read it)"
        ) from None
    except GithubException as exc:
        message = ""
        if isinstance(exc.data, dict):
            errors = exc.data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                message = str(errors[0].get("message", ""))
            message = message or str(exc.data.get("message", ""))
        status = f"{exc.status} " if exc.status and exc.status != 400 else ""
        raise SyncStopped(
            f"{settings.repo}: GitHub answered {status}while {what}: "
            f"{message or 'no message'}; {saved}"
        ) from None
    except (requests.exceptions.RetryError, requests.exceptions.ConnectionError) as exc:
        reason = str(exc).splitlines()[0][:200]
        raise SyncStopped(
            f"{settings.repo}: GitHub at {settings.api_url} kept failing while {what} after "
            f"{settings.retries} retries ({reason}); {saved}"
        ) from None
    except requests.exceptions.Timeout:
        raise SyncStopped(
            f"{settings.repo}: GitHub at {settings.api_url} did not answer within "
            f"{settings.timeout} s while {what} after {settings.retries} retries; {saved}"
        ) from None
