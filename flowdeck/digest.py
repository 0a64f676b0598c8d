"""The morning digest: the stand-up's summary as plain text or Markdown, for a terminal, a cron
job or a chat channel. Built from the same board columns and attention list as the Board page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.board import attention_list, board_columns, short_id
from metrics.cycle_time import SLE_PERCENTILE
from metrics.days import local_day
from metrics.report import flow_report
from metrics.workflow import Workflow

#: Data older than this many days before today is called stale (a Monday digest of Friday's
#: sync is not).
STALE_AFTER_DAYS = 3
FORMATS = ("text", "markdown")


@dataclass(frozen=True)
class Digest:
    title: str
    stale: str | None
    """A sentence when the newest event is more than STALE_AFTER_DAYS old, else None."""
    over_limit: list[str]
    beyond_sle: list[str]
    blocked: list[str]
    sle_days: float | None

    @property
    def quiet(self) -> bool:
        return not (self.over_limit or self.beyond_sle or self.blocked)


def build_digest(
    data, workflow: Workflow, as_of: pd.Timestamp, changes: pd.DataFrame | None, name: str = ""
) -> Digest:
    """The stand-up summary of `data` as of `as_of` (now, or a replayed day): the data is stale
    when its newest event up to `as_of` is more than STALE_AFTER_DAYS days older than `as_of`.
    `changes` (the WIP-limit history, or None) gives each column the limit in force at `as_of`.
    Percentiles over the 90 days before `as_of`, as on the board and in the export."""
    tz = workflow.timezone
    report = flow_report(data, workflow, as_of)
    columns = board_columns(report, workflow, changes)
    attention = attention_list(report, columns, tz)
    times = data.events["changed_at"]
    newest = times[times.le(as_of)].max()
    stale = None
    if pd.notna(newest):
        age = (local_day(as_of, tz) - local_day(newest, tz)).days
        if age > STALE_AFTER_DAYS:
            stale = (
                f"The data ends on {local_day(newest, tz):%a %d %b %Y}, {age} days ago: run "
                "`flowdeck sync`, or read this as that day's board (--as-of)."
            )
    sle = report.percentiles.get(SLE_PERCENTILE)
    sle = None if sle is None or pd.isna(sle) else float(sle)
    over = [
        f"{c.stage}: {c.count} items, limit {c.limit}" for c in columns if c.committed and c.over
    ]
    facts = report.items
    beyond = [
        f"{short_id(r.item_id)} {_title(r.title)} ({r.stage}, {int(r.age_days)} days old)"
        for r in attention[attention["reason"] == "older than the SLE"].itertuples()
    ]
    blocked = [
        f"{short_id(r.item_id)} {_title(r.title)} ({r.stage}, {r.detail})"
        for r in attention[attention["reason"] == "blocked"].itertuples()
    ]
    day = local_day(as_of, tz)
    label = f" for {name}" if name else ""
    title = (
        f"Stand-up{label}, {day:%a %d %b %Y}: {int(facts['in_progress'].sum())} items in progress"
    )
    return Digest(title, stale, over, beyond, blocked, sle)


def _title(text: str, limit: int = 60) -> str:
    """One line of a title, cut to `limit` characters: chat messages stay readable."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render(digest: Digest, form: str) -> str:
    """The digest as `text` or `markdown` (Slack, Teams and Mattermost read the same)."""
    md = form == "markdown"

    def heading(text: str) -> str:
        return f"*{text}*" if md else text

    lines = [f"*{digest.title}*" if md else digest.title]
    if digest.stale:
        lines.append(("⚠ " if md else "WARNING: ") + digest.stale)
    if digest.quiet:
        lines.append("Nothing over its limit, nothing beyond the SLE, nothing blocked.")
    sections = [
        ("Over the WIP limit", digest.over_limit),
        (
            "Beyond the SLE"
            + (
                f" ({digest.sle_days:g} days: 85% of items finish within it)"
                if digest.sle_days is not None
                else ""
            ),  # fmt: skip
            digest.beyond_sle,
        ),
        ("Blocked", digest.blocked),
    ]
    for name, rows in sections:
        if rows:
            lines.append("")
            lines.append(heading(name))
            lines += [f"- {_escape(r) if md else r}" for r in rows]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Untrusted titles cannot format a chat message: Slack's control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
