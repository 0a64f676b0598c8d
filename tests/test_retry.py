"""The one retry policy of the Jira and GitHub clients (`connectors.retry`), on its own; the
connectors' tests run it against the fake servers."""

from __future__ import annotations

import pytest

from connectors.retry import Retry, RetryPolicy, retrying


def test_the_backoff_doubles_and_the_tries_end():
    policy = RetryPolicy(retries=3, backoff=0.5, max_wait=10)
    assert [policy.pause(n) for n in range(4)] == [0.5, 1.0, 2.0, None]


def test_a_servers_wait_wins_and_a_long_one_is_shortened_or_ends_the_tries():
    shorten = RetryPolicy(retries=2, backoff=0.5, max_wait=10, shorten_long_waits=True)
    stop = RetryPolicy(retries=2, backoff=0.5, max_wait=10, shorten_long_waits=False)
    assert shorten.pause(0, asked=3) == stop.pause(0, asked=3) == 3
    assert shorten.pause(0, asked=0) == 0
    assert shorten.pause(0, asked=3600) == 10
    assert stop.pause(0, asked=3600) is None


class Flaky(Exception):
    pass


def test_retrying_waits_between_tries_and_raises_the_last_failure():
    calls, slept, told = [], [], []

    def action():
        calls.append(1)
        if len(calls) < 3:
            raise Flaky(f"try {len(calls)}")
        return "ok"

    def retry_of(exc):
        return Retry(why="flaky") if isinstance(exc, Flaky) else None

    policy = RetryPolicy(retries=2, backoff=0.25, max_wait=5)
    assert retrying(action, policy, retry_of, sleep=slept.append,
                    on_wait=lambda w, why: told.append(why)) == "ok"  # fmt: skip
    assert slept == [0.25, 0.5] and told == ["flaky", "flaky"]

    calls.clear()
    with pytest.raises(Flaky, match="try 2"):
        retrying(action, RetryPolicy(retries=1, backoff=0.25, max_wait=5), retry_of,
                 sleep=slept.append)  # fmt: skip

    def refused():
        raise ValueError("not retried")

    with pytest.raises(ValueError):
        retrying(refused, policy, retry_of, sleep=slept.append)
    assert slept == [0.25, 0.5, 0.25]
