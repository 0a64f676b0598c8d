"""The GraphQL documents the connector sends (validated against GitHub's schema in tests).

One page request carries every list the sync still needs (issues, pull requests, the board's
Status field, deployments or releases), each with its own cursor, switched on and off with
`@include`, so a re-sync where nothing changed is a single request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics.errors import FlowdeckError

if TYPE_CHECKING:
    from connectors.github.settings import GithubSettings

TIMELINE_NODE = """
  __typename
  ... on LabeledEvent { createdAt label { name } }
  ... on UnlabeledEvent { createdAt label { name } }
  ... on ClosedEvent { createdAt }
  ... on ReopenedEvent { createdAt }
  ... on AssignedEvent { createdAt }
  ... on ConnectedEvent { createdAt subject { __typename } }
  ... on CrossReferencedEvent { createdAt willCloseTarget source { __typename } }
  ... on AddedToProjectV2Event { createdAt project { id } }
  ... on RemovedFromProjectV2Event { createdAt project { id } }
  ... on ProjectV2ItemStatusChangedEvent { createdAt previousStatus status project { id } }
"""

PULL_TIMELINE_NODE = (
    TIMELINE_NODE
    + """
  ... on PullRequestReview { createdAt submittedAt state author { login } }
  ... on ReadyForReviewEvent { createdAt }
  ... on MergedEvent { createdAt }
"""
)

ITEM_FIELDS = """
  id number title url createdAt updatedAt closedAt state
  labels(first: 50) { nodes { name } }
  projectItems(first: 20) @include(if: $withProject) {
    nodes {
      createdAt isArchived project { id }
      fieldValueByName(name: $statusField) {
        ... on ProjectV2ItemFieldSingleSelectValue { name updatedAt }
      }
    }
  }
"""

DEPLOYMENT_FIELDS = """
  databaseId commitOid createdAt environment
  ref { name }
  statuses(first: 10) { nodes { state createdAt } }
"""

PAGE_QUERY = f"""
query FlowdeckPage(
  $owner: String!, $name: String!, $pageSize: Int!,
  $withIssues: Boolean!, $issuesAfter: String, $since: DateTime,
  $issueTypes: [IssueTimelineItemsItemType!],
  $withPulls: Boolean!, $pullsAfter: String, $pullsDirection: OrderDirection!,
  $pullTypes: [PullRequestTimelineItemsItemType!],
  $withProject: Boolean!, $withBoard: Boolean!, $boardOwner: String!, $projectNumber: Int!,
  $statusField: String!,
  $withDeployments: Boolean!, $deploymentsAfter: String, $environments: [String!],
  $withReleases: Boolean!, $releasesAfter: String
) {{
  board: repositoryOwner(login: $boardOwner) @include(if: $withBoard) {{
    ... on ProjectV2Owner {{
      projectV2(number: $projectNumber) {{
        id title
        field(name: $statusField) {{
          __typename
          ... on ProjectV2SingleSelectField {{ options {{ name }} }}
        }}
      }}
    }}
  }}
  repository(owner: $owner, name: $name) {{
    nameWithOwner
    issues(first: $pageSize, after: $issuesAfter, filterBy: {{since: $since}},
           orderBy: {{field: UPDATED_AT, direction: ASC}}) @include(if: $withIssues) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {ITEM_FIELDS}
        timelineItems(first: 100, itemTypes: $issueTypes) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {TIMELINE_NODE} }}
        }}
      }}
    }}
    pullRequests(first: $pageSize, after: $pullsAfter,
                 orderBy: {{field: UPDATED_AT, direction: $pullsDirection}})
                 @include(if: $withPulls) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {ITEM_FIELDS}
        additions deletions changedFiles mergedAt isDraft
        author {{ login }}
        commits(first: 1) {{ nodes {{ commit {{ authoredDate }} }} }}
        timelineItems(first: 100, itemTypes: $pullTypes) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {PULL_TIMELINE_NODE} }}
        }}
      }}
    }}
    deployments(first: $pageSize, after: $deploymentsAfter, environments: $environments,
                orderBy: {{field: CREATED_AT, direction: DESC}}) @include(if: $withDeployments) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {DEPLOYMENT_FIELDS} }}
    }}
    releases(first: $pageSize, after: $releasesAfter,
             orderBy: {{field: CREATED_AT, direction: DESC}}) @include(if: $withReleases) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        databaseId tagName name createdAt publishedAt isDraft isPrerelease
        tagCommit {{ oid }}
      }}
    }}
  }}
}}
"""


def timeline_pages_query(count: int) -> str:
    """Next timeline pages of `count` issues or pull requests in one request (aliases n0..)."""
    params = ", ".join(f"$id{i}: ID!, $after{i}: String" for i in range(count))
    parts = []
    for i in range(count):
        parts.append(
            f"""
  n{i}: node(id: $id{i}) {{
    __typename
    ... on Issue {{
      timelineItems(first: 100, after: $after{i}, itemTypes: $issueTypes) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {TIMELINE_NODE} }}
      }}
    }}
    ... on PullRequest {{
      timelineItems(first: 100, after: $after{i}, itemTypes: $pullTypes) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {PULL_TIMELINE_NODE} }}
      }}
    }}
  }}"""
        )
    return (
        "query FlowdeckTimelines($issueTypes: [IssueTimelineItemsItemType!], "
        f"$pullTypes: [PullRequestTimelineItemsItemType!], {params}) {{{''.join(parts)}\n}}"
    )


def commit_ranges_query(count: int) -> str:
    """The recent history of `count` deployed commits, with the pull requests of each commit."""
    params = ", ".join(f"$oid{i}: GitObjectID!" for i in range(count))
    parts = []
    for i in range(count):
        parts.append(
            f"""
    c{i}: object(oid: $oid{i}) {{
      ... on Commit {{
        history(first: 100) {{
          nodes {{ oid associatedPullRequests(first: 5) {{ nodes {{ number merged }} }} }}
        }}
      }}
    }}"""
        )
    return (
        f"query FlowdeckShipped($owner: String!, $name: String!, {params}) {{\n"
        f"  repository(owner: $owner, name: $name) {{{''.join(parts)}\n  }}\n}}"
    )


BOARD_QUERY = """
query FlowdeckBoard($owner: String!, $number: Int!, $statusField: String!) {
  repositoryOwner(login: $owner) {
    ... on ProjectV2Owner {
      projectV2(number: $number) {
        id title
        field(name: $statusField) {
          __typename
          ... on ProjectV2SingleSelectField { options { name } }
        }
      }
    }
  }
}
"""

ISSUE_TYPES = {
    "project": [
        "ADDED_TO_PROJECT_V2_EVENT",
        "REMOVED_FROM_PROJECT_V2_EVENT",
        "PROJECT_V2_ITEM_STATUS_CHANGED_EVENT",
    ],
    "labels": ["CLOSED_EVENT", "REOPENED_EVENT"],
    "state": [
        "CLOSED_EVENT",
        "REOPENED_EVENT",
        "ASSIGNED_EVENT",
        "CONNECTED_EVENT",
        "CROSS_REFERENCED_EVENT",
    ],
}
PULL_EXTRA_TYPES = ["PULL_REQUEST_REVIEW", "CLOSED_EVENT", "REOPENED_EVENT"]
#: What pull-request flow (spec section 8) needs from a pull request's timeline in every mode.
PULL_FLOW_TYPES = ["PULL_REQUEST_REVIEW", "READY_FOR_REVIEW_EVENT"]


def timeline_types(status_from: str) -> tuple[list[str], list[str]]:
    """The timeline item types to ask for, for issues and for pull requests."""
    issue = ["LABELED_EVENT", "UNLABELED_EVENT", *ISSUE_TYPES[status_from]]
    pull = ["LABELED_EVENT", "UNLABELED_EVENT", *ISSUE_TYPES[status_from]]
    pull = [t for t in pull if t not in ("CONNECTED_EVENT", "CROSS_REFERENCED_EVENT")]
    if status_from == "state":
        pull += [t for t in PULL_EXTRA_TYPES if t not in pull]
    pull += [t for t in PULL_FLOW_TYPES if t not in pull]
    return issue, pull


def board_project(settings: GithubSettings, board: dict[str, Any] | None) -> dict[str, Any]:
    """The board (Projects v2) of the source, checked to have its single-select Status field."""
    project = (board or {}).get("projectV2")
    if not project:
        raise FlowdeckError(
            f"{settings.repo}: project {settings.project} of '{settings.board_owner}' not found "
            "(check `project` and `project_owner`, and that the token can read projects)"
        )
    field = project.get("field") or {}
    if field.get("__typename") != "ProjectV2SingleSelectField":
        raise FlowdeckError(
            f"{settings.repo}: project {settings.project} ('{project.get('title')}') has no "
            f"single-select field named '{settings.status_field}' (set `status_field`)"
        )
    return project
