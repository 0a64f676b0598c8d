"""Build a fake GitHub repository from canonical FlowData (the seeded demo world or a small one).

Each item becomes an issue (or a pull request when listed in `pulls`) numbered in order of its
first event; its status events become the timeline of the chosen mode:

- "project": added to the board at its first event, then one ProjectV2ItemStatusChangedEvent
  per status change; its board Status is its last status.
- "labels": an UnlabeledEvent / LabeledEvent pair (`label_prefix` + status) per change.
- "state": `state_of` maps a status to "open", "progress" or "closed": the first move to
  progress is an AssignedEvent, a move to closed a ClosedEvent, a move back a ReopenedEvent.

Blocked spells become `blocked` label events. Deployments become Deployments API entries,
releases (successful ones) and workflow runs; the commit history is laid out so that each
deployment's range holds exactly the merged pull requests `shipped` names (or, without one, those
merged since the previous deployment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from metrics.frames import FlowData
from tests.fake_github.world import (
    FakeCommit,
    FakeDeployment,
    FakeItem,
    FakeProject,
    FakeRelease,
    FakeRepo,
    FakeRun,
    sha,
)


def iso(value) -> str:
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def board_order(events) -> list[str]:
    """The statuses as a board lists them: in the demo workflow's flow order (a status it does
    not map sits with the first stage, a discarded one comes last), else as first seen."""
    from connectors.demo import demo_config

    lookup = demo_config().workflow.status_positions()
    seen = list(dict.fromkeys(events.loc[events["event"] == "status", "status"]))

    def place(status: str) -> int:
        position = lookup.get(status.strip().casefold(), 0)
        return 99 if position < 0 else position

    return sorted(seen, key=place)


def repo_from_flow_data(
    data: FlowData,
    *,
    owner: str = "acme",
    name: str = "web",
    mode: str = "project",
    pulls: Iterable[str] = (),
    done_statuses: Iterable[str] = ("Done",),
    state_of: Callable[[str], str] | None = None,
    project_number: int = 3,
    options: Iterable[str] | None = None,
    label_prefix: str = "status: ",
    blocked_label: str = "blocked",
) -> tuple[FakeRepo, dict[str, int]]:
    """The fake repository and the map item_id -> issue/PR number."""
    pulls = set(pulls)
    done = {s.casefold() for s in done_statuses}
    events = data.events.sort_values(["changed_at", "seq"], kind="stable")
    first_at = events.groupby("item_id")["changed_at"].min().sort_values(kind="stable")
    numbers = {item_id: i + 1 for i, item_id in enumerate(first_at.index)}
    titles = dict(zip(data.items["item_id"], data.items["title"], strict=True))
    sizes = dict(zip(data.items["item_id"], data.items["lines_changed"], strict=True))
    events = events.assign(at=events["changed_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    per_item: dict[str, list[tuple[str, str, str]]] = {}
    for item_id, at, kind, status in zip(
        events["item_id"], events["at"], events["event"], events["status"], strict=True
    ):
        per_item.setdefault(item_id, []).append((at, kind, status))
    repo = FakeRepo(owner=owner, name=name)
    pr_facts = data.pull_requests.drop_duplicates("item_id", keep="last").set_index("item_id")
    if mode == "project":
        statuses = list(options) if options is not None else board_order(events)
        repo.project = FakeProject(number=project_number, owner=owner, options=statuses)
    for item_id, changes in per_item.items():
        number = numbers[item_id]
        created = changes[0][0]
        item = FakeItem(
            number=number,
            title=str(titles.get(item_id, f"Item {item_id}")),
            created_at=created,
            is_pull=item_id in pulls,
        )
        lines = sizes.get(item_id, pd.NA)
        if item.is_pull:
            total = int(lines) if not pd.isna(lines) else 10 * number % 300 + 1
            item.additions, item.deletions = total - total // 3, total // 3
            item.changed_files = max(1, total // 40)
        timeline: list[dict] = []
        labels: list[str] = []
        previous: str | None = None
        progressed = False
        if mode == "project":
            timeline.append(
                {"__typename": "AddedToProjectV2Event", "createdAt": created, "project": True}
            )
            item.on_board, item.board_added_at = True, created
        for at, event, status in changes:
            if event == "blocked":
                # A reason travels as a `blocked: REASON` label, as teams label it on GitHub.
                spell_label = f"{blocked_label}: {status}" if status else blocked_label
                timeline.append(
                    {
                        "__typename": "LabeledEvent",
                        "createdAt": at,
                        "label": {"name": spell_label},
                    }
                )
                labels.append(spell_label)
                continue
            if event == "unblocked":
                for name in [x for x in labels if x.split(":")[0] == blocked_label]:
                    timeline.append(
                        {
                            "__typename": "UnlabeledEvent",
                            "createdAt": at,
                            "label": {"name": name},
                        }
                    )
                labels = [x for x in labels if x.split(":")[0] != blocked_label]
                continue
            if status == previous:
                continue
            if mode == "project":
                timeline.append(
                    {
                        "__typename": "ProjectV2ItemStatusChangedEvent",
                        "createdAt": at,
                        "previousStatus": previous or "",
                        "status": status,
                        "project": True,
                    }
                )
                item.board_status, item.board_status_set_at = status, at
            elif mode == "labels":
                if previous is not None:
                    old = label_prefix + previous
                    timeline.append(
                        {"__typename": "UnlabeledEvent", "createdAt": at, "label": {"name": old}}
                    )
                    labels = [x for x in labels if x != old]
                timeline.append(
                    {
                        "__typename": "LabeledEvent",
                        "createdAt": at,
                        "label": {"name": label_prefix + status},
                    }
                )
                labels.append(label_prefix + status)
            else:
                kind = state_of(status) if state_of else "open"
                was = state_of(previous) if (state_of and previous) else "open"
                if was == "closed" and kind != "closed":
                    timeline.append({"__typename": "ReopenedEvent", "createdAt": at})
                if kind == "progress" and not progressed:
                    timeline.append({"__typename": "AssignedEvent", "createdAt": at})
                    progressed = True
                if kind == "closed" and was != "closed":
                    timeline.append({"__typename": "ClosedEvent", "createdAt": at})
            previous = status
            closing = (
                status.casefold() in done
                if mode != "state"
                else (state_of is not None and state_of(status) == "closed")
            )
            item.closed_at = at if closing else None
        if item.is_pull and item.closed_at:
            item.merged_at = item.closed_at
        if item.is_pull and item_id in pr_facts.index:
            timeline += _pull_request_flow(item, pr_facts.loc[item_id])
            timeline.sort(key=lambda e: e["createdAt"])
        item.timeline, item.labels = timeline, labels
        item.touch()
        repo.add(item)
    _deployments(repo, data, numbers)
    return repo, numbers


def _pull_request_flow(item: FakeItem, facts: pd.Series) -> list[dict]:
    """A pull request's commits, ready-for-review event and reviews, from the flow's
    `pull_requests` row: opened as a draft with the item, ready for review when the flow's pull
    request was opened, a comment by its own author (which must not count as a review), then the
    first review by a colleague."""
    item.author = f"dev{item.number % 3}"
    if pd.notna(facts["first_commit_at"]):
        item.first_commit_at = iso(facts["first_commit_at"])
    opened = facts["ready_at"] if pd.notna(facts["ready_at"]) else facts["created_at"]
    events = [{"__typename": "ReadyForReviewEvent", "createdAt": iso(opened)}]
    own = iso(pd.Timestamp(opened) + pd.Timedelta(minutes=1))
    events.append(_review(own, "COMMENTED", item.author))
    if pd.notna(facts["first_review_at"]):
        events.append(_review(iso(facts["first_review_at"]), "APPROVED", "reviewer"))
    return [e for e in events if item.merged_at is None or e["createdAt"] < item.merged_at]


def _review(at: str, state: str, login: str) -> dict:
    author = {"__typename": "User", "login": login}
    return {"__typename": "PullRequestReview", "createdAt": at, "submittedAt": at,
            "state": state, "author": author}  # fmt: skip


def _deployments(repo: FakeRepo, data: FlowData, numbers: dict[str, int]) -> None:
    pulls = {n: i for n, i in ((numbers[k], repo.items[numbers[k]]) for k in numbers) if i.is_pull}
    merged = sorted(
        ((item.merged_at, number) for number, item in pulls.items() if item.merged_at),
    )
    deploys = data.deployments.sort_values("deployed_at", kind="stable")
    shipped = data.shipped.groupby("deploy_id")["item_id"].apply(list).to_dict()
    committed: set[int] = set()
    pending = list(merged)
    count = 0
    for n, row in enumerate(deploys.itertuples(index=False), start=1):
        at = iso(row.deployed_at)
        prod = row.environment == "production"
        if prod:
            if row.deploy_id in shipped:
                wanted = [numbers[i] for i in shipped[row.deploy_id] if numbers.get(i) in pulls]
            else:
                wanted = [num for when, num in pending if when <= at]
            for num in wanted:
                if num not in committed:
                    repo.commits.append(FakeCommit(oid=sha(f"{repo.full_name}#{num}"), pull=num))
                    committed.add(num)
            pending = [(w, num) for w, num in pending if num not in committed]
            if not wanted or repo.commits == []:
                repo.commits.append(FakeCommit(oid=sha(f"{repo.full_name}@{row.deploy_id}")))
        head = repo.commits[-1].oid if repo.commits else sha(f"{repo.full_name}@{row.deploy_id}")
        start = iso(pd.Timestamp(row.deployed_at) - pd.Timedelta(minutes=4))
        outcome = "SUCCESS" if row.status == "success" else "FAILURE"
        repo.deployments.append(
            FakeDeployment(
                database_id=1000 + n,
                sha=head,
                created_at=start,
                environment=row.environment,
                statuses=[("QUEUED", start), ("IN_PROGRESS", start), (outcome, at)],
            )
        )
        if prod:
            count += 1
            if row.status == "success":
                repo.releases.append(
                    FakeRelease(
                        database_id=5000 + n,
                        tag=str(row.version) or f"v1.{count}.0",
                        created_at=start,
                        published_at=at,
                        sha=head,
                    )
                )
            repo.runs.append(
                FakeRun(
                    id=90000 + n,
                    run_number=count,
                    head_sha=head,
                    head_branch="main",
                    created_at=start,
                    updated_at=at,
                    conclusion=row.status,
                )
            )
