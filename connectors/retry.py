"""The one retry policy of Flowdeck's HTTP clients (Jira, and GitHub's GraphQL and REST).

`RetryPolicy` decides how long to pause before the next try and when to stop: the server's own
wait (`Retry-After`, a rate-limit reset) when it gives one, else a backoff that doubles from
`backoff`; a wait longer than `max_wait` is either shortened to it (Jira: the site is only
asked again sooner) or ends the tries (GitHub: a rate limit that would hang the sync stops it,
resumable). `retrying` runs an action under a policy; GitHub's transport retries run inside
urllib3 (`connectors.github.client.BoundedRetry`), which asks the same policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """What a failure asks for: a retry, after the server's own wait when it named one."""

    asked: float | None = None
    why: str = "retrying"


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    """Tries after the first one."""
    backoff: float
    """The first pause when the server names none; it doubles with each retry."""
    max_wait: float
    """The longest pause."""
    shorten_long_waits: bool = True
    """A longer wait is shortened to `max_wait` (True) or ends the tries (False)."""

    def bounded(self, wait: float) -> float | None:
        """`wait` within `max_wait`, or None when it is longer and that ends the tries."""
        wait = max(wait, 0.0)
        if wait <= self.max_wait:
            return wait
        return self.max_wait if self.shorten_long_waits else None

    def pause(self, attempt: int, asked: float | None = None) -> float | None:
        """Seconds before retry number `attempt + 1` (`attempt` counts from 0), or None when
        no retry is left or the wait is too long."""
        if attempt >= self.retries:
            return None
        return self.bounded(self.backoff * 2**attempt if asked is None else asked)


def retrying(
    action: Callable[[], T],
    policy: RetryPolicy,
    retry_of: Callable[[Exception], Retry | None],
    *,
    on_wait: Callable[[float, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`action()`, tried again while `retry_of(exc)` asks for it and `policy` allows; the last
    failure is raised as it was (the caller turns it into a message)."""
    attempt = 0
    while True:
        try:
            return action()
        except Exception as exc:
            retry = retry_of(exc)
            if retry is None:
                raise
            wait = policy.pause(attempt, retry.asked)
            if wait is None:
                raise
            if on_wait is not None:
                on_wait(wait, retry.why)
            sleep(wait)
            attempt += 1
