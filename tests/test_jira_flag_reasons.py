"""A Jira flag's reason: the "(flag) Flag added" comment Jira writes beside the flag change,
read from the same search (Cloud and Data Center fakes), paired by author and time."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from connectors.jira.flag_reasons import REASON_LIMIT, comment_text, flag_reason
from metrics.blockers import NO_REASON, spell_reasons
from tests.fake_jira import FakeJira, world_from_flow
from tests.fake_jira.flows import small_flow
from tests.fake_jira.harness import sync
from tests.fake_jira.world import flag_item

HOSTILE = '=HYPERLINK("http://evil.example/x","click")<script>alert(1)</script>\x1b[2J'


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _world():
    """small_flow's ABC-2 (flagged with a reason) and ABC-5 (flagged without a comment), plus
    ABC-4 flagged twice: once with a hostile reason spread over two paragraphs, once with
    only a comment by someone else and a flag comment of its flagger an hour later."""
    world = world_from_flow(small_flow())
    abc4 = world.issues["ABC-4"]
    world.add_history(abc4, _t("2024-01-10T09:00:00"), [flag_item(True)])
    world.add_comment(abc4, _t("2024-01-10T09:00:00.400"), f"{HOSTILE}\n\nsee   the\tthread")
    world.add_history(abc4, _t("2024-01-10T12:00:00"), [flag_item(False)])
    world.add_history(abc4, _t("2024-01-11T09:00:00"), [flag_item(True)])
    # Someone else flags-comments at the same moment (not the flagger: ignored), and the
    # flagger's own flag comment an hour later belongs to no change (ignored).
    world.add_comment(abc4, _t("2024-01-11T09:00:05"), "Mei's guess", author="mei")
    world.add_comment(abc4, _t("2024-01-11T10:00:00"), "Too late to count")
    world.add_comment(abc4, _t("2024-01-11T09:00:01"), "plain remark", flag=False)
    abc4.flagged = True
    return world


@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
def test_reasons_come_from_the_flag_comments_of_the_same_search(mode):
    with FakeJira(_world(), mode=mode, embedded_cap=2) as fake:
        result = sync(fake)
        searches = fake.count("/search")
        # Comments ride in the search: no request reads an issue's comments.
        assert fake.count("/comment") == 0
        asked = fake.fields_asked("/search")
    assert searches == 1
    assert len(asked) == 1 and "comment" in asked[0]
    events = result.events
    blocked = events[events["event"] == "blocked"].set_index(["item_id", "changed_at"])["status"]
    assert blocked.to_dict() == {
        ("jira:ABC-2", _t("2024-01-04T10:00")): "Waiting on vendor API",
        ("jira:ABC-4", _t("2024-01-10T09:00")): (
            '=HYPERLINK("http://evil.example/x","click")<script>alert(1)</script> [2J'
            " see the thread"
        ),
        ("jira:ABC-4", _t("2024-01-11T09:00")): "",
        ("jira:ABC-5", _t("2024-01-12T08:00")): "",
    }
    assert (events.loc[events["event"] == "unblocked", "status"] == "").all()
    # What the Blockers page groups by: the reason, or "(no reason given)".
    spells = spell_reasons(events, _t("2024-02-01"))
    assert list(spells["reason"]) == [
        "Waiting on vendor API",
        blocked[("jira:ABC-4", _t("2024-01-10T09:00"))],
        NO_REASON,
        NO_REASON,
    ]


def test_without_flags_the_search_asks_for_no_comments():
    with FakeJira(_world(), mode="cloud") as fake:
        result = sync(fake, use_flags=False)
        asked = fake.fields_asked("/search")
    assert asked and all("comment" not in fields for fields in asked)
    assert (result.events["event"] == "status").all()


def test_cloud_v3_serves_the_flag_comment_in_document_format():
    # The connector searches through REST API v2 (wiki text); v3 answers with ADF, whose
    # reading must give the same reason.
    world = _world()
    with FakeJira(world, mode="cloud") as fake:
        raw = requests.post(
            f"{fake.url}/rest/api/3/search/jql",
            json={"jql": "key = ABC-2", "fields": ["comment"]},
            auth=(fake.email, fake.token),
            timeout=30,
        ).json()
        v2 = requests.post(
            f"{fake.url}/rest/api/2/search/jql",
            json={"jql": "key = ABC-2", "fields": ["comment"]},
            auth=(fake.email, fake.token),
            timeout=30,
        ).json()
    adf = raw["issues"][0]["fields"]["comment"]["comments"][0]["body"]
    wiki = v2["issues"][0]["fields"]["comment"]["comments"][0]["body"]
    assert adf["type"] == "doc" and adf["content"][0]["content"][0]["type"] == "emoji"
    assert wiki == "(flag) Flag added\n\nWaiting on vendor API"
    assert comment_text(adf) == "(flag) Flag added\n\nWaiting on vendor API"
    assert flag_reason(adf) == flag_reason(wiki) == "Waiting on vendor API"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("(flag) Flag added\n\nWaiting on vendor API", "Waiting on vendor API"),
        ("(flag) Flag added\r\n\r\n  Waiting\r\non vendor  ", "Waiting on vendor"),
        ("(flag) Sinalizador adicionado\n\nAguardando fornecedor", "Aguardando fornecedor"),
        ("(flag) Flag added", ""),
        ("(flag) waiting on legal", "waiting on legal"),
        ("Flag added\n\nnot written by Jira", None),
        ("(flagoff) Flag removed", None),
        ("", None),
        (None, None),
        ("(flag) Flag added\n\n" + "x" * 500, "x" * REASON_LIMIT),
    ],
)
def test_flag_reason_of_a_comment_body(body, reason):
    assert flag_reason(body) == reason


def test_a_real_comment_is_not_a_flag_comment():
    # tests/api_samples: a Jira Cloud comment (v2, wiki text) that mentions a commit.
    from tests.test_jira_payloads import _samples

    comments = [
        c
        for issue in _samples("jira-issues-with-changelog.jsonl")
        for c in (issue["fields"].get("comment") or {}).get("comments") or []
    ]
    assert comments
    assert all(flag_reason(c["body"]) is None for c in comments)


def test_fake_comments_have_the_real_shape():
    from tests.test_jira_payloads import _keys, _samples

    real = next(
        i["fields"]["comment"]
        for i in _samples("jira-issues-with-changelog.jsonl")
        if (i["fields"].get("comment") or {}).get("comments")
    )
    with FakeJira(_world(), mode="cloud") as fake:
        issue = fake.issue_json(fake.world.issues["ABC-2"], ["comment"], "")
    fake_comments = issue["fields"]["comment"]
    assert _keys(fake_comments) == _keys(real)
    assert _keys(fake_comments["comments"][0]) <= _keys(real["comments"][0])
    assert len(fake_comments["comments"][0]["created"]) == len(real["comments"][0]["created"])
