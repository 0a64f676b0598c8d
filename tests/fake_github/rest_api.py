"""The fake REST endpoints the connector and `flowdeck init github` use, in GitHub's shapes
(see ../shared/data/api-samples/github-*.jsonl), with real `Link` pagination."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.fake_github.world import FakeRepo, FakeRun, node_id


def _user(base: str, login: str = "octocat") -> dict[str, Any]:
    return {
        "login": login,
        "id": 1,
        "node_id": node_id("U", login),
        "url": f"{base}/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def repo_json(base: str, repo: FakeRepo) -> dict[str, Any]:
    return {
        "id": abs(hash(repo.full_name)) % 10**8,
        "node_id": node_id("R", repo.full_name),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": False,
        "owner": _user(base, repo.owner),
        "html_url": f"https://github.com/{repo.full_name}",
        "url": f"{base}/repos/{repo.full_name}",
        "default_branch": "main",
        "has_issues": True,
        "has_projects": True,
    }


def _workflow_json(base: str, repo: FakeRepo) -> dict[str, Any]:
    return {
        "id": 161335,
        "node_id": node_id("W", repo.workflow_file),
        "name": "Deploy",
        "path": f".github/workflows/{repo.workflow_file}",
        "state": "active",
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": "2024-01-01T00:00:00.000Z",
        "url": f"{base}/repos/{repo.full_name}/actions/workflows/161335",
        "html_url": f"https://github.com/{repo.full_name}/blob/main/.github/workflows/{repo.workflow_file}",
        "badge_url": f"https://github.com/{repo.full_name}/workflows/Deploy/badge.svg",
    }


def _run_json(base: str, repo: FakeRepo, run: FakeRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": "Deploy",
        "node_id": node_id("WFR", str(run.id)),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": f".github/workflows/{repo.workflow_file}",
        "run_number": run.run_number,
        "event": "push",
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": 161335,
        "check_suite_id": run.id + 1,
        "url": f"{base}/repos/{repo.full_name}/actions/runs/{run.id}",
        "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "run_attempt": 1,
        "run_started_at": run.created_at,
        "jobs_url": f"{base}/repos/{repo.full_name}/actions/runs/{run.id}/jobs",
        "logs_url": f"{base}/repos/{repo.full_name}/actions/runs/{run.id}/logs",
        "workflow_url": f"{base}/repos/{repo.full_name}/actions/workflows/161335",
        "head_commit": {"id": run.head_sha, "tree_id": run.head_sha, "message": "deploy"},
        "repository": {"id": 1, "name": repo.name, "full_name": repo.full_name},
    }


def paginate(base: str, path: str, query: dict[str, list[str]], rows: list):
    """One page of `rows` and its `Link` header, as GitHub pages REST lists."""
    per_page = min(int(query.get("per_page", ["30"])[0]), 100)
    page = max(int(query.get("page", ["1"])[0]), 1)
    last = max((len(rows) + per_page - 1) // per_page, 1)
    chunk = rows[(page - 1) * per_page : page * per_page]
    links = []

    def url(p: int) -> str:
        params = {k: v[0] for k, v in query.items()}
        params.update({"per_page": str(per_page), "page": str(p)})
        return f"{base}{path}?{urlencode(params)}"

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _created_filter(runs: list[FakeRun], created: str | None) -> list[FakeRun]:
    if not created:
        return runs
    if created.startswith(">="):
        return [r for r in runs if r.created_at >= created[2:]]
    return runs


def answer(server, base: str, path: str, raw_query: str):
    """(status, body, extra headers) for a GET below the API prefix."""
    query = parse_qs(raw_query)
    match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
    if not match:
        return (
            404,
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            {},
        )
    repo = server.repos.get(f"{match[1]}/{match[2]}".lower())
    rest = match[3] or ""
    if repo is None:
        return (
            404,
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            {},
        )
    if rest == "":
        return 200, repo_json(base, repo), {}
    if rest == "/labels":
        labels = [
            {
                "id": i + 1,
                "node_id": node_id("LA", name),
                "url": f"{base}/repos/{repo.full_name}/labels/{name}",
                "name": name,
                "color": "ededed",
                "default": False,
                "description": None,
            }
            for i, name in enumerate(repo.all_labels())
        ]
        rows, headers = paginate(base, path, query, labels)
        return 200, rows, headers
    workflow = re.fullmatch(r"/actions/workflows/([^/]+)(/runs)?", rest)
    if workflow and workflow[1] in (repo.workflow_file, "161335"):
        if not workflow[2]:
            return 200, _workflow_json(base, repo), {}
        runs = sorted(repo.runs, key=lambda r: r.created_at, reverse=True)
        branch = query.get("branch", [None])[0]
        status = query.get("status", [None])[0]
        runs = [r for r in runs if branch is None or r.head_branch == branch]
        if status == "completed":
            runs = [r for r in runs if r.status == "completed"]
        elif status in ("success", "failure"):
            runs = [r for r in runs if r.conclusion == status]
        runs = _created_filter(runs, query.get("created", [None])[0])
        rows, headers = paginate(base, path, query, [_run_json(base, repo, r) for r in runs])
        return 200, {"total_count": len(runs), "workflow_runs": rows}, headers
    return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
