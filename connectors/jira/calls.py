"""One Jira request at a time: retried when Jira asks for patience, translated when it refuses.

Retries follow the shared policy (`connectors.retry`) rather than the library's
ResilientSession (built with `max_retries=0`) because that session only retries 429/503, sleeps
at least twice the Retry-After with no cap we can set publicly, and never retries 500/502/504
or read timeouts.

A `JIRAError` must never reach the user as `str(exc)`: that text includes the request headers,
and so the credentials. Every failure leaves here as a one-line `JiraError`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira.exceptions import JIRAError

from connectors.jira.settings import JiraSettings
from connectors.retry import Retry, RetryPolicy, retrying
from connectors.secrets import printable
from metrics.errors import FlowdeckError

T = TypeVar("T")

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Tests replace this to observe waits without sleeping; production sleeps.
sleep: Callable[[float], None] = time.sleep


class JiraError(FlowdeckError):
    """Jira refused or failed a request; the message says what to do about it."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
        """The HTTP status Jira answered with, when it answered."""


def retry_policy(settings: JiraSettings) -> RetryPolicy:
    """The source's retries; a Retry-After beyond `max_retry_wait` is waited only that long."""
    return RetryPolicy(
        retries=settings.retries,
        backoff=settings.retry_wait,
        max_wait=settings.max_retry_wait,
        shorten_long_waits=True,
    )


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    retry_after = headers.get("Retry-After")
    if retry_after:
        # An HTTP date instead of seconds is rare from Jira: fall back to the backoff then.
        with contextlib.suppress(ValueError):
            return float(retry_after)
    return None


def _retry_of(exc: Exception) -> Retry | None:
    if isinstance(exc, JIRAError):
        if exc.status_code in RETRIED_STATUSES:
            return Retry(asked=_retry_after(exc.response), why=f"Jira answered {exc.status_code}")
        return None
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return Retry(why="no answer from Jira")
    return None


def jira_message(exc: JIRAError) -> str:
    """Jira's own error text, on one line."""
    return printable(exc.text or "") or "no details given"


def credential_hint(settings: JiraSettings, cloud: bool | None) -> str:
    if cloud is False:
        return f"check {settings.token_env} (a Data Center personal access token)"
    if cloud is True:
        return (
            f"check {settings.email_env} (your Atlassian account e-mail) and "
            f"{settings.token_env} (an API token from id.atlassian.com)"
        )
    return (
        f"check {settings.email_env} and {settings.token_env} (Cloud: account e-mail and API "
        f"token; Data Center: {settings.token_env} alone, a personal access token)"
    )


def translate(
    exc: JIRAError, settings: JiraSettings, what: str, cloud: bool | None = None
) -> JiraError:
    status = exc.status_code
    where = f"Jira at {settings.url}"
    if status == 401:
        return JiraError(
            f"{where} refused the credentials (401) while {what}: "
            f"{credential_hint(settings, cloud)}",
            status=status,
        )
    if status == 403:
        return JiraError(
            f"{where} denied access (403) while {what}: {jira_message(exc)}; the account needs "
            f"'Browse projects' permission on the projects of the query "
            f"({credential_hint(settings, cloud)})",
            status=status,
        )
    if status == 404:
        return JiraError(
            f"{where}: not found (404) while {what}: {jira_message(exc)}", status=status
        )
    if status == 400 and "search" in what:
        return JiraError(
            f"{where} rejected the JQL query ({what}): {jira_message(exc)} "
            f"(jql = {settings.jql!r})",
            status=status,
        )
    if status == 410:
        return JiraError(
            f"{where} answered 410 Gone while {what}: Jira Cloud has removed the old "
            '/rest/api/*/search, and this site did not say it is Cloud: set deployment = "cloud" '
            "in this source so that Flowdeck uses the token-paged /search/jql",
            status=status,
        )
    if status in RETRIED_STATUSES:
        return JiraError(
            f"{where} still answered {status} after {settings.retries} retries while {what}; "
            "everything already stored is kept: run `flowdeck sync` again later",
            status=status,
        )
    return JiraError(
        f"{where} failed with HTTP {status} while {what}: {jira_message(exc)}", status=status
    )


def call(
    settings: JiraSettings,
    what: str,
    fn: Callable[..., T],
    *args: Any,
    cloud: bool | None = None,
    **kwargs: Any,
) -> T:
    """`fn(*args, **kwargs)` with retries on 429, 5xx, timeouts and dropped connections."""
    try:
        return retrying(
            lambda: fn(*args, **kwargs),
            retry_policy(settings),
            _retry_of,
            sleep=lambda seconds: sleep(seconds),  # looked up at each call: tests replace it
        )
    except JIRAError as exc:
        raise translate(exc, settings, what, cloud) from None
    except (requests.exceptions.JSONDecodeError, json.JSONDecodeError):
        raise JiraError(
            f"Jira at {settings.url}: the server did not answer with JSON while {what} (a "
            "proxy or a sign-in page in between? check the url)"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "could not be reached"
        raise JiraError(
            f"Jira at {settings.url} {kind} while {what} (after {settings.retries} retries); "
            "everything already stored is kept: run `flowdeck sync` again later"
        ) from None
