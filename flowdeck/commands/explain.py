"""`flowdeck explain ITEM_ID`: an item's timeline and why it has the numbers it has."""

from __future__ import annotations

import click

from flowdeck.inputs import input_options, load_inputs


def explanation_lines(x, workflow, as_of) -> list[str]:
    """The explanation as terminal lines; untrusted text (title, statuses) made printable."""
    import pandas as pd

    # The one helper that strips terminal escapes from tracker text lives with the Jira client.
    from connectors.jira.calls import printable

    tz = workflow.timezone
    facts = x.facts
    stage = facts["stage"] or "no mapped status"
    kind = f" ({printable(facts['type'], 40)})" if facts["type"] else ""
    lines = [
        f"{printable(x.item_id, 60)}  {printable(facts['title'], 120)}{kind}",
        f"Now in '{printable(stage, 80)}', as of {as_of.tz_convert(tz):%Y-%m-%d %H:%M} ({tz})",
        "",
        f"Timeline (local time, {tz}):",
    ]
    for _, row in x.timeline.iterrows():
        what = row["status"] if row["event"] == "status" else row["event"]
        mark = f"  <= {row['mark']}" if row["mark"] else ""
        lines.append(
            f"  {row['changed_at'].tz_convert(tz):%Y-%m-%d %H:%M}  {printable(what, 24):<24} "
            f"{printable(row['stage'], 16):<16} {printable(row['note'], 160)}{mark}"
        )
    if len(x.blocked):
        lines += ["", "Blocked spells:"]
        for _, spell in x.blocked.iterrows():
            end = (
                "still blocked"
                if spell["open"]
                else f"{spell['end'].tz_convert(tz):%Y-%m-%d %H:%M}"
            )
            lines.append(f"  {spell['start'].tz_convert(tz):%Y-%m-%d %H:%M} to {end}")
    if len(x.stage_hours):
        lines += ["", "Hours in each in-progress stage between started_at and done_at:"]
        for _, row in x.stage_hours.iterrows():
            waiting = " (waiting)" if row["waiting"] else ""
            lines.append(f"  {printable(row['stage'], 40):<20} {row['hours']:8.1f} h{waiting}")
    lines += ["", "Why these numbers:"]
    lines += [f"  - {line}" for line in x.lines]
    numbers = {
        "cycle_time_days": facts["cycle_time_days"],
        "age_days": facts["age_days"],
        "blocked_days": facts["blocked_days"],
        "flow_efficiency": facts["flow_efficiency"],
    }
    shown = ", ".join(f"{k} {'n/a' if pd.isna(v) else v}" for k, v in numbers.items())
    lines += ["", f"In items.csv: {shown}"]
    return lines


def register(main: click.Group, init: click.Group) -> None:
    @main.command("explain")
    @click.argument("item_id")
    @input_options
    def explain(item_id, **inputs):
        """Show an item's timeline and why it has its started_at, done_at and cycle time."""
        from metrics.explain import explain_item
        from metrics.report import flow_report

        loaded = load_inputs(**inputs)
        workflow = loaded.config.workflow
        report = flow_report(loaded.data, workflow, loaded.as_of)
        x = explain_item(loaded.data.events, report, workflow, item_id)
        for line in explanation_lines(x, workflow, loaded.as_of):
            click.echo(line)
