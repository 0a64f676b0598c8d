"""Raw Jira issues (with complete histories) -> the canonical items and events frames.

Statuses stay Jira's own names (any language); only the workflow maps them to stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from connectors.jira.cursor import parse_jira_time
from connectors.jira.flag_reasons import embedded_comments, match_reasons, who
from metrics.frames import conform_events, conform_items, empty_events, empty_items

STATUS_FIELD = "status"


@dataclass(frozen=True)
class BlockSignals:
    """What marks an issue blocked: the flag field (by id, and by name for old DC changelogs
    whose items carry no fieldId) and optional labels."""

    flag_id: str | None = None
    flag_name: str | None = None
    labels: frozenset[str] = frozenset()

    def is_flag(self, item: Mapping[str, Any]) -> bool:
        if self.flag_id is None:
            return False
        if item.get("fieldId"):
            return item["fieldId"] == self.flag_id
        return (item.get("field") or "").casefold() == (self.flag_name or "").casefold()


def item_id(key: str) -> str:
    return f"jira:{key}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _labels(text: str | None) -> set[str]:
    return set(_text(text).split())


def _instant(text: Any) -> datetime:
    """A Jira time (`2024-03-01T09:00:00.000+0100`) as an aware datetime, for ordering."""
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return pd.Timestamp(str(text)).to_pydatetime()


def _sorted_histories(histories: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Oldest first (Jira returns them newest first); ties by numeric id."""

    def order(history: Mapping[str, Any]):
        hid = _text(history.get("id"))
        return (_instant(history.get("created")), int(hid) if hid.isdigit() else 0, hid)

    return sorted(histories, key=order)


def issue_events(
    issue: Mapping[str, Any], histories: Sequence[Mapping[str, Any]], signals: BlockSignals
) -> list[dict[str, Any]]:
    """Creation, status changes and blocked spells of one issue, oldest first.

    A spell begun by setting the flag carries, as its `blocked` event's status, the reason of
    the flag comment paired with that change (`connectors.jira.flag_reasons`), if any."""
    fields = issue.get("fields") or {}
    ident = item_id(issue["key"])
    ordered = _sorted_histories(histories)
    status_items = [
        item
        for h in ordered
        for item in h.get("items") or []
        if (item.get("fieldId") or item.get("field")) == STATUS_FIELD
    ]
    current = _text((fields.get("status") or {}).get("name"))
    # A change with no "from" (seen after workflow migrations) cannot say where the issue
    # began; its current status is then the best guess rather than an empty one.
    first_status = _text(status_items[0].get("fromString")) if status_items else current
    first_status = first_status or current
    created = fields.get("created")

    # The blocked state at creation is what the first change of each signal changed *from*;
    # with no change at all, it is the issue's current value.
    flag_items = [i for h in ordered for i in h.get("items") or [] if signals.is_flag(i)]
    label_items = [i for h in ordered for i in h.get("items") or [] if i.get("field") == "labels"]
    if flag_items:
        flagged = bool(_text(flag_items[0].get("fromString")).strip())
    else:
        flagged = bool(signals.flag_id and fields.get(signals.flag_id))
    if label_items:
        labelled = bool(_labels(label_items[0].get("fromString")) & signals.labels)
    else:
        labelled = bool(set(fields.get("labels") or []) & signals.labels)

    flag_on = [
        (_text(h.get("id")), _instant(h.get("created")), who(h.get("author")))
        for h in ordered
        if any(
            signals.is_flag(i) and _text(i.get("toString")).strip() for i in h.get("items") or []
        )
    ]
    reasons = match_reasons(flag_on, embedded_comments(fields), _instant) if flag_on else {}

    events: list[dict[str, Any]] = []

    def add(when: Any, kind: str, status: str = "") -> None:
        events.append({"item_id": ident, "changed_at": when, "event": kind, "status": status})

    if created:
        add(created, "status", first_status)
    blocked = flagged or labelled
    if blocked and created:
        add(created, "blocked")
    for history in ordered:
        when = history.get("created")
        for item in history.get("items") or []:
            if (item.get("fieldId") or item.get("field")) == STATUS_FIELD:
                add(when, "status", _text(item.get("toString")))
            elif signals.is_flag(item):
                flagged = bool(_text(item.get("toString")).strip())
            elif item.get("field") == "labels" and signals.labels:
                labelled = bool(_labels(item.get("toString")) & signals.labels)
        if (flagged or labelled) != blocked:
            blocked = flagged or labelled
            reason = reasons.get(_text(history.get("id")), "") if blocked else ""
            add(when, "blocked" if blocked else "unblocked", reason)
    return events


def issue_item(issue: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    fields = issue.get("fields") or {}
    return {
        "item_id": item_id(issue["key"]),
        "title": _text(fields.get("summary")),
        "type": _text((fields.get("issuetype") or {}).get("name")),
        "labels": ";".join(fields.get("labels") or []),
        "url": f"{base_url}/browse/{issue['key']}",
        "source": "",
    }


def frames(
    issues: Sequence[Mapping[str, Any]],
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    signals: BlockSignals,
    base_url: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(items, events) in canonical form; `seq` numbers each item's events in order."""
    if not issues:
        return empty_items(), empty_events()
    items = conform_items(pd.DataFrame([issue_item(i, base_url) for i in issues]))
    rows = [e for i in issues for e in issue_events(i, histories.get(i["key"], ()), signals)]
    if not rows:
        return items, empty_events()
    events = pd.DataFrame(rows)
    events["changed_at"] = parse_jira_time(events["changed_at"]).astype("datetime64[ns, UTC]")
    events["seq"] = events.groupby("item_id").cumcount()
    return items, conform_events(events)
