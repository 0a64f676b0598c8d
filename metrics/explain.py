"""Explain an item's numbers: its timeline and, in words, why it has the started_at, done_at,
cycle time, age, blocked days and flow efficiency it has (the rules of spec section 3)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.blocked import blocked_spells
from metrics.days import local_day
from metrics.errors import InputError
from metrics.intervals import map_positions
from metrics.report import FlowReport
from metrics.workflow import DISCARDED, Workflow

TIMELINE_COLUMNS = ["changed_at", "event", "status", "stage", "note", "mark"]


@dataclass(frozen=True)
class ItemExplanation:
    item_id: str
    facts: pd.Series
    """The item's row of the report's item facts."""
    timeline: pd.DataFrame
    """`TIMELINE_COLUMNS`: every event up to as-of in order; `stage` the stage the event put
    the item in (its position after the event); `note` what the event did; `mark` is
    `started_at` or `done_at` on the event that set it, else ""."""
    blocked: pd.DataFrame
    """Blocked spells: `start`, `end` (UTC), `open`."""
    stage_hours: pd.DataFrame
    """For a delivered item: hours in each in-progress stage between started_at and done_at;
    columns `stage`, `waiting`, `hours`. Empty otherwise."""
    lines: list[str]
    """The explanation, one sentence (or two) per number."""


def find_item(ids: pd.Index, item_id: str) -> str:
    """`item_id` as it is in the data (exact, else the one id equal ignoring case); raises
    `InputError` naming close ids when there is none."""
    if item_id in ids:
        return item_id
    folded = [i for i in ids if str(i).casefold() == item_id.strip().casefold()]
    if len(folded) == 1:
        return str(folded[0])
    by_fold = {str(i).casefold(): str(i) for i in ids}
    close = [by_fold[c] for c in difflib.get_close_matches(item_id.casefold(), list(by_fold), n=3)]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise InputError(f"item {item_id!r} is not in the data ({len(ids)} items){hint}")


def _when(moment: pd.Timestamp, tz: str) -> str:
    return f"{moment.tz_convert(tz):%Y-%m-%d %H:%M}"


def _stage_name(position: float, workflow: Workflow) -> str:
    if np.isnan(position):
        return ""
    if position == DISCARDED:
        return "discarded"
    return workflow.stage_names[int(position)]


def _run_start(positions: np.ndarray, member: np.ndarray) -> int | None:
    """Row of the first event of the latest run of consecutive member positions."""
    hits = np.flatnonzero(member)
    if hits.size == 0:
        return None
    last = hits[-1]
    outside = np.flatnonzero(~member[: last + 1])
    return int(outside[-1] + 1) if outside.size else int(hits[0])


def _timeline(
    ev: pd.DataFrame, workflow: Workflow, facts: pd.Series
) -> tuple[pd.DataFrame, int | None, int | None, np.ndarray]:
    """The timeline frame, the rows that set started_at and done_at, and the position after
    each row (NaN before the first mapped status)."""
    is_status = ev["event"].eq("status").to_numpy()
    mapped = np.where(is_status, map_positions(ev["status"].fillna(""), workflow), np.nan)
    after = pd.Series(mapped).ffill().to_numpy()
    before = np.r_[np.nan, after[:-1]]
    start, done = workflow.start, workflow.done
    moved = is_status & ~np.isnan(mapped) & (np.isnan(before) | (mapped != before))
    rows = np.flatnonzero(moved)
    pos = mapped[rows]
    started_row = done_row = None
    first = _run_start(pos, pos >= start)
    if first is not None and pd.notna(facts["started_at"]):
        started_row = int(rows[first])
    last_done = _run_start(pos, pos >= done)
    if last_done is not None and pd.notna(facts["done_at"]):
        done_row = int(rows[last_done])
    seen_status = False
    notes: list[str] = []
    for i, (event, status) in enumerate(zip(ev["event"], ev["status"].fillna(""), strict=True)):
        if event != "status":
            inside = not np.isnan(after[i]) and start <= after[i] < done
            where = "while in progress" if inside else "(not in progress: no blocked days)"
            notes.append(f"{event} {where}")
            continue
        new, old = mapped[i], before[i]
        stage = _stage_name(after[i], workflow)
        if not seen_status:
            seen_status = True
            notes.append(
                f"created in '{stage}'"
                if not np.isnan(new)
                else f"created in '{status}', a status the workflow does not map"
            )
            continue
        if np.isnan(new):
            stays = f"stays in '{stage}'" if stage else "is not on the board yet"
            notes.append(f"'{status}' is not in the workflow: the item {stays}")
        elif not np.isnan(old) and new == old:
            notes.append(f"no move: already in '{stage}'")
        elif new == DISCARDED:
            notes.append("discarded: leaves every count")
        elif np.isnan(old) or old == DISCARDED or new > old:
            back = " (back from discarded)" if old == DISCARDED else ""
            notes.append(f"moved forward to '{stage}'{back}")
        elif old >= done > new:
            restart = (
                ", before the commitment point: the clock restarts when it starts again"
                if new < start
                else ""
            )
            notes.append(f"reopened: moved back from done to '{stage}'{restart}")
        elif old >= start > new:
            notes.append(
                f"moved back to '{stage}', before the commitment point: the clock restarts "
                "when it starts again"
            )
        else:
            notes.append(f"moved back to '{stage}'")
    mark = np.full(len(ev), "", dtype=object)
    if started_row is not None:
        mark[started_row] = "started_at"
        notes[started_row] += "; the cycle-time clock starts here"
    if done_row is not None:
        mark[done_row] = "done_at" if mark[done_row] == "" else "started_at, done_at"
        notes[done_row] += "; delivered here (done_at)"
    frame = pd.DataFrame(
        {
            "changed_at": ev["changed_at"].to_numpy(),
            "event": ev["event"].to_numpy(),
            "status": ev["status"].fillna("").to_numpy(),
            "stage": [
                _stage_name(p, workflow) if e == "status" else ""
                for p, e in zip(after, ev["event"], strict=True)
            ],
            "note": notes,
            "mark": mark,
        }
    )
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame[TIMELINE_COLUMNS], started_row, done_row, after


def _stage_hours(intervals: pd.DataFrame, facts: pd.Series, workflow: Workflow) -> pd.DataFrame:
    if pd.isna(facts["done_at"]) or pd.isna(facts["started_at"]):
        return pd.DataFrame(columns=["stage", "waiting", "hours"])
    pos = intervals["position"].to_numpy()
    span = intervals[(pos >= workflow.start) & (pos < workflow.done)]
    hours = pd.Series(dtype="float64")
    if len(span):
        begin = span["entered"].clip(lower=facts["started_at"])
        end = span["left"].clip(upper=facts["done_at"])
        seconds = (end - begin).dt.total_seconds().clip(lower=0)
        hours = (seconds / 3600).groupby(span["position"]).sum()
    stages = workflow.stages[workflow.start : workflow.done]
    return pd.DataFrame(
        {
            "stage": [s.name for s in stages],
            "waiting": [s.waiting for s in stages],
            "hours": [float(hours.get(i, 0.0)) for i in range(workflow.start, workflow.done)],
        }
    )


def _explain_start(timeline, started_row, after, facts, workflow, tz) -> list[str]:
    start_name = workflow.stage_names[workflow.start]
    if started_row is None:
        return [
            f"started_at: none. The item has never reached '{start_name}', the commitment "
            "point, so it has no cycle time and no age."
        ]
    row = timeline.iloc[started_row]
    text = (
        f"started_at = {_when(row['changed_at'], tz)}: the item entered '{row['stage']}' here, "
        f"at or after the commitment point '{start_name}', and has not gone back before "
        f"'{start_name}' since (the start of its latest uninterrupted run at a position >= "
        "start)."
    )
    lines = [text]
    earlier = timeline.iloc[:started_row]
    restarts = earlier[earlier["note"].str.contains("before the commitment point")]
    if len(restarts):
        lines.append(
            f"An earlier start does not count: on {_when(restarts['changed_at'].iloc[-1], tz)} "
            "it moved back before the commitment point, which restarts the clock."
        )
    later = timeline.iloc[started_row + 1 :]
    backs = later[later["note"].str.startswith(("moved back to", "reopened"))]
    backs = backs[~backs["note"].str.contains("before the commitment point")]
    if len(backs):
        lines.append(
            f"Its {len(backs)} later move(s) back within the workflow (or reopening from done) "
            "do not restart the clock."
        )
    if after[started_row] >= workflow.done:
        lines.append("It jumped from before the start straight to done, so started_at = done_at.")
    now = facts["position"]
    if pd.notna(now) and now < workflow.start:
        where = "was discarded" if now == DISCARDED else f"is back in '{facts['stage']}'"
        lines.append(f"It {where} now: started_at keeps the start of its last run.")
    return lines


def _explain_done(timeline, done_row, facts, workflow, tz) -> list[str]:
    done_name = workflow.stage_names[workflow.done]
    if done_row is None:
        where = facts["stage"] or "no mapped status yet"
        return [
            f"done_at: none. The item is in '{where}' now; done_at is set only while its "
            f"current position is '{done_name}' or later."
        ]
    row = timeline.iloc[done_row]
    lines = [
        f"done_at = {_when(row['changed_at'], tz)}: the item reached '{row['stage']}', at or "
        f"after the delivery point '{done_name}', here and has stayed there since (the start "
        "of its latest uninterrupted run at a position >= done)."
    ]
    reopened = timeline.iloc[:done_row]
    reopened = reopened[reopened["note"].str.startswith("reopened")]
    if len(reopened):
        lines.append(
            f"It was reopened {len(reopened)} time(s) (last on "
            f"{_when(reopened['changed_at'].iloc[-1], tz)}): only the final delivery counts."
        )
    return lines


def explain_item(
    events: pd.DataFrame, report: FlowReport, workflow: Workflow, item_id: str
) -> ItemExplanation:
    """Why item `item_id` has the numbers it has in `report` (built from `events` as of the
    report's as-of). Raises `InputError` for an unknown id (naming close ones)."""
    tz = workflow.timezone
    item_id = find_item(report.items.index, item_id)
    facts = report.items.loc[item_id]
    ev = events[events["item_id"].eq(item_id) & events["changed_at"].le(report.as_of)]
    ev = ev.sort_values(["changed_at", "seq"], kind="stable").reset_index(drop=True)
    timeline, started_row, done_row, after = _timeline(ev, workflow, facts)
    intervals = report.intervals[report.intervals["item_id"].eq(item_id)]
    hours = _stage_hours(intervals, facts, workflow)
    spells = blocked_spells(ev, report.as_of)[["start", "end", "open"]].reset_index(drop=True)

    lines = _explain_start(timeline, started_row, after, facts, workflow, tz)
    lines += _explain_done(timeline, done_row, facts, workflow, tz)
    if pd.notna(facts["cycle_time_days"]):
        start_day = local_day(facts["started_at"], tz)
        done_day = local_day(facts["done_at"], tz)
        lines.append(
            f"Cycle time = {done_day:%Y-%m-%d} - {start_day:%Y-%m-%d} + 1 = "
            f"{int(facts['cycle_time_days'])} days (calendar days in {tz}, both ends counted: "
            f"an item done the day it started took 1 day); exactly "
            f"{float(facts['cycle_time_hours']):.1f} hours."
        )
    if pd.notna(facts["age_days"]):
        as_of_day = local_day(report.as_of, tz)
        start_day = local_day(facts["started_at"], tz)
        lines.append(
            f"Age = {as_of_day:%Y-%m-%d} - {start_day:%Y-%m-%d} + 1 = {int(facts['age_days'])} "
            f"days: it is in progress at the as-of moment (end of {as_of_day:%Y-%m-%d})."
        )
    if len(spells) or facts["blocked_days"]:
        lines.append(
            f"Blocked days = {int(facts['blocked_days'])}: the days on which it was blocked at "
            f"some moment while in progress ({len(spells)} blocked spell(s); a spell with no "
            "unblock runs to as-of)."
        )
    if len(hours):
        total = float(hours["hours"].sum())
        active = float(hours.loc[~hours["waiting"].astype(bool), "hours"].sum())
        if pd.notna(facts["flow_efficiency"]):
            lines.append(
                f"Flow efficiency = {active:.1f} / {total:.1f} hours = "
                f"{float(facts['flow_efficiency']):.0%}: of its in-progress time between "
                "started_at and done_at, the share spent in stages not marked waiting."
            )
        else:
            lines.append("Flow efficiency: none, its in-progress time between start and done "
                         "is zero.")  # fmt: skip
    return ItemExplanation(
        item_id=item_id, facts=facts, timeline=timeline, blocked=spells,
        stage_hours=hours, lines=lines,
    )  # fmt: skip
