"""The fake `/graphql` endpoint: every query is validated against GitHub's published schema and
executed by graphql-core over the fake world, so field names, argument names and types, enum
values and fragment spreads are checked exactly as GitHub would.

Connections page with opaque cursors that encode the sort key of the last node returned
(like GitHub's), so a page boundary stays correct when items change between requests.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError, build_schema, execute, parse, validate

from tests.fake_github.world import FakeItem, FakeRepo, node_id

# octokit's schema (MIT) and the Projects v2 extension, kept in the repository: see SOURCE.md there.
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_FILES = (SCHEMA_DIR / "schema.graphql", SCHEMA_DIR / "projects-v2-timeline.graphql")

TIMELINE_TYPES = {
    "LABELED_EVENT": "LabeledEvent",
    "UNLABELED_EVENT": "UnlabeledEvent",
    "CLOSED_EVENT": "ClosedEvent",
    "REOPENED_EVENT": "ReopenedEvent",
    "ASSIGNED_EVENT": "AssignedEvent",
    "CONNECTED_EVENT": "ConnectedEvent",
    "CROSS_REFERENCED_EVENT": "CrossReferencedEvent",
    "ADDED_TO_PROJECT_V2_EVENT": "AddedToProjectV2Event",
    "REMOVED_FROM_PROJECT_V2_EVENT": "RemovedFromProjectV2Event",
    "PROJECT_V2_ITEM_STATUS_CHANGED_EVENT": "ProjectV2ItemStatusChangedEvent",
    "PULL_REQUEST_REVIEW": "PullRequestReview",
    "READY_FOR_REVIEW_EVENT": "ReadyForReviewEvent",
    "MERGED_EVENT": "MergedEvent",
}


def schema_available() -> bool:
    return all(p.is_file() for p in SCHEMA_FILES)


@lru_cache(maxsize=1)
def github_schema():
    sdl = "\n".join(p.read_text(encoding="utf-8") for p in SCHEMA_FILES)
    schema = build_schema(sdl, assume_valid_sdl=True)
    # The published SDL breaks a few of graphql-core's own schema rules; validate queries only.
    schema._validation_errors = []
    return schema


@lru_cache(maxsize=64)
def _checked(query: str):
    """The parsed query and its validation errors against the schema (same text, same answer)."""
    document = parse(query)
    return document, tuple(e.message for e in validate(github_schema(), document))


class NotFound(Exception):
    pass


def _cursor(key: Any) -> str:
    return base64.b64encode(("cursor:v2:" + json.dumps(key)).encode()).decode()


def _uncursor(cursor: str) -> Any:
    try:
        text = base64.b64decode(cursor.encode()).decode()
        return json.loads(text.removeprefix("cursor:v2:"))
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from None


def connection(
    nodes: list, first: int | None, after: str | None, key=None, descending=False, build=None
):
    """A GitHub-style connection page of `nodes` (already in order; `build` turns the nodes of
    the page into GraphQL objects)."""
    if first is not None and not 0 <= first <= 100:
        raise GraphQLError(
            f"Requesting {first} records on the connection exceeds the `first` limit of 100"
        )
    key = key or (lambda node, i: i)
    keyed = [(key(node, i), node) for i, node in enumerate(nodes)]
    if after is not None:
        mark = _t(_uncursor(after))
        keyed = [(k, n) for k, n in keyed if (_t(k) < mark if descending else _t(k) > mark)]
    size = 100 if first is None else first
    page = keyed[:size]
    if build is not None:
        page = [(k, build(n)) for k, n in page]
    return {
        "totalCount": len(nodes),
        "nodes": [n for _, n in page],
        "edges": [{"cursor": _cursor(k), "node": n} for k, n in page],
        "pageInfo": {
            "hasNextPage": len(keyed) > size,
            "hasPreviousPage": after is not None,
            "endCursor": _cursor(page[-1][0]) if page else None,
            "startCursor": _cursor(page[0][0]) if page else None,
        },
    }


def _t(key):
    return tuple(key) if isinstance(key, list) else key


class GraphqlApi:
    def __init__(self, server) -> None:
        self.server = server

    # --- objects -------------------------------------------------------------------------------
    def _project(self, repo: FakeRepo) -> dict[str, Any] | None:
        project = repo.project
        if project is None:
            return None
        options = [
            {"__typename": "ProjectV2SingleSelectFieldOption", "name": o, "id": f"opt{i}"}
            for i, o in enumerate(project.options)
        ]

        def field(info, name):
            if name != project.field_name:
                return None
            return {
                "__typename": "ProjectV2SingleSelectField",
                "id": node_id("PVTSSF", project.id),
                "name": name,
                "options": lambda info, names=None: [
                    o for o in options if names is None or o["name"] in names
                ],
            }

        return {
            "__typename": "ProjectV2",
            "id": project.id,
            "number": project.number,
            "title": project.title,
            "field": field,
        }

    def _item(self, repo: FakeRepo, item: FakeItem) -> dict[str, Any]:
        kind = "PullRequest" if item.is_pull else "Issue"
        base = f"https://github.com/{repo.full_name}"
        url = f"{base}/{'pull' if item.is_pull else 'issues'}/{item.number}"
        project = self._project(repo)

        def timeline(info, first=None, after=None, itemTypes=None, since=None, **_):  # noqa: N803
            wanted = {TIMELINE_TYPES[t] for t in itemTypes} if itemTypes else None
            nodes = [
                e
                for e in item.timeline
                if (wanted is None or e["__typename"] in wanted)
                and (since is None or e["createdAt"] >= since)
            ]
            nodes = [{**e, "project": project} if "project" in e and project else e for e in nodes]
            return connection(nodes, first, after)

        def project_items(info, first=None, after=None, **_):
            nodes = []
            if item.on_board and project is not None:
                value = None
                if item.board_status is not None:
                    value = {
                        "__typename": "ProjectV2ItemFieldSingleSelectValue",
                        "name": item.board_status,
                        "updatedAt": item.board_status_set_at or item.board_added_at,
                    }
                nodes.append(
                    {
                        "__typename": "ProjectV2Item",
                        "createdAt": item.board_added_at or item.created_at,
                        "isArchived": False,
                        "project": project,
                        "fieldValueByName": lambda info, name, v=value: (
                            v if name == repo.project.field_name else None
                        ),
                    }
                )
            return connection(nodes, first, after)

        return {
            "__typename": kind,
            "id": node_id("PR" if item.is_pull else "I", f"{repo.full_name}#{item.number}"),
            "number": item.number,
            "title": item.title,
            "url": url,
            "createdAt": item.created_at,
            "updatedAt": item.updated_at,
            "closedAt": item.closed_at,
            "mergedAt": item.merged_at,
            "state": item.state,
            "isDraft": False,
            "additions": item.additions,
            "deletions": item.deletions,
            "changedFiles": item.changed_files,
            "author": {"__typename": "User", "login": item.author},
            "commits": lambda info, first=None, after=None, **_: connection(
                [{"commit": {"authoredDate": item.first_commit_at}}]
                if item.first_commit_at
                else [],
                first,
                after,
            ),
            "labels": lambda info, first=None, after=None, **_: connection(
                [{"name": n} for n in item.labels], first, after
            ),
            "projectItems": project_items,
            "timelineItems": timeline,
        }

    def _commit(self, repo: FakeRepo, index: int) -> dict[str, Any]:
        commit = repo.commits[index]

        def history(info, first=None, after=None, **_):
            nodes = [self._commit(repo, i) for i in range(index, -1, -1)]
            return connection(nodes, first, after)

        def pulls(info, first=None, after=None, **_):
            nodes = [] if commit.pull is None else [{"number": commit.pull, "merged": True}]
            return connection(nodes, first, after)

        return {
            "__typename": "Commit",
            "oid": commit.oid,
            "history": history,
            "associatedPullRequests": pulls,
        }

    def _repository(self, repo: FakeRepo) -> dict[str, Any]:
        def issues(info, first=None, after=None, filterBy=None, orderBy=None, **_):  # noqa: N803
            return self._items(repo, False, first, after, filterBy, orderBy)

        def pulls(info, first=None, after=None, orderBy=None, **_):  # noqa: N803
            return self._items(repo, True, first, after, None, orderBy)

        def deployments(info, first=None, after=None, environments=None, orderBy=None, **_):  # noqa: N803
            chosen = [
                d for d in repo.deployments if not environments or d.environment in environments
            ]
            descending = (orderBy or {}).get("direction") == "DESC"
            chosen.sort(key=lambda d: (d.created_at, d.database_id), reverse=descending)
            nodes = [
                {
                    "databaseId": d.database_id,
                    "commitOid": d.sha,
                    "createdAt": d.created_at,
                    "environment": d.environment,
                    "ref": {"name": d.ref},
                    "statuses": lambda info, first=None, after=None, d=d, **_: connection(
                        # GitHub lists a deployment's statuses newest first
                        [{"state": s, "createdAt": t} for s, t in reversed(d.statuses)],
                        first,
                        after,
                    ),
                }
                for d in chosen
            ]
            return connection(
                nodes,
                first,
                after,
                key=lambda n, i: [n["createdAt"], n["databaseId"]],
                descending=descending,
            )

        def releases(info, first=None, after=None, orderBy=None, **_):  # noqa: N803
            descending = (orderBy or {}).get("direction") == "DESC"
            chosen = sorted(
                repo.releases, key=lambda r: (r.created_at, r.database_id), reverse=descending
            )
            nodes = [
                {
                    "databaseId": r.database_id,
                    "tagName": r.tag,
                    "name": r.tag,
                    "createdAt": r.created_at,
                    "publishedAt": r.published_at,
                    "isDraft": r.draft,
                    "isPrerelease": r.prerelease,
                    "tagCommit": {"oid": r.sha},
                }
                for r in chosen
            ]
            return connection(
                nodes,
                first,
                after,
                key=lambda n, i: [n["createdAt"], n["databaseId"]],
                descending=descending,
            )

        def git_object(info, oid=None, expression=None):
            for i, commit in enumerate(repo.commits):
                if commit.oid == (oid or expression):
                    return self._commit(repo, i)
            return None

        return {
            "__typename": "Repository",
            "id": node_id("R", repo.full_name),
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "issues": issues,
            "pullRequests": pulls,
            "deployments": deployments,
            "releases": releases,
            "object": git_object,
            "projectV2": lambda info, number: (
                self._project(repo) if repo.project and repo.project.number == number else None
            ),
        }

    def _items(self, repo, is_pull, first, after, filter_by, order_by):
        chosen = [i for i in repo.items.values() if i.is_pull == is_pull]
        since = (filter_by or {}).get("since")
        if since:
            chosen = [i for i in chosen if i.updated_at >= since]
        field_name = (order_by or {}).get("field", "CREATED_AT")
        descending = (order_by or {}).get("direction") == "DESC"
        attr = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"}.get(
            field_name, "created_at"
        )
        chosen.sort(key=lambda i: (getattr(i, attr), i.number), reverse=descending)
        return connection(
            chosen,
            first,
            after,
            key=lambda item, i: [getattr(item, attr), item.number],
            descending=descending,
            build=lambda item: self._item(repo, item),
        )

    # --- root ----------------------------------------------------------------------------------
    def root(self) -> dict[str, Any]:
        server = self.server

        def repository(info, owner, name, **_):
            repo = server.repos.get(f"{owner}/{name}".lower())
            if repo is None:
                raise NotFound(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
            return self._repository(repo)

        def repository_owner(info, login):
            repos = [r for r in server.repos.values() if r.owner.lower() == login.lower()]
            if not repos:
                raise NotFound(
                    f"Could not resolve to a RepositoryOwner with the login of '{login}'."
                )

            def project_v2(info, number):
                for repo in repos:
                    if repo.project and repo.project.number == number:
                        return self._project(repo)
                raise NotFound(f"Could not resolve to a ProjectV2 with the number {number}.")

            return {"__typename": "Organization", "login": login, "projectV2": project_v2}

        def node(info, id):  # noqa: A002
            for repo in server.repos.values():
                for item in repo.items.values():
                    prefix = "PR" if item.is_pull else "I"
                    if node_id(prefix, f"{repo.full_name}#{item.number}") == id:
                        return self._item(repo, item)
            raise NotFound(f"Could not resolve to a node with the global id of '{id}'")

        return {"repository": repository, "repositoryOwner": repository_owner, "node": node}

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        query = body.get("query")
        if not isinstance(query, str):
            return 400, {"message": "A query attribute must be specified and must be a string."}
        try:
            document, errors = _checked(query)
        except GraphQLError as exc:
            return 200, {"errors": [{"message": exc.message, "type": "PARSE_ERROR"}]}
        if errors:
            self.server.invalid_queries.append((query, errors))
            return 200, {"errors": [{"message": e, "locations": []} for e in errors]}
        schema = github_schema()
        result = execute(
            schema, document, root_value=self.root(), variable_values=body.get("variables")
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            out = []
            for err in result.errors:
                entry = {"message": err.message, "path": err.path}
                if isinstance(err.original_error, NotFound):
                    entry["type"] = "NOT_FOUND"
                elif err.original_error is not None and not isinstance(
                    err.original_error, GraphQLError
                ):
                    # a bug in the fake itself: make it loud in the test, not a silent retry
                    self.server.fake_errors.append(repr(err.original_error))
                    return 500, {"message": f"fake GitHub bug: {err.original_error!r}"}
                out.append(entry)
            payload["errors"] = out
        return 200, payload
