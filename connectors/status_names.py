"""Guessing a status's role from its name, for the starter files of `flowdeck init`.

Only a first draft for a person to review (the starter files say so): a wrong guess here is
caught in review, a missing one leaves the default.
"""

from __future__ import annotations

import re

#: "Left the system undelivered": Won't Do, Cancelled, Duplicate...
DISCARD = re.compile(
    r"won'?t|cancel|reject|declin|duplicate|invalid|abandon|obsolete|not (a bug|needed|doing)",
    re.IGNORECASE,
)
#: A queue between two activities: time there is waiting.
QUEUE = re.compile(r"ready|waiting|awaiting|queue|selected|to (test|review|deploy)", re.I)
#: Delivered.
DONE = re.compile(r"^(done|closed|complete[d]?|finished|shipped|released|deployed|merged|"
                  r"(in )?production|live)$", re.I)  # fmt: skip
#: Work has started on it.
STARTED = re.compile(r"in progress|doing|develop|wip|started|implement|building|coding", re.I)


def first_match(names: list[str], pattern: re.Pattern[str]) -> str | None:
    return next((n for n in names if pattern.search(n.strip())), None)
