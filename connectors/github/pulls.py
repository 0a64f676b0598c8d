"""The facts of a pull request that spec section 8 needs, read from the same GraphQL page as its
history: when it was created, when a draft became ready for review, its first commit's authored
time, the first review submitted by someone other than its author, and the merge."""

from __future__ import annotations

from typing import Any


def _login(node: dict[str, Any] | None) -> str:
    return ((node or {}).get("login") or "").casefold()


def pull_request_facts(node: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of the canonical `pull_requests` frame (times as GitHub's ISO texts or None).

    Ready for review is the first `ReadyForReviewEvent` (a pull request opened as a draft); a
    review counts when it was submitted (not pending) by someone other than the author: the
    author's own comments on their pull request are not a pickup. A review without a known author
    (a deleted account) counts, since it cannot be the author's."""
    author = _login(node.get("author"))
    ready = [e["createdAt"] for e in timeline if e.get("__typename") == "ReadyForReviewEvent"]
    reviews = [
        e.get("submittedAt") or e.get("createdAt")
        for e in timeline
        if e.get("__typename") == "PullRequestReview"
        and e.get("state") != "PENDING"
        and (not author or _login(e.get("author")) != author)
    ]
    commits = ((node.get("commits") or {}).get("nodes") or [])[:1]
    first_commit = ((commits[0] or {}).get("commit") or {}).get("authoredDate") if commits else None
    return {
        "created_at": node.get("createdAt"),
        "ready_at": min(ready) if ready else None,
        "first_commit_at": first_commit,
        "first_review_at": min(r for r in reviews if r) if any(reviews) else None,
        "merged_at": node.get("mergedAt"),
    }
