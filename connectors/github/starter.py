"""`flowdeck init github`: read the board's own statuses from GitHub and write a starter
`flowdeck.toml` (the source table and one stage per status, in the board's order)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from connectors.atomic_write import write_atomically
from connectors.config import config_from_table
from connectors.github.client import GithubClient, github_failures, require_json
from connectors.github.history import NO_STATUS, REMOVED
from connectors.github.queries import BOARD_QUERY, board_project
from connectors.github.settings import DEFAULT_API_URL, GithubSettings
from connectors.starter_file import StarterFile
from connectors.status_names import DISCARD, DONE, QUEUE, STARTED, first_match
from metrics.errors import ConfigError, FlowdeckError
from metrics.workflow import normalize_status


@dataclass(frozen=True)
class Board:
    """What GitHub says the flow looks like: statuses in order, and where they came from."""

    statuses: tuple[str, ...]
    origin: str


def read_board(client: GithubClient) -> Board:
    settings = client.settings
    if settings.status_from == "project":
        with github_failures(settings, f"reading project {settings.project}"):
            data = client.graphql(
                BOARD_QUERY,
                {
                    "owner": settings.board_owner,
                    "number": settings.project,
                    "statusField": settings.status_field,
                },
            )
        project = board_project(settings, data.get("repositoryOwner"))
        options = tuple(o["name"] for o in project["field"]["options"])
        if not options:
            raise FlowdeckError(
                f"{settings.repo}: the '{settings.status_field}' field of project "
                f"{settings.project} has no options; add the board's columns first"
            )
        return Board(
            options,
            f"the options of the '{settings.status_field}' field of project "
            f"{settings.project} ('{project.get('title')}') of {settings.board_owner}",
        )
    if settings.status_from == "labels":
        prefix = settings.label_prefix.strip().casefold()
        with github_failures(settings, "reading the repository's labels"):
            repo = client.github.withLazy(True).get_repo(settings.repo)
            names = [label.name for label in repo.get_labels()]
        found = tuple(
            n[len(prefix) :].strip()
            for n in names
            if n.casefold().startswith(prefix) and n[len(prefix) :].strip()
        )
        if not found:
            raise FlowdeckError(
                f"{settings.repo}: no labels start with {settings.label_prefix!r} "
                f"({len(names)} labels read); pass --label-prefix, or --status-from state"
            )
        origin = f"the labels of {settings.repo} starting with {settings.label_prefix!r}"
        return Board(found, origin)
    with github_failures(settings, "reading the repository"):
        # a clear error now rather than at the first sync
        require_json(client.github.get_repo(settings.repo).raw_data)
    return Board(("Open", "In progress", "Closed"), "the open/closed state of issues")


def starter_toml(settings: GithubSettings, board: Board) -> str:
    """The starter workflow file's text (checked to load before it is written)."""
    stages: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    named_discards: list[str] = []
    for status in board.statuses:
        if normalize_status(status) in seen:
            continue
        seen.add(normalize_status(status))
        if DISCARD.search(status):  # Won't Do, Cancelled: leaving undelivered is no stage
            named_discards.append(status)
            continue
        stages.append((status, [status]))
    extra_first: list[str] = []
    extra_last: list[str] = []
    discarded: list[str] = list(named_discards)
    start, done = None, None
    guessed = False
    if settings.status_from == "project":
        extra_first = [NO_STATUS]
        discarded.append(REMOVED)
    elif settings.status_from == "labels":
        extra_first, extra_last = ["Open"], ["Closed"]
    else:
        start, done = "In progress", "Closed"
        if settings.items != "issues":
            stages[1][1].append("In review")
            stages[2][1].append("Merged")
    if settings.status_from != "state":
        names = [name for name, _ in stages]
        done = first_match(names, DONE)
        start = first_match(names[: names.index(done)] if done else names, STARTED)
        guessed = bool(start or done)
    for status in extra_first:
        if normalize_status(status) not in seen:
            stages[0][1].append(status)
            seen.add(normalize_status(status))
    for status in extra_last:
        if normalize_status(status) not in seen:
            stages[-1][1].append(status)
            seen.add(normalize_status(status))
    if len(stages) < 2:
        stages.append(("Done", ["Done"]))

    file = StarterFile(
        [
            f"Starter workflow for {settings.repo}, written by `flowdeck init github`.",
            f"Its stages are {board.origin}, in that order.",
            "Review before the first `flowdeck sync`: the stage order, `start` (the commitment",
            "point: work counts as in progress from there) and `done` (the delivery point), which",
            "stages are queues (`waiting = true`), and WIP limits. See docs/github.md.",
        ]
    )
    file.set("timezone", "UTC", 'your team\'s IANA time zone, e.g. "Europe/London"')
    review = "guessed from its name: review" if guessed else ""
    if start:
        file.set("start", start, review)
    else:
        file.comment(f"start = {json.dumps(stages[1][0], ensure_ascii=False)}   "
                     "(default: the second stage)")  # fmt: skip
    if done:
        file.set("done", done, review)
    else:
        file.comment(f"done = {json.dumps(stages[-1][0], ensure_ascii=False)}   "
                     "(default: the last stage)")  # fmt: skip
    if discarded:
        file.set("discarded", discarded)
    if settings.status_from == "labels":
        file.comment("GitHub lists labels alphabetically: put the stages in flow order.")
    for name, statuses in stages:
        file.stage()
        file.set("name", name)
        if statuses != [name]:
            file.set("statuses", statuses)
        if guessed and QUEUE.search(name) and name != stages[0][0]:
            file.set("waiting", True, "named like a queue: review")
        file.comment("wip_limit = 5")

    file.source()
    file.set("name", settings.name)
    file.set("kind", "github")
    file.set("repo", settings.repo)
    file.set("items", settings.items)
    file.set("status_from", settings.status_from)
    if settings.status_from == "project":
        file.set("project", settings.project)
        if settings.project_owner:
            file.set("project_owner", settings.project_owner)
        if settings.status_field != "Status":
            file.set("status_field", settings.status_field)
    if settings.status_from == "labels":
        file.set("label_prefix", settings.label_prefix)
    file.set("blocked_labels", list(settings.blocked_labels))
    file.set("deployments", settings.deployments)
    file.comment('or deployments = "releases", or "deployments" (with environment = "production"),')
    file.comment('or "workflow_runs" (with workflow = "deploy.yml")')
    if settings.api_url != DEFAULT_API_URL:
        file.set("api_url", settings.api_url)
    if settings.token_env != "GITHUB_TOKEN":
        file.set("token_env", settings.token_env)
    text = file.text()
    try:
        config_from_table(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ConfigError) as exc:  # a board we cannot express
        raise FlowdeckError(f"cannot write a starter workflow for {settings.repo}: {exc}") from None
    return text


def write_new_file(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path` whole (a temporary file renamed into place), never over an
    existing file unless `force`."""
    if path.exists() and not force:
        raise FlowdeckError(f"{path} already exists; pass --force to overwrite it")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FlowdeckError(f"{path}: folder {directory} does not exist")
    write_atomically(path, text)
