"""`flowdeck init jira`: a starter `flowdeck.toml` whose stages follow the team's own board.

With a board id, the stages are the board's columns in order, each with its statuses and WIP
limit (agile board configuration). Without one, they are the statuses the query's issues use,
grouped by Jira's status category (To Do, In Progress, Done) and, within a category, ordered
by how early issues usually reach them. Either way the file says what to review: a wrong
status mapping silently corrupts every number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jira import JIRA

from connectors.jira.calls import JiraError, call
from connectors.jira.changelog import rest_json
from connectors.jira.client import deployment_name, is_cloud
from connectors.jira.jql import compose_jql, projects_in_jql
from connectors.jira.search import search_pages
from connectors.jira.settings import JiraSettings
from connectors.starter_file import StarterFile
from connectors.status_names import DISCARD, QUEUE

CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}
CATEGORY_TITLE = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
SCAN_LIMIT = 1000
"""Issues read to find the statuses in use (enough to see every status of a live workflow)."""


@dataclass
class StageDraft:
    name: str
    statuses: list[str]
    category: str
    wip_limit: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Starter:
    source_name: str
    url: str
    jql: str
    timezone: str
    deployment: str
    origin: str
    stages: list[StageDraft]
    start: str
    done: str
    discarded: list[str]
    notes: list[str] = field(default_factory=list)
    """Comments for the top of the file."""


# --- reading Jira ---------------------------------------------------------------------------


def status_categories(client: JIRA, settings: JiraSettings) -> dict[str, tuple[str, str]]:
    """Status id -> (name, category key) for every status of the site."""
    statuses = call(
        settings, "reading the statuses (/status)", client.statuses, cloud=is_cloud(client)
    )
    out = {}
    for status in statuses:
        raw = status.raw
        key = (raw.get("statusCategory") or {}).get("key", "indeterminate")
        out[str(raw["id"])] = (str(raw["name"]), key if key in CATEGORY_ORDER else "indeterminate")
    return out


def board_configuration(client: JIRA, settings: JiraSettings, board: int) -> dict[str, Any]:
    return call(
        settings,
        f"reading the configuration of board {board}",
        rest_json,
        client,
        "GET",
        f"/rest/agile/1.0/board/{board}/configuration",
        cloud=is_cloud(client),
    )


@dataclass
class StatusUse:
    """What the query's issues show about each status."""

    issues: Counter = field(default_factory=Counter)
    """Status name -> issues currently in it."""
    rank: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Status name -> its relative position in each issue's path (0 first, 1 last)."""
    scanned: int = 0

    @property
    def names(self) -> set[str]:
        return set(self.rank) | set(self.issues)


def scan_issues(client: JIRA, settings: JiraSettings) -> StatusUse:
    use = StatusUse()
    jql = compose_jql(settings.jql, order_by="updated DESC")
    for page, _ in search_pages(client, settings, jql, ["status", "created"], expand="changelog"):
        for issue in page:
            use.scanned += 1
            current = ((issue.get("fields") or {}).get("status") or {}).get("name")
            if current:
                use.issues[current] += 1
            path = _status_path(issue, current)
            for i, name in enumerate(path):
                use.rank[name].append(i / (len(path) - 1) if len(path) > 1 else 0.0)
        if use.scanned >= SCAN_LIMIT:
            break
    return use


def _status_path(issue: Mapping[str, Any], current: str | None) -> list[str]:
    histories = sorted(
        (issue.get("changelog") or {}).get("histories") or [],
        key=lambda h: (str(h.get("created")), str(h.get("id"))),
    )
    path: list[str] = []
    for history in histories:
        for item in history.get("items") or []:
            if (item.get("fieldId") or item.get("field")) != "status":
                continue
            for name in (item.get("fromString"), item.get("toString")):
                if name and name not in path:
                    path.append(name)
    if current and current not in path:
        path.append(current)
    return path


# --- drafting the workflow -----------------------------------------------------------------


def _category_of(names: Iterable[str], categories: Mapping[str, str]) -> str:
    counts = Counter(categories.get(n, "indeterminate") for n in names)
    if not counts:
        return "indeterminate"
    return max(counts, key=lambda c: (counts[c], -CATEGORY_ORDER[c]))


def _split_discarded(
    stages: list[StageDraft], categories: Mapping[str, str]
) -> tuple[list[StageDraft], list[str]]:
    """Done-category statuses named like "Won't Do" leave the stages for `discarded`."""
    discarded: list[str] = []
    kept: list[StageDraft] = []
    for stage in stages:
        gone = [s for s in stage.statuses if categories.get(s) == "done" and DISCARD.search(s)]
        stage.statuses = [s for s in stage.statuses if s not in gone]
        discarded += gone
        if stage.statuses:
            kept.append(stage)
    return kept, discarded


def _start_and_done(stages: Sequence[StageDraft], use: StatusUse) -> tuple[str, str, list[str]]:
    """The first In Progress stage that a fair share of issues pass through (a rare detour such
    as "Needs Info" is no commitment point), and the first Done stage."""
    notes: list[str] = []
    working = [s for s in stages if s.category == "indeterminate"]
    reach = {
        s.name: max((len(use.rank.get(n, ())) for n in s.statuses), default=0) for s in working
    }
    busiest = max(reach.values(), default=0)
    start = next((s.name for s in working if reach[s.name] >= 0.2 * busiest), None)
    done = next((s.name for s in stages if s.category == "done"), None)
    if start is None:
        start = stages[min(1, len(stages) - 1)].name
        notes.append(f"no stage is in Jira's In Progress category: start = {start!r} is a guess")
    if done is None:
        done = stages[-1].name
        notes.append(f"no stage is in Jira's Done category: done = {done!r} is a guess")
    names = [s.name for s in stages]
    if names.index(start) > names.index(done):
        start = done
        notes.append("start came after done: start is set to done; REVIEW both")
    return start, done, notes


def _stage_notes(stage: StageDraft, use: StatusUse) -> None:
    if stage.category == "indeterminate" and any(QUEUE.search(s) for s in stage.statuses):
        stage.notes.append("REVIEW: a queue? then `waiting = true` (flow efficiency counts it)")
    counts = [f"{s}: {use.issues.get(s, 0)}" for s in stage.statuses]
    if use.scanned:
        stage.notes.append("issues in it now: " + ", ".join(counts))


def from_board(
    client: JIRA, settings: JiraSettings, board: int, use: StatusUse
) -> tuple[list[StageDraft], list[str], list[str]]:
    """Stages from a board's columns; (stages, discarded, notes)."""
    config = board_configuration(client, settings, board)
    by_id = status_categories(client, settings)
    categories = {name: cat for name, cat in by_id.values()}
    stages: list[StageDraft] = []
    notes = [f"stages: the columns of board {board} ({config.get('name', '')!s}), in order"]
    for column in (config.get("columnConfig") or {}).get("columns") or []:
        names = [
            by_id[str(s["id"])][0] for s in column.get("statuses") or [] if str(s["id"]) in by_id
        ]
        if not names:
            notes.append(f"column {column.get('name')!r} has no statuses: left out")
            continue
        limit = column.get("max")
        stages.append(
            StageDraft(
                name=str(column.get("name")).strip(),
                statuses=names,
                category=_category_of(names, categories),
                wip_limit=int(limit) if isinstance(limit, int) and limit >= 1 else None,
            )
        )
    on_board = {s for stage in stages for s in stage.statuses}
    off_board = sorted(use.names - on_board)
    if off_board:
        notes.append(
            "REVIEW: statuses the query's issues use that are on no column (an event into one "
            "leaves the item where it was; add each to a stage or to discarded): "
            + ", ".join(off_board)
        )
    stages, discarded = _split_discarded(stages, categories)
    return stages, discarded, notes


def from_issues(
    client: JIRA, settings: JiraSettings, use: StatusUse
) -> tuple[list[StageDraft], list[str], list[str]]:
    """Stages from the statuses the query's issues use; (stages, discarded, notes)."""
    by_name = {name: cat for name, cat in status_categories(client, settings).values()}
    names = sorted(
        use.names,
        key=lambda n: (
            CATEGORY_ORDER[by_name.get(n, "indeterminate")],
            sum(use.rank[n]) / len(use.rank[n]) if use.rank.get(n) else 0.5,
            n.casefold(),
        ),
    )
    notes = [
        f"stages: the {len(names)} statuses used by the {use.scanned} issues read, grouped by "
        "Jira's status category (To Do, In Progress, Done) and ordered by when issues usually "
        "reach them. REVIEW the order; merge statuses that are one column on your board."
    ]
    stages: list[StageDraft] = []
    done_statuses: list[str] = []
    for name in names:
        category = by_name.get(name, "indeterminate")
        if category == "done":
            done_statuses.append(name)  # one delivered stage; discard-like ones leave it below
        else:
            stages.append(StageDraft(name=name, statuses=[name], category=category))
    if done_statuses:
        stages.append(StageDraft(name="Done", statuses=done_statuses, category="done"))
    stages, discarded = _split_discarded(stages, by_name)
    return stages, discarded, notes


def draft(
    client: JIRA, settings: JiraSettings, board: int | None, source_name: str | None
) -> Starter:
    me = call(
        settings, "reading the signed-in user (/myself)", client.myself, cloud=is_cloud(client)
    )
    use = scan_issues(client, settings)
    if board is not None:
        stages, discarded, notes = from_board(client, settings, board, use)
        origin = f"board {board}"
    else:
        if not use.scanned:
            raise JiraError(
                f"Jira at {settings.url}: the query finds no issues ({settings.jql!r}), so there "
                "are no statuses to build stages from; check the JQL or pass --board"
            )
        stages, discarded, notes = from_issues(client, settings, use)
        origin = "issues"
    if len(stages) < 2:
        raise JiraError(
            f"Jira at {settings.url}: found {len(stages)} stage(s) from the {origin}; a workflow "
            "needs at least two (check the query, or pass --board)"
        )
    _unique_names(stages)
    for stage in stages:
        _stage_notes(stage, use)
    start, done, more = _start_and_done(stages, use)
    projects = sorted(projects_in_jql(settings.jql))
    name = source_name or (projects[0].lower() if projects else "jira")
    return Starter(
        source_name=name,
        url=settings.url,
        jql=settings.jql,
        timezone=str(me.get("timeZone") or "UTC"),
        deployment=deployment_name(client),
        origin=origin,
        stages=stages,
        start=start,
        done=done,
        discarded=discarded,
        notes=notes + more,
    )


def _unique_names(stages: list[StageDraft]) -> None:
    seen: Counter = Counter()
    for stage in stages:
        key = stage.name.casefold()
        seen[key] += 1
        if seen[key] > 1:
            stage.name = f"{stage.name} ({seen[key]})"


# --- writing the file ---------------------------------------------------------------------


def render(starter: Starter) -> str:
    file = StarterFile(
        [
            "Flowdeck workflow for a Jira source, written by `flowdeck init jira`.",
            f"Site: {starter.deployment} at {starter.url}",
            f"Source of the stages: {starter.origin}.",
            "Every number Flowdeck shows depends on which statuses belong to which stage, where",
            "work starts (start) and where it is delivered (done): review this file before",
            "trusting the charts. Lines marked REVIEW need a decision. docs/jira.md explains "
            "it all.",
            *starter.notes,
        ]
    )
    file.set("timezone", starter.timezone, "the Jira user's time zone: days are local days")
    file.set("start", starter.start, "REVIEW: commitment point, first stage of work started")
    file.set("done", starter.done, "REVIEW: delivery point, first stage that counts as done")
    if starter.discarded:
        file.set(
            "discarded",
            list(starter.discarded),
            "REVIEW: statuses meaning dropped, not delivered",
        )
    else:
        file.comment('discarded = ["Won\'t Do"]   # statuses meaning dropped, not delivered')
    title = None
    for stage in starter.stages:
        if stage.category != title:
            title = stage.category
            file.comment(f"--- Jira category: {CATEGORY_TITLE[title]} ---")
        file.stage()
        for note in stage.notes:
            file.comment(note)
        file.set("name", stage.name)
        file.set("statuses", list(stage.statuses))
        if stage.wip_limit is not None:
            file.set("wip_limit", stage.wip_limit, "the board column's maximum")
    file.source()
    file.set("name", starter.source_name)
    file.set("kind", "jira")
    file.set("url", starter.url)
    file.set("jql", starter.jql)
    file.comment(
        "Credentials come from the environment (or .streamlit/secrets.toml), never this file:"
    )
    file.comment("  Jira Cloud: JIRA_EMAIL (account e-mail) and JIRA_TOKEN (API token)")
    file.comment("  Jira Data Center: JIRA_TOKEN (personal access token)")
    return file.text()
