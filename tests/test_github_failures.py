"""Rate limits, server errors, a bad token and missing things: retried within bounds, or a clear
one-line stop whose chunks carry the cursor to resume from (the sync loop checkpoints them; see
test_sync_checkpoints.py for the store's side)."""

from __future__ import annotations

import re
import time

import pytest

from connectors.github.client import SyncStopped
from metrics.errors import ConfigError, FlowdeckError
from tests.fake_github import TOKEN, FakeGithub, FakeItem, FakeRepo
from tests.fake_github.harness import need_schema, settings_for, sync


@pytest.fixture
def fake():
    need_schema()
    with FakeGithub() as server:
        repo = server.add_repo(FakeRepo(owner="acme", name="web"))
        for n in range(1, 8):
            repo.add(
                FakeItem(
                    n,
                    f"Issue {n}",
                    f"2026-03-0{n}T09:00:00Z",
                    timeline=[
                        {"__typename": "AssignedEvent", "createdAt": f"2026-03-0{n}T10:00:00Z"}
                    ],
                )
            )
        yield server


def _ids(result) -> list[str]:
    return sorted(result.items["item_id"])


ALL = [f"github:acme/web#{n}" for n in range(1, 8)]


def test_403_rate_limit_waits_for_the_reset_then_continues(fake):
    settings = settings_for(fake, page_size=3)
    fake.fail_next("rate_limit", reset_in=0)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 3 + 1
    # The reset is now: the wait the client announced is the reset's second, not an hour.
    waits = [int(m[1]) for n in result.progress.notes if (m := re.search(r"waiting (\d+) s", n))]
    assert waits and max(waits) <= 2, result.progress.notes


def test_429_with_retry_after_is_honoured(fake):
    settings = settings_for(fake)
    fake.fail_next("secondary", retry_after=1)

    started = time.monotonic()
    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert time.monotonic() - started >= 1.0
    assert result.requests == 2
    assert any("retry later: waiting 1 s" in note for note in result.progress.notes)


def test_429_without_retry_after_is_retried_with_backoff(fake):
    settings = settings_for(fake)
    fake.fail_next("secondary", retry_after=None)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 2


def test_secondary_rate_limit_403_with_retry_after(fake):
    settings = settings_for(fake)
    fake.fail_next("secondary_403", retry_after=0)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 2


def test_a_timeout_is_retried(fake):
    # The slow answer takes far longer than the timeout; every other answer has ample time even
    # on a loaded machine, so exactly one request is retried.
    settings = settings_for(fake, timeout=4)
    fake.fail_next("slow", delay=20)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 2


@pytest.mark.parametrize("kind", ["graphql_rate_limited", "graphql_rate_limited_403"])
def test_graphql_rate_limited_error_waits_then_retries(fake, kind):
    settings = settings_for(fake)
    fake.fail_next(kind, reset_in=0)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 2
    assert any("GraphQL rate limit" in note for note in result.progress.notes)


def test_502_is_retried(fake):
    settings = settings_for(fake)
    fake.fail_next("bad_gateway", times=2)

    result = sync(fake, settings)

    assert _ids(result) == ALL
    assert result.requests == 3


def test_502_that_persists_stops_with_one_line(fake):
    settings = settings_for(fake, retries=2)
    fake.fail_next("bad_gateway", times=10)

    with pytest.raises(SyncStopped) as err:
        sync(fake, settings)

    message = str(err.value)
    assert "\n" not in message
    assert "acme/web" in message and "502" in message and "run the sync again" in message


@pytest.mark.parametrize(
    "kind", ["rate_limit", "secondary", "graphql_rate_limited", "graphql_rate_limited_403"]
)
def test_a_wait_longer_than_max_wait_stops_cleanly_and_the_next_sync_resumes(fake, kind):
    settings = settings_for(fake, page_size=3, max_wait=2)
    client_chunks = []
    from connectors.github import KIND
    from tests.fake_github.harness import RecordingProgress

    client = KIND.make_client(settings, {"GITHUB_TOKEN": TOKEN})
    stream = KIND.fetch(settings, client, None, RecordingProgress())
    client_chunks.append(next(stream))  # the first page is handed over (a checkpoint keeps it)
    fake.fail_next(kind, reset_in=3600, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(SyncStopped) as err:
        next(stream)
    # Far below the hour the server asked for, and far above any slow machine's overhead.
    assert time.monotonic() - started < 120
    message = str(err.value)
    assert "max_wait" in message and "run the sync again" in message and "\n" not in message

    stored = client_chunks[0]
    assert sorted(stored.items["item_id"]) == ALL[:3]
    # the next sync starts at the stored cursor and gets the rest (the boundary again)
    resumed = sync(fake, settings, since=stored.cursor)
    assert set(_ids(resumed)) | set(stored.items["item_id"]) == set(ALL)
    assert "github:acme/web#3" in set(resumed.items["item_id"])


def test_bad_token_names_the_variable_never_the_value(fake):
    settings = settings_for(fake, token_env="ACME_GITHUB_TOKEN")

    with pytest.raises(FlowdeckError) as err:
        sync(fake, settings, token="ghp_wrong_value_123")

    message = str(err.value)
    assert "ACME_GITHUB_TOKEN" in message and "401" in message
    assert "ghp_wrong_value_123" not in message


def test_missing_token_names_the_variable(fake):
    from connectors.github import KIND

    settings = settings_for(fake)
    with pytest.raises(ConfigError, match="GITHUB_TOKEN is not set"):
        KIND.make_client(settings, {})


def test_repository_that_does_not_exist(fake):
    settings = settings_for(fake, repo="acme/nope")

    with pytest.raises(FlowdeckError) as err:
        sync(fake, settings)

    assert "acme/nope: not found at" in str(err.value)
    assert "GITHUB_TOKEN" in str(err.value)


def test_project_that_does_not_exist(fake):
    settings = settings_for(fake, status_from="project", project=9)

    with pytest.raises(FlowdeckError, match="not found"):
        sync(fake, settings)
