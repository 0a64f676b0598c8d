"""Deployments of a repository (Deployments API, releases or workflow runs) and what they shipped.

A deployment's outcome: the Deployments API's statuses (any SUCCESS -> success, a latest FAILURE
or ERROR -> failure, still queued or running -> not yet counted); a release is a success when
published (drafts never count, pre-releases only with `prereleases = true`); a workflow run's
conclusion (success, or failure / timed_out). What each one shipped is read from the history of
its commit back to the previous successful deployment's commit, in one batched GraphQL request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from connectors.github.client import GithubClient
from connectors.github.queries import commit_ranges_query
from connectors.github.settings import GithubSettings

RANGE_BATCH = 50
"""Deployed commits whose history is read in one GraphQL request."""


@dataclass(frozen=True)
class Deployment:
    deploy_id: str
    deployed_at: str
    environment: str
    status: str
    version: str
    sha: str


def from_deployment_nodes(
    nodes: list[dict[str, Any]], settings: GithubSettings, quality: Counter
) -> list[Deployment]:
    out = []
    for node in nodes:
        statuses = sorted(
            ((node.get("statuses") or {}).get("nodes") or []), key=lambda s: s["createdAt"]
        )
        success = [s for s in statuses if s["state"] == "SUCCESS"]
        if success:
            status, at = "success", success[0]["createdAt"]
        elif statuses and statuses[-1]["state"] in ("FAILURE", "ERROR"):
            status, at = "failure", statuses[-1]["createdAt"]
        else:
            quality["deployment_not_finished"] += 1
            continue
        sha = node.get("commitOid") or ""
        out.append(
            Deployment(
                deploy_id=f"github:{settings.repo}/deployments/{node['databaseId']}",
                deployed_at=at,
                environment=node.get("environment") or settings.environment,
                status=status,
                version=((node.get("ref") or {}).get("name") or sha[:7]),
                sha=sha,
            )
        )
    return out


def from_release_nodes(
    nodes: list[dict[str, Any]], settings: GithubSettings, quality: Counter
) -> list[Deployment]:
    out = []
    for node in nodes:
        if node.get("isDraft") or not node.get("publishedAt"):
            continue
        if node.get("isPrerelease") and not settings.prereleases:
            quality["prerelease_skipped"] += 1
            continue
        out.append(
            Deployment(
                deploy_id=f"github:{settings.repo}/releases/{node['tagName']}",
                deployed_at=node["publishedAt"],
                environment=settings.environment,
                status="success",
                version=node["tagName"],
                sha=((node.get("tagCommit") or {}).get("oid") or ""),
            )
        )
    return out


def fetch_workflow_runs(
    client: GithubClient, since: pd.Timestamp | None, quality: Counter
) -> list[Deployment]:
    """Completed runs of the workflow file on the branch, newest first, through PyGithub."""
    settings = client.settings
    repo = client.github.withLazy(True).get_repo(settings.repo)
    workflow = repo.get_workflow(settings.workflow)
    kwargs: dict[str, Any] = {"branch": settings.branch, "status": "completed"}
    if since is not None:
        # a run created a little before the cursor may have finished after it
        start = (since - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        kwargs["created"] = f">={start}"
    out = []
    # Only attributes of the listed payload are read: `raw_data` would refetch every run.
    for run in workflow.get_runs(**kwargs):
        if run.conclusion == "success":
            status = "success"
        elif run.conclusion in ("failure", "timed_out"):
            status = "failure"
        else:
            quality["workflow_run_skipped"] += 1
            continue
        finished = run.updated_at or run.created_at
        out.append(
            Deployment(
                deploy_id=f"github:{settings.repo}/runs/{run.id}",
                deployed_at=pd.Timestamp(finished).tz_convert("UTC").isoformat()
                if pd.Timestamp(finished).tzinfo
                else pd.Timestamp(finished, tz="UTC").isoformat(),
                environment=settings.environment,
                status=status,
                version=f"run {run.run_number}",
                sha=run.head_sha or "",
            )
        )
    return out


def shipped_pulls(
    client: GithubClient,
    deployments: list[Deployment],
    since: pd.Timestamp | None,
    quality: Counter,
) -> list[tuple[str, int]]:
    """(deploy_id, pull request number) for each successful deployment newer than `since`.

    Its range is the commits from its own commit back to the previous successful deployment's
    commit; a range longer than 100 commits is not read (counted as `shipped_range_unknown`,
    and the metrics then fall back to delivery times).
    """
    ok = sorted(
        (d for d in deployments if d.status == "success" and d.sha),
        key=lambda d: pd.Timestamp(d.deployed_at),
    )
    wanted = []
    for previous, current in zip(ok, ok[1:], strict=False):
        is_new = since is None or pd.Timestamp(current.deployed_at) >= since
        if is_new and current.sha != previous.sha:
            wanted.append((current, previous.sha))
    pairs: list[tuple[str, int]] = []
    settings = client.settings
    for start in range(0, len(wanted), RANGE_BATCH):
        batch = wanted[start : start + RANGE_BATCH]
        variables: dict[str, Any] = {"owner": settings.owner, "name": settings.name}
        for i, (deployment, _) in enumerate(batch):
            variables[f"oid{i}"] = deployment.sha
        data = client.graphql(commit_ranges_query(len(batch)), variables)
        repository = data.get("repository") or {}
        for i, (deployment, stop_sha) in enumerate(batch):
            commits = ((repository.get(f"c{i}") or {}).get("history") or {}).get("nodes") or []
            numbers: list[int] = []
            for commit in commits:
                if commit["oid"] == stop_sha:
                    break
                for pull in (commit.get("associatedPullRequests") or {}).get("nodes") or []:
                    if pull.get("merged") and pull["number"] not in numbers:
                        numbers.append(pull["number"])
            else:
                quality["shipped_range_unknown"] += 1
                continue
            pairs.extend((deployment.deploy_id, n) for n in numbers)
    return pairs
