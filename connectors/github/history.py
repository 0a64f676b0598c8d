"""One issue or pull request (a GraphQL node with its whole timeline) -> raw status history.

Pure functions: no I/O. Statuses are GitHub's own words (Status option names, label names
without their prefix, Open / In progress / Closed, Open / In review / Merged); only the workflow
file maps them to stages. Times stay as GitHub sent them (UTC, `Z`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

from connectors.github.settings import GithubSettings

NO_STATUS = "No Status"
"""What GitHub's board calls an item whose Status is empty."""
REMOVED = "Removed from project"
"""The status of an item taken off the board (list it under `discarded` to drop it)."""


@dataclass
class History:
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(changed_at, event, status) in the order they happened."""
    quality: Counter = field(default_factory=Counter)

    def status(self, at: str, status: str) -> None:
        self.events.append((at, "status", status))

    @property
    def last_status(self) -> str | None:
        for _, event, status in reversed(self.events):
            if event == "status":
                return status
        return None

    @property
    def last_time(self) -> str | None:
        return self.events[-1][0] if self.events else None


def timeline_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [n for n in (node.get("timelineItems") or {}).get("nodes") or [] if n]
    # GitHub lists the timeline oldest first; a stable sort keeps same-instant order.
    return sorted(nodes, key=lambda n: n.get("createdAt") or "")


def _label(event: dict[str, Any]) -> str:
    return ((event.get("label") or {}).get("name") or "").strip()


def item_type(node: dict[str, Any], settings: GithubSettings, is_pull: bool) -> str:
    wanted = {k.strip().casefold(): v for k, v in settings.type_labels.items()}
    for label in node_labels(node):
        if label.casefold() in wanted:
            return wanted[label.casefold()]
    return "Pull request" if is_pull else "Issue"


def node_labels(node: dict[str, Any]) -> list[str]:
    return [n["name"] for n in (node.get("labels") or {}).get("nodes") or [] if n]


def _blocked(history: History, timeline: list[dict[str, Any]], settings: GithubSettings) -> None:
    """Blocked spells: from the first blocked label added to the last one removed.

    A label `blocked:REASON` (a blocked label, a colon, a reason) also blocks; the spell's
    `blocked` event carries REASON in its status field, which the blockers view groups by."""
    wanted = {b.strip().casefold() for b in settings.blocked_labels}
    active: set[str] = set()
    for event in timeline:
        kind = event.get("__typename")
        label = _label(event)
        name = label.casefold()
        head, colon, reason = label.partition(":")
        if kind not in ("LabeledEvent", "UnlabeledEvent"):
            continue
        if name not in wanted and not (colon and head.strip().casefold() in wanted):
            continue
        if kind == "LabeledEvent":
            if not active:
                history.events.append((event["createdAt"], "blocked", reason.strip()))
            active.add(name)
        elif name in active:
            active.discard(name)
            if not active:
                history.events.append((event["createdAt"], "unblocked", ""))


def _state_issue(node: dict[str, Any], timeline: list[dict[str, Any]]) -> History:
    history = History()
    history.status(node["createdAt"], "Open")
    started = closed = False
    for event in timeline:
        kind, at = event.get("__typename"), cast(str, event.get("createdAt"))
        linked_pull = kind == "ConnectedEvent" or (
            kind == "CrossReferencedEvent"
            and (event.get("source") or {}).get("__typename") == "PullRequest"
            and event.get("willCloseTarget")
        )
        if kind == "AssignedEvent" or linked_pull:
            if not started and not closed:
                history.status(at, "In progress")
            started = True
        elif kind == "ClosedEvent" and not closed:
            history.status(at, "Closed")
            closed = True
        elif kind == "ReopenedEvent" and closed:
            history.status(at, "In progress" if started else "Open")
            closed = False
    return history


def _state_pull(node: dict[str, Any], timeline: list[dict[str, Any]]) -> History:
    history = History()
    history.status(node["createdAt"], "Open")
    merged_at = node.get("mergedAt")
    reviewed = closed = False
    for event in timeline:
        kind, at = event.get("__typename"), cast(str, event.get("createdAt"))
        if merged_at and at and at >= merged_at:
            break
        if kind == "PullRequestReview" and event.get("state") != "PENDING":
            if not reviewed and not closed:
                history.status(event.get("submittedAt") or at, "In review")
            reviewed = True
        elif kind == "ClosedEvent" and not closed:
            history.status(at, "Closed")
            closed = True
        elif kind == "ReopenedEvent" and closed:
            history.status(at, "In review" if reviewed else "Open")
            closed = False
    if merged_at:
        history.status(merged_at, "Merged")
    return history


def _labels(
    node: dict[str, Any], timeline: list[dict[str, Any]], settings: GithubSettings
) -> History:
    history = History()
    history.status(node["createdAt"], "Open")
    prefix = settings.label_prefix.strip().casefold()
    present: list[str] = []  # prefixed status labels on the item, in the order added
    closed = False
    for event in timeline:
        kind, at = event.get("__typename"), cast(str, event.get("createdAt"))
        label = _label(event)
        if kind in ("LabeledEvent", "UnlabeledEvent") and label.casefold().startswith(prefix):
            status = label[len(prefix) :].strip()
            if not status:
                continue
            if kind == "LabeledEvent":
                if status in present:
                    present.remove(status)
                present.append(status)
                if not closed:
                    history.status(at, status)
            elif status in present:
                was_current = present[-1] == status
                present.remove(status)
                if was_current and present and not closed:
                    history.status(at, present[-1])
        elif kind == "ClosedEvent" and not closed:
            history.status(at, "Closed")
            closed = True
        elif kind == "ReopenedEvent" and closed:
            history.status(at, present[-1] if present else "Open")
            closed = False
    return history


def board_snapshot(node: dict[str, Any], project_id: str) -> dict[str, Any] | None:
    """This board's project item of the node (current Status and when it was set), if any."""
    for item in (node.get("projectItems") or {}).get("nodes") or []:
        if item and (item.get("project") or {}).get("id") == project_id:
            return item
    return None


def _project(
    node: dict[str, Any], timeline: list[dict[str, Any]], project_id: str, sync_time: str
) -> History | None:
    ours = [e for e in timeline if ((e.get("project") or {}).get("id") == project_id)]
    snapshot = board_snapshot(node, project_id)
    if not ours and snapshot is None:
        return None  # never on this board
    history = History()
    changes = [e for e in ours if e.get("__typename") == "ProjectV2ItemStatusChangedEvent"]
    for event in ours:
        kind, at = event.get("__typename"), event["createdAt"]
        if kind == "AddedToProjectV2Event":
            # The Status it had when added is the `previousStatus` of the next change, if any.
            later = [c for c in changes if c["createdAt"] >= at]
            if later and later[0].get("previousStatus"):
                history.status(at, later[0]["previousStatus"])
        elif kind == "RemovedFromProjectV2Event":
            history.status(at, REMOVED)
        elif kind == "ProjectV2ItemStatusChangedEvent":
            previous = event.get("previousStatus") or NO_STATUS
            known = history.last_status
            if known is not None and known != REMOVED and known != previous:
                history.quality["incomplete_timeline"] += 1
            history.status(at, event.get("status") or NO_STATUS)
    current = None
    if snapshot is not None:
        value = snapshot.get("fieldValueByName") or {}
        current = value.get("name") or NO_STATUS
    elif history.last_status not in (None, REMOVED):
        current = REMOVED
    if current is not None and current != history.last_status:
        # GitHub did not record this change: keep history building from the snapshot.
        last = history.last_time
        set_at = ((snapshot or {}).get("fieldValueByName") or {}).get("updatedAt")
        if set_at and (last is None or set_at >= last):
            at = set_at
        elif last is None and snapshot is not None:
            at = snapshot.get("createdAt") or sync_time
        else:
            at = max(sync_time, last or sync_time)
        history.status(at, current)
        history.quality["status_snapshot_fallback"] += 1
    return history


def item_history(
    node: dict[str, Any],
    settings: GithubSettings,
    is_pull: bool,
    project_id: str | None,
    sync_time: str,
) -> History | None:
    """The status and blocked events of one item, or None when it is not on the board."""
    timeline = timeline_of(node)
    if settings.status_from == "project":
        history = _project(node, timeline, project_id or "", sync_time)
        if history is None:
            return None
    elif settings.status_from == "labels":
        history = _labels(node, timeline, settings)
    elif is_pull:
        history = _state_pull(node, timeline)
    else:
        history = _state_issue(node, timeline)
    _blocked(history, timeline, settings)
    return history
