"""The built-in demo: a seeded, deterministic simulation of one believable team.

About 18 months and 1,200 items (stories, bugs, chores) on a 6-stage board with two waiting
stages and WIP limits. The team pulls work when there is room, works on several items at once
(more items in progress means each moves slower), gets blocked now and then, sends work back from
testing, reopens a few delivered items, discards some backlog, and deploys about weekly with some
failed deployments followed by a fix. Halfway through, the lead lowers the In Progress limit from
8 to 4 (a kaizen experiment) and cycle times improve afterwards. Its last days tell the
stand-up story (`_stand_up_story`): one column over its limit, a blocked item, an item beyond
the SLE.

Generated at run time in well under a second; the same seed gives the same data everywhere.
It is the one sample world: the demo, the fake GitHub and Jira servers, CSV fixtures and the
dashboard tests all start from it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import numpy as np
import pandas as pd

from connectors.config import Config, config_from_table
from metrics.frames import (
    FlowData,
    conform_deployments,
    conform_events,
    conform_items,
    conform_pull_requests,
    empty_shipped,
)

DEMO_SEED = 7
DEMO_TIMEZONE = "Europe/London"
DEMO_START = pd.Timestamp("2025-01-06")  # a Monday
DEMO_DAYS = 546
DEMO_LAST_DAY = DEMO_START + pd.Timedelta(days=DEMO_DAYS - 1)
#: The end of the demo's last local day: the demo's "now".
DEMO_AS_OF = (DEMO_LAST_DAY + pd.Timedelta(days=1)).tz_localize(DEMO_TIMEZONE).tz_convert(
    "UTC"
) - pd.Timedelta(1, "ns")
DEMO_LIMIT_CHANGE_DAY = DEMO_START + pd.Timedelta(days=DEMO_DAYS // 2)
LIMIT_BEFORE, LIMIT_AFTER = 8, 4

DEMO_WORKFLOW_TOML = f"""
[workflow]
timezone = "{DEMO_TIMEZONE}"
start = "Ready"
done = "Done"
discarded = ["Won't Do"]
wip_limit = 16

[[workflow.stages]]
name = "Backlog"
statuses = ["Backlog", "To Do"]

[[workflow.stages]]
name = "Ready"
statuses = ["Ready", "Selected"]
wip_limit = 6
waiting = true

[[workflow.stages]]
name = "In Progress"
statuses = ["In Progress", "Reopened"]
wip_limit = {LIMIT_AFTER}

[[workflow.stages]]
name = "Review"
statuses = ["Code Review", "In Review"]
wip_limit = 4
waiting = true

[[workflow.stages]]
name = "Testing"
statuses = ["Testing", "QA"]
wip_limit = 3

[[workflow.stages]]
name = "Done"
statuses = ["Done", "Released"]
"""

_TYPES = np.array(["Story", "Bug", "Chore"])
_TYPE_P = [0.55, 0.3, 0.15]
_SIZE_MEAN = {"Story": 2.2, "Bug": 1.2, "Chore": 0.8}  # ideal working days of effort
_COMPONENTS = ["checkout", "search", "accounts", "payments", "catalogue", "notifications"]
_VERBS = {
    "Story": ["Add", "Let customers", "Support", "Show", "Allow admins to"],
    "Bug": ["Fix", "Crash when", "Wrong total in", "Timeout in", "Typo on"],
    "Chore": ["Upgrade", "Clean up", "Remove dead code in", "Bump", "Document"],
}
_OBJECTS = [
    "saved addresses", "gift cards", "order history", "the basket page", "refund emails",
    "search filters", "password reset", "the payment form", "stock alerts", "the invoice PDF",
    "wish lists", "delivery slots", "product reviews", "currency display", "login with SSO",
]  # fmt: skip
#: Titles as hostile as real trackers hold: they must stay text on screen and in CSV files.
_HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.example/","click me")',
    "<script>alert('board')</script> in the search box",
    "+1 for dark mode",
    "@channel deploy notes",
]


_GROUP = {
    "Backlog": "backlog", "To Do": "backlog", "Needs Info": "backlog",
    "Ready": "ready", "Selected": "ready",
    "In Progress": "dev", "Reopened": "dev",
    "Code Review": "review", "In Review": "review",
    "Testing": "testing", "QA": "testing",
    "Done": "done", "Released": "done",
    "Won't Do": "gone",
}  # fmt: skip


_BLOCK_REASONS = (
    "Waiting on vendor API",
    "Waiting on another team",
    "Test environment down",
    "Waiting on vendor API",
    "Needs a product decision",
)


@dataclass(eq=False)  # identity: items are removed from status buckets by identity
class _Item:
    key: str
    type: str
    created: pd.Timestamp
    work: float
    status: str = ""
    last: np.datetime64 | None = None  # UTC time of the item's latest event
    done_work: float = 0.0
    reviewed_on: int = -1
    blocked_until: int = -1
    test_work: float = 0.5


def _last(item: _Item) -> np.datetime64:
    """Sort key: the time of the item's latest event (every item on the board has one)."""
    return cast(np.datetime64, item.last)


class _World:
    """The simulation's mutable state; `run` returns the canonical frames."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.tz = DEMO_TIMEZONE
        self.items: list[_Item] = []
        self.groups: dict[str, list[_Item]] = {g: [] for g in set(_GROUP.values())}
        # Each day's local midnight as a UTC instant, taken at noon so DST days are right.
        noons = pd.DatetimeIndex(
            [DEMO_START + pd.Timedelta(days=d, hours=12) for d in range(DEMO_DAYS)]
        )
        self.midnights = (
            noons.tz_localize(self.tz).tz_convert("UTC").tz_localize(None) - pd.Timedelta(hours=12)
        ).to_numpy()
        self.day_no = 0
        self.rows: list[tuple] = []  # (item_id, changed_at, event, status)
        self.item_rows: list[dict] = []
        self.deploys: list[tuple] = []

    def moment(self, item: _Item | None) -> np.datetime64:
        """A working-hours moment (UTC) on the current day, after the item's latest event."""
        minutes = int(self.rng.integers(8 * 60, 18 * 60))
        at = self.midnights[self.day_no] + np.timedelta64(minutes, "m")
        if item is not None and item.last is not None and at <= item.last:
            at = item.last + np.timedelta64(int(self.rng.integers(1, 90)), "m")
        return at

    def move(self, item: _Item, status: str, day: pd.Timestamp, event: str = "status") -> None:
        at = self.moment(item)
        item.last = at
        if event == "status":
            old, new = _GROUP.get(item.status), _GROUP.get(status)
            if old != new:
                if old is not None:
                    self.groups[old].remove(item)
                if new is not None:
                    self.groups[new].append(item)
            item.status = status
        self.rows.append((item.key, at, event, "" if event == "unblocked" else status))

    def create(self, day: pd.Timestamp) -> None:
        n = len(self.items) + 1
        kind = str(self.rng.choice(_TYPES, p=_TYPE_P))
        work = float(self.rng.lognormal(np.log(_SIZE_MEAN[kind]), 0.7))
        item = _Item(key=f"FD-{n}", type=kind, created=day, work=max(work, 0.2))
        self.items.append(item)
        component = str(self.rng.choice(_COMPONENTS))
        if n % 97 == 13:
            title = _HOSTILE_TITLES[(n // 97) % len(_HOSTILE_TITLES)]
        else:
            verb = str(self.rng.choice(_VERBS[kind]))
            title = f"{component.capitalize()}: {verb} {self.rng.choice(_OBJECTS)}"
        labels = [component] + (["customer"] if self.rng.random() < 0.2 else [])
        self.item_rows.append(
            {
                "item_id": item.key,
                "title": title,
                "type": kind,
                "labels": ";".join(labels),
                "url": f"https://tracker.example.com/browse/{item.key}",
                "source": "demo",
                "lines_changed": int(self.rng.lognormal(np.log(120 * work), 0.6)),
            }
        )
        first = "To Do" if self.rng.random() < 0.3 else "Backlog"
        self.move(item, first, day)
        if self.rng.random() < 0.03:  # a status the workflow does not map
            self.move(item, "Needs Info", day)
            self.move(item, first, day)

    def at(self, statuses: set[str]) -> list[_Item]:
        group = _GROUP[next(iter(statuses))]
        return list(self.groups[group])

    def run(self) -> FlowData:
        rng = self.rng
        backlog = {"Backlog", "To Do"}
        ready = {"Ready", "Selected"}
        dev = {"In Progress", "Reopened"}
        review = {"Code Review", "In Review"}
        testing = {"Testing", "QA"}
        done_s = {"Done", "Released"}
        capacity = 8.0  # developer-days of work per working day
        reopen: dict[int, list[_Item]] = {}
        for d in range(DEMO_DAYS):
            day = DEMO_START + pd.Timedelta(days=d)
            self.day_no = d
            weekday = day.day_of_week < 5
            if not weekday:
                continue
            dev_limit = LIMIT_BEFORE if day < DEMO_LIMIT_CHANGE_DAY else LIMIT_AFTER
            for _ in range(rng.poisson(2.9)):
                self.create(day)

            # Backlog grooming: some ideas are dropped.
            pile = self.at(backlog)
            for k in rng.choice(len(pile), rng.binomial(len(pile), 0.004), replace=False):
                self.move(pile[k], "Won't Do", day)

            # Testing: finish or send back to development.
            for item in self.at(testing):
                item.test_work -= rng.uniform(0.4, 1.2)
                if item.test_work <= 0:
                    if rng.random() < 0.12:
                        item.done_work = item.work * 0.7
                        item.test_work = 0.5
                        self.move(item, "In Progress", day)
                    else:
                        self.move(item, "Done", day)
                        if rng.random() < 0.03:  # a defect found soon after delivery
                            reopen.setdefault(d + int(rng.integers(1, 12)), []).append(item)

            # Reopen a few delivered items.
            for item in reopen.pop(d, []):
                if item.status in done_s:
                    item.done_work = item.work * 0.8
                    self.move(item, "Reopened", day)

            # Review happens on its own; reviewed items move to Testing when testers have room.
            room = 3 - len(self.at(testing))
            for item in sorted(self.at(review), key=_last):
                if item.reviewed_on < 0:
                    item.reviewed_on = d + int(rng.geometric(0.7)) - 1
                if room > 0 and d >= item.reviewed_on:
                    item.reviewed_on = -1
                    self.move(item, "QA" if rng.random() < 0.2 else "Testing", day)
                    room -= 1

            # Pull into development at the start of the day, up to the limit.
            room = dev_limit - len(self.at(dev))
            for item in sorted(self.at(ready), key=_last)[: max(room, 0)]:
                self.move(item, "In Progress", day)

            # Development: more items in progress means each moves slower (and switching costs).
            in_dev = self.at(dev)
            active = [i for i in in_dev if i.blocked_until < d]
            if active:
                # Context switching costs; at most two people usefully swarm on one item.
                switching = max(0.3, 1 - 0.06 * max(0, len(active) - 3))
                per_item = min(capacity * switching / len(active), 2.5)
                for item in active:
                    item.done_work += per_item * rng.uniform(0.6, 1.2)
                    if item.done_work >= item.work:
                        self.move(item, "Code Review" if rng.random() < 0.8 else "In Review", day)
            for item in in_dev:
                if item.blocked_until == d:
                    self.move(item, "", day, event="unblocked")
                    item.blocked_until = -1
                elif item.blocked_until < d and rng.random() < 0.015:
                    item.blocked_until = d + int(rng.integers(1, 7))
                    # The reason rides in the blocked event's status (a source's flag comment or
                    # `blocked:REASON` label); chosen by key so the simulation's draws stay put.
                    reason = _BLOCK_REASONS[int(item.key[3:]) % len(_BLOCK_REASONS)]
                    self.move(item, reason, day, event="blocked")

            # Replenish: Backlog -> Ready up to 6.
            room = 6 - len(self.at(ready))
            queue = sorted(self.at(backlog), key=lambda i: (i.type != "Bug", i.created))
            for item in queue[: max(room, 0)]:
                self.move(item, "Selected" if rng.random() < 0.3 else "Ready", day)
            if rng.random() < 0.004 and self.at(dev):  # abandoned mid-flight
                self.move(self.at(dev)[0], "Won't Do", day)

            # Deployments: Thursdays, sometimes failing, then fixed the next working day.
            if day.day_of_week == 3 or (self.deploys and self.deploys[-1][3] == "failure"):
                status = "failure" if rng.random() < 0.12 else "success"
                at = self.midnights[d] + np.timedelta64(15 * 60 + int(rng.integers(0, 60)), "m")
                n = len(self.deploys) + 1
                self.deploys.append((f"deploy-{n}", at, "production", status, f"v1.{n}.0"))
                if rng.random() < 0.3:  # staging deploys are not delivery
                    staging = at - np.timedelta64(3, "h")
                    self.deploys.append((f"staging-{n}", staging, "staging", "success", "rc"))

        self.rows += _stand_up_story(self.rows, self.midnights[-1])
        events = pd.DataFrame(self.rows, columns=["item_id", "changed_at", "event", "status"])
        events["changed_at"] = pd.DatetimeIndex(events["changed_at"]).tz_localize("UTC")
        events["seq"] = np.arange(len(events), dtype="int64")
        deployments = pd.DataFrame(
            self.deploys, columns=["deploy_id", "deployed_at", "environment", "status", "version"]
        ).assign(source="demo")
        deployments["deployed_at"] = pd.DatetimeIndex(deployments["deployed_at"]).tz_localize("UTC")
        return FlowData(
            items=conform_items(pd.DataFrame(self.item_rows)),
            events=conform_events(events),
            deployments=conform_deployments(deployments),
            shipped=self.hotfix_contents(events, deployments),
            pull_requests=self.pull_requests(events),
        )

    def pull_requests(self, events: pd.DataFrame) -> pd.DataFrame:
        """Each item that reached review has a pull request: the first commit a few hours into
        development, opened (a quarter as drafts, ready later) when the item enters review,
        a first review by a colleague part way through (one in ten merged without one), merged
        when the item leaves review. Drawn from a generator of its own, so adding pull requests
        changed nothing else in the world."""
        rng = np.random.default_rng(self.seed + 1)
        ev = events[events["event"].eq("status")].sort_values(["item_id", "changed_at"])
        review = ev["status"].isin(["Code Review", "In Review"])
        started = ev[ev["status"].eq("In Progress")].groupby("item_id")["changed_at"].min()
        entered = ev[review].groupby("item_id")["changed_at"].min()
        after = ev.join(entered.rename("entered"), on="item_id")
        left = after[~review & (after["changed_at"] > after["entered"])]
        left = left.groupby("item_id")["changed_at"].min()
        prs = (
            pd.DataFrame({"opened": entered})
            .join(started.rename("started"))
            .join(left.rename("merged"))
        )
        prs = prs[prs["started"].notna() & (prs["started"] < prs["opened"])]
        n = len(prs)
        coding = prs["opened"] - prs["started"]
        lag = pd.to_timedelta(rng.lognormal(np.log(3), 0.8, n), unit="h")
        first_commit = prs["started"] + np.minimum(lag, coding * 0.5)
        draft = rng.random(n) < 0.25
        created = prs["opened"].where(~draft, first_commit + (prs["opened"] - first_commit) * 0.2)
        in_review = prs["merged"] - prs["opened"]
        reviewed = rng.random(n) >= 0.1
        first_review = prs["opened"] + in_review * rng.uniform(0.15, 0.75, n)
        return conform_pull_requests(
            pd.DataFrame(
                {
                    "item_id": prs.index,
                    "created_at": created.to_numpy(),
                    "ready_at": prs["opened"].where(draft).to_numpy(),
                    "first_commit_at": first_commit.to_numpy(),
                    "first_review_at": first_review.where(reviewed).to_numpy(),
                    "merged_at": prs["merged"].to_numpy(),
                }
            )
        )

    def hotfix_contents(self, events: pd.DataFrame, deployments: pd.DataFrame) -> pd.DataFrame:
        """The fix after a failed deployment ships only the bugs finished since the last good
        one (named explicitly, as a release note would); everything else waits for Thursday.
        This makes those deployments rework, as the DORA rework rate counts them."""
        prod = deployments[deployments["environment"].eq("production")].reset_index(drop=True)
        after_failure = prod["status"].shift(1).eq("failure") & prod["status"].eq("success")
        last_good = prod["deployed_at"].where(prod["status"].eq("success")).ffill().shift(1)
        kinds = {row["item_id"]: row["type"] for row in self.item_rows}
        done = events[events["status"].eq("Done") & events["item_id"].map(kinds).eq("Bug")]
        rows = [
            (fix["deploy_id"], item)
            for i, fix in prod[after_failure].iterrows()
            for item in done.loc[
                (done["changed_at"] > last_good[i]) & (done["changed_at"] <= fix["deployed_at"]),
                "item_id",
            ].unique()
        ]
        return pd.DataFrame(rows, columns=["deploy_id", "item_id"]) if rows else empty_shipped()


def _stand_up_story(rows: list[tuple], last_midnight: np.datetime64) -> list[tuple]:
    """Events added on the demo's last days so that its last board shows what a board is for:
    a column over its limit (an item moved from review into testing, which is full), a blocked
    item in progress, and an item beyond the SLE (a delivered bug that came back). Chosen from
    the simulated state without drawing from the random generator: the rest of the world, and
    every earlier day, stay exactly as simulated."""
    status: dict[str, str] = {}
    last: dict[str, np.datetime64] = {}
    done_at: dict[str, np.datetime64] = {}
    started: dict[str, np.datetime64] = {}
    for key, at, event, value in rows:
        last[key] = max(last.get(key, at), at)
        if event != "status":
            continue
        status[key] = value
        group = _GROUP.get(value)
        if group in ("dev", "review", "testing", "done"):
            started.setdefault(key, at)
        if group == "done":
            done_at[key] = at
    hour = np.timedelta64(60, "m")
    added: list[tuple] = []

    def now_in(groups: tuple[str, ...]) -> list[str]:
        keys = [k for k, v in status.items() if _GROUP.get(v) in groups]
        return sorted(keys, key=lambda k: (last[k], k))

    review = now_in(("review",))
    if review:  # the reviewer passes one more item to a full testing column
        key = review[0]
        added.append((key, max(last_midnight + 16 * hour, last[key] + hour), "status", "Testing"))
    dev = now_in(("dev",))
    if dev:  # waiting on another team since two days before the last
        key = dev[0]
        when = max(last_midnight - 2 * 24 * hour + 10 * hour, last[key] + hour)
        added.append((key, when, "blocked", "Waiting on another team"))
    window = (last_midnight - 14 * 24 * hour, last_midnight - 3 * 24 * hour)
    delivered = [k for k in now_in(("done",)) if window[0] <= done_at[k] <= window[1]]
    if delivered:  # the oldest of them comes back: its age counts from its first start
        key = min(delivered, key=lambda k: (started[k], k))
        added.append((key, last_midnight - 24 * hour + 9 * hour, "status", "Reopened"))
    return added


def demo_config() -> Config:
    """The demo's workflow, parsed and validated by the same code as a user's file."""
    return config_from_table(tomllib.loads(DEMO_WORKFLOW_TOML))


@lru_cache(maxsize=4)
def _demo(seed: int) -> FlowData:
    return _World(seed).run()


def demo_flow_data(seed: int = DEMO_SEED) -> FlowData:
    """The demo world's canonical frames (copies, so callers may modify them)."""
    data = _demo(seed)
    return FlowData(
        items=data.items.copy(),
        events=data.events.copy(),
        deployments=data.deployments.copy(),
        shipped=data.shipped.copy(),
        pull_requests=data.pull_requests.copy(),
    )


def demo_wip_limit_changes() -> pd.DataFrame:
    """The demo team's WIP-limit history: the kaizen experiment halfway through."""
    when = (DEMO_LIMIT_CHANGE_DAY + pd.Timedelta(hours=9, minutes=30)).tz_localize(DEMO_TIMEZONE)
    return pd.DataFrame(
        {
            "stage": ["In Progress"],
            "old_limit": [LIMIT_BEFORE],
            "new_limit": [LIMIT_AFTER],
            "changed_at": [when.tz_convert("UTC")],
            "who": ["Team lead"],
            "why": ["Kaizen: too many items in progress, each one waits; try a limit of 4"],
        }
    )
