"""How the Jira connector fails: one clear line, secrets never shown, retries where they help."""

from __future__ import annotations

import importlib
import socket

import pytest

from connectors.jira import KIND, calls
from metrics.errors import ConfigError, FlowdeckError
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow
from tests.fake_jira.harness import FAST, Notes, settings_for, sync

MODES = ["cloud", "datacenter"]
fetch_module = importlib.import_module("connectors.jira.fetch")


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits the connector asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(calls, "sleep", recorded.append)
    return recorded


@pytest.fixture(params=MODES)
def fake(request):
    with FakeJira(world_from_flow(small_flow()), mode=request.param, page_cap=2) as server:
        yield server


def _one_line(exc: BaseException, fake: FakeJira) -> str:
    text = str(exc)
    assert "\n" not in text
    assert fake.token not in text
    assert "Authorization" not in text
    return text


def test_wrong_token_names_the_variables_not_the_value(fake):
    secrets = {**fake.secrets, "JIRA_TOKEN": "wrong-token-999"}
    with pytest.raises(FlowdeckError) as info:
        sync(fake, secrets=secrets)
    text = _one_line(info.value, fake)
    assert "wrong-token-999" not in text
    assert "(401)" in text and "JIRA_TOKEN" in text
    if fake.mode == "cloud":
        assert "JIRA_EMAIL" in text and "API token" in text
    else:
        assert "personal access token" in text


def test_rejected_credentials_mid_sync(fake):
    settings = settings_for(fake)
    client = KIND.make_client(settings, fake.secrets)
    fake.reject_auth = True  # e.g. the token is revoked during the sync
    with pytest.raises(FlowdeckError, match=r"refused the credentials \(401\)"):
        list(KIND.fetch(settings, client, None, Notes()))


def test_missing_token_variable(fake):
    with pytest.raises(ConfigError) as info:
        sync(fake, secrets={})
    assert "JIRA_TOKEN is not set" in str(info.value)


def test_cloud_needs_the_email_too():
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        with pytest.raises(FlowdeckError) as info:
            sync(fake, secrets={"JIRA_TOKEN": fake.token})
        assert "Jira Cloud" in str(info.value) and "JIRA_EMAIL" in str(info.value)
        # variables of the source's own choosing
        secrets = {"ACME_JIRA_USER": fake.email, "ACME_JIRA_KEY": fake.token}
        result = sync(fake, secrets=secrets, email_env="ACME_JIRA_USER", token_env="ACME_JIRA_KEY")
        assert len(result.items) == 5


def test_forced_deployment_skips_the_probe():
    with FakeJira(world_from_flow(small_flow()), mode="datacenter") as fake:
        result = sync(fake, deployment="datacenter")
        assert fake.count("serverInfo") == 2  # signed in + the clock; no anonymous probe
    assert len(result.items) == 5


def test_forbidden(fake):
    settings = settings_for(fake)
    client = KIND.make_client(settings, fake.secrets)
    fake.forbid = True
    with pytest.raises(FlowdeckError) as info:
        list(KIND.fetch(settings, client, None, Notes()))
    text = _one_line(info.value, fake)
    assert "(403)" in text and "Browse projects" in text


def test_unknown_project_in_jql_shows_jiras_message(fake):
    with pytest.raises(FlowdeckError) as info:
        sync(fake, jql="project = NOPE")
    text = _one_line(info.value, fake)
    assert "The value 'NOPE' does not exist for the field 'project'." in text
    assert "jql = 'project = NOPE'" in text


def test_unknown_project_for_releases_is_a_404(fake):
    with pytest.raises(FlowdeckError) as info:
        sync(fake, projects=["NOPE"])
    text = _one_line(info.value, fake)
    assert "(404)" in text and "No project could be found with key 'NOPE'." in text


def test_jql_syntax_error_shows_jiras_message(fake):
    with pytest.raises(FlowdeckError) as info:
        sync(fake, jql="project = ABC AND AND status = Done")
    text = _one_line(info.value, fake)
    assert "rejected the JQL query" in text
    assert "Error in the JQL Query" in text


def test_old_search_gone_on_cloud_is_explained():
    # A Cloud site whose serverInfo does not say "Cloud" (a proxy rewriting it, say): the
    # library then uses the classic search, which Cloud answers with 410 Gone. The message
    # names the fix, and the fix works.
    with FakeJira(world_from_flow(small_flow()), mode="cloud") as fake:
        fake.hide_deployment_type = True
        with pytest.raises(FlowdeckError) as info:
            sync(fake)
        text = _one_line(info.value, fake)
        assert "410" in text and "/search/jql" in text and 'deployment = "cloud"' in text
        result = sync(fake, deployment="cloud")
        assert len(result.items) == 5
        assert fake.count("/search/jql") >= 1


def test_rate_limit_waits_as_told(fake, waits):
    fake.fail("/search", 429, times=1, headers={"Retry-After": "7"})
    result = sync(fake, max_retry_wait=30)
    assert waits == [7.0]
    assert len(result.items) == 5


def test_retry_after_is_capped(fake, waits):
    fake.fail("/search", 429, times=2, headers={"Retry-After": "3600"})
    result = sync(fake)  # FAST caps every wait at 0.05 s
    assert waits == [FAST["max_retry_wait"]] * 2
    assert len(result.items) == 5


def test_server_errors_are_retried_with_backoff(fake, waits):
    fake.fail("/search", 502, times=1)
    fake.fail("/versions", 500, times=1)
    fake.fail("/field", 503, times=1)
    result = sync(fake, retry_wait=0.01, max_retry_wait=1)
    assert waits == [0.01, 0.01, 0.01]
    assert len(result.items) == 5 and len(result.chunks[-1].deployments) == 2


def test_backoff_doubles(fake, waits):
    fake.fail("/search", 500, times=3)
    sync(fake, retry_wait=0.01, max_retry_wait=1)
    assert waits == [0.01, 0.02, 0.04]


def test_timeouts_are_retried(fake, waits):
    # The slow answer takes far longer than the timeout; every other answer has ample time even
    # on a loaded machine.
    fake.delay("/search", 20, times=1)
    result = sync(fake, timeout=4)
    assert fake.delays[0].times == 0  # the slow answer was given, and not waited for
    assert len(waits) == 1
    assert len(result.items) == 5


def test_give_up_keeps_what_was_yielded_and_next_sync_resumes(fake, waits, monkeypatch):
    monkeypatch.setattr(fetch_module, "BULK_LIMIT", 2)  # a chunk per page
    settings = settings_for(fake)
    client = KIND.make_client(settings, fake.secrets)
    got = []
    fake.fail("/search", 503, times=FAST["retries"] + 1, after=2)  # the third page keeps failing
    with pytest.raises(FlowdeckError) as info:
        for chunk in KIND.fetch(settings, client, None, Notes()):
            got.append(chunk)
    text = _one_line(info.value, fake)
    assert f"still answered 503 after {FAST['retries']} retries" in text
    assert "run `flowdeck sync` again" in text
    assert len(got) == 2  # the first two pages were handed over
    # each with a resume point (the sync checkpoints them): the next sync reads only the rest
    handed = {i for c in got for i in c.items["item_id"]}
    resumed = sync(fake, since=got[-1].cursor)
    assert handed | set(resumed.items["item_id"]) == {f"jira:ABC-{n}" for n in range(1, 6)}
    assert len(resumed.items) < 5
    again = sync(fake)
    assert len(again.items) == 5


def test_unreachable_site(waits):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = KIND.parse({"url": f"http://127.0.0.1:{port}", "jql": "project = ABC", **FAST}, "s")
    with pytest.raises(FlowdeckError) as info:
        KIND.make_client(settings, {"JIRA_TOKEN": "t", "JIRA_EMAIL": "e"})
    assert "could not be reached" in str(info.value)
    assert len(waits) == FAST["retries"]
