"""The stand-up board as plain data: columns, cards and the attention list (no Streamlit).

The board shows the stage just before the commitment point (what is ready to be pulled) and
every stage from `start` up to, not including, `done`. Cards are sorted oldest first: at a
stand-up the team walks the board from the right and starts with the oldest work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.cycle_time import SLE_PERCENTILE
from metrics.days import local_day, local_days
from metrics.limits import TOTAL, limit_at
from metrics.report import FlowReport
from metrics.workflow import Workflow

#: Pace bands as a colour and words (the words carry the meaning without colour vision too).
PACE_LABELS = {
    "ok": ("green", "on pace"),
    "watch": ("orange", "watch"),
    "late": ("red", "beyond the SLE"),
    "": ("gray", "no pace yet"),
}


def short_id(item_id: str) -> str:
    """The id as the team knows it: the store's source namespace dropped (`csv:team:FD-7` ->
    `FD-7`, `jira:ABC-7` -> `ABC-7`, `github:acme/web#12` -> `web#12`)."""
    if item_id.startswith("csv:"):
        rest = item_id[4:]
        return rest.split(":", 1)[1] if ":" in rest else rest
    if item_id.startswith("jira:"):
        return item_id[5:]
    if item_id.startswith("github:"):
        rest = item_id[7:]
        return rest.split("/", 1)[1] if "/" in rest.split("#", 1)[0] else rest
    return item_id


def days_since(times: pd.Series, as_of: pd.Timestamp, timezone: str) -> pd.Series:
    """Local days from each time to `as_of`, both days counted (as age counts); NaN where the
    time is missing."""
    start = local_days(times, timezone)
    return ((local_day(as_of, timezone) - start).dt.days + 1).astype("float64")


def day_words(days: float) -> str:
    """`1 day`, `3 days`."""
    return f"{int(days)} day{'' if int(days) == 1 else 's'}"


@dataclass(frozen=True)
class Card:
    item_id: str
    title: str
    type: str
    url: str
    age_days: int | None
    """Work item age for items in progress; days in the column for the column before start."""
    pace_band: str
    blocked: bool
    likely_done_by: pd.Timestamp | None = None
    """`likely_done_by_85` (local day) for items in progress; None when no delivered item was
    that old, or for the column before start."""
    blocked_for_days: int | None = None
    """For a blocked item: the local days of its open blocked spell (a spell begun today: 1)."""
    oldest: bool = False
    """The card that has waited longest in the column before start: the one to pull next."""


@dataclass(frozen=True)
class Column:
    stage: str
    count: int
    limit: int | None
    committed: bool
    """False for the stage just before `start` (not yet work in progress)."""
    cards: tuple[Card, ...]

    @property
    def over(self) -> int:
        return max(self.count - self.limit, 0) if self.limit is not None else 0

    @property
    def tally(self) -> str:
        """`8 / 10` (count / limit), joined by no-break spaces: a narrow column never breaks
        it; `8` without a limit."""
        return f"{self.count}\u00a0/\u00a0{self.limit}" if self.limit else f"{self.count}"

    @property
    def heading(self) -> str:
        """`In Progress 8 / 10`."""
        return f"{self.stage} {self.tally}"

    @property
    def status_words(self) -> str:
        """The count against the limit in words, e.g. `2 over the limit`."""
        if self.limit is None:
            return "no limit"
        if self.over:
            return f"{self.over} over the limit"
        if self.count == self.limit:
            return "at the limit"
        return f"{self.limit - self.count} below the limit"


def board_stages(workflow: Workflow) -> list[int]:
    """Stage indices shown on the board: the one before `start` (if any), then start..done-1."""
    first = max(workflow.start - 1, 0)
    return list(range(first, workflow.done))


def _days_in_stage(report: FlowReport, index: int, ids: pd.Index, timezone: str) -> pd.Series:
    """Local days each item has been in stage `index` since it last entered it (both days
    counted), indexed like `ids`; NaN when it has no current interval there."""
    iv = report.intervals
    here = iv[iv["current"] & (iv["position"] == index)].drop_duplicates("item_id", keep="last")
    entered = here.set_index("item_id")["entered"].reindex(ids)
    return days_since(entered, report.as_of, timezone)


def _day_or_none(value: object) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)


def likely_done_words(item: Card) -> str:
    """A card's 85% date in words: `likely done by 12 Jul` or why there is none."""
    if item.likely_done_by is None:
        # No pace band means no reference item at all: nothing to be older than.
        return "older than anything delivered" if item.pace_band else "no done-by date yet"
    return f"likely done by {item.likely_done_by:%d %b}"


def board_columns(
    report: FlowReport,
    workflow: Workflow,
    changes: pd.DataFrame | None = None,
    max_cards: int | None = None,
) -> list[Column]:
    """One `Column` per board stage, cards oldest first: by work item age in the stages from
    `start` on, by days in the column in the column before it (what to pull next: its first
    card is marked `oldest`). `changes` (the WIP-limit history) gives each stage the limit it
    had at the report's `as_of`; `max_cards` keeps only the oldest cards of a long column (its
    `count` stays the full count)."""
    facts = report.items
    out: list[Column] = []
    for index in board_stages(workflow):
        stage = workflow.stages[index]
        committed = index >= workflow.start
        here = facts[(facts["position"] == index) & ~facts["discarded"]]
        if committed:
            here = here[here["in_progress"]]
            ages = here["age_days"]
        else:
            ages = _days_in_stage(report, index, here.index, workflow.timezone)
        blocked_for = days_since(here["blocked_since"], report.as_of, workflow.timezone)
        here = here.assign(_age=ages.astype("float64"), _blocked_for=blocked_for)
        here = here.sort_values(["_age", "created_at"], ascending=[False, True], kind="stable")
        shown = here if max_cards is None else here.head(max_cards)
        cards = tuple(
            Card(
                item_id=str(item_id),
                title=str(row["title"]),
                type=str(row["type"]),
                url=str(row["url"]),
                age_days=None if np.isnan(row["_age"]) else int(row["_age"]),
                pace_band=str(row["pace_band"]) if committed else "",
                blocked=bool(row["blocked_now"]),
                blocked_for_days=None
                if np.isnan(row["_blocked_for"])
                else int(row["_blocked_for"]),
                likely_done_by=_day_or_none(row["likely_done_by_85"]) if committed else None,
                oldest=not committed and rank == 0,
            )
            for rank, (item_id, row) in enumerate(shown.iterrows())
        )
        limit = limit_at(stage.name, stage.wip_limit, changes, report.as_of)
        out.append(Column(stage.name, len(here), limit, committed, cards))
    return out


def total_limit(
    workflow: Workflow, columns: list[Column], changes: pd.DataFrame | None, when: pd.Timestamp
) -> tuple[int | None, str]:
    """The board's total WIP limit and what it is: the workflow's total limit in force at
    `when` (`"total limit"`), else the sum of the limits of the columns from `start` on when
    every one of them has a limit (`"sum of column limits"`), else `(None, "no total limit")`
    (a sum over some columns only would promise a cap that does not exist)."""
    total = limit_at(TOTAL, workflow.wip_limit, changes, when)
    if total is not None:
        return total, "total limit"
    limits = [c.limit for c in columns if c.committed]
    if limits and all(limit is not None for limit in limits):
        return sum(limits), "sum of column limits"
    return None, "no total limit"


ATTENTION_COLUMNS = ["reason", "item_id", "title", "stage", "age_days", "detail"]


def attention_list(report: FlowReport, columns: list[Column], timezone: str) -> pd.DataFrame:
    """What the stand-up should talk about first: stages over their limit, items beyond the SLE
    (oldest first), then blocked items. Columns: `ATTENTION_COLUMNS`."""
    rows: list[dict] = []
    for col in columns:
        if col.over:
            rows.append(
                {
                    "reason": "stage over its WIP limit",
                    "item_id": "",
                    "title": "",
                    "stage": col.stage,
                    "age_days": pd.NA,
                    "detail": f"{col.count} items, limit {col.limit}: {col.status_words}",
                }
            )
    facts = report.items
    wip = facts[facts["in_progress"]].sort_values("age_days", ascending=False)
    sle = report.percentiles.get(SLE_PERCENTILE, np.nan)
    parts = [pd.DataFrame(rows, columns=ATTENTION_COLUMNS)]
    if not np.isnan(sle):
        late = wip[wip["age_days"].astype("float64") > sle]
        detail = late["age_days"].astype(int).astype(str) + f" days old; the SLE is {sle:g} days"
        parts.append(_item_rows(late, "older than the SLE", detail))
    blocked = wip[wip["blocked_now"]]
    spell = days_since(blocked["blocked_since"], report.as_of, timezone)
    detail = pd.Series([f"blocked for {day_words(d)}" for d in spell], index=spell.index,
                       dtype=object)  # fmt: skip
    parts.append(_item_rows(blocked, "blocked", detail))
    nonempty = [part for part in parts if len(part)]
    frame = pd.concat(nonempty, ignore_index=True) if nonempty else parts[0]
    return frame[ATTENTION_COLUMNS].astype({"age_days": "Int64"})


def _item_rows(items: pd.DataFrame, reason: str, detail: pd.Series) -> pd.DataFrame:
    """Attention rows for `items` (facts indexed by item_id), all with one reason."""
    return pd.DataFrame(
        {
            "reason": reason,
            "item_id": items.index.astype(str),
            "title": items["title"].astype(str).to_numpy(),
            "stage": items["stage"].astype(str).to_numpy(),
            "age_days": items["age_days"].to_numpy(),
            "detail": detail.to_numpy(),
        },
        columns=ATTENTION_COLUMNS,
    )
