"""The starter workflow file that `flowdeck init github` and `flowdeck init jira` write.

Built with tomlkit, so every value is written as TOML wants it whatever a board's names hold
(quotes, newlines, control characters), with the comments that tell the reader what to review.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tomlkit
from tomlkit.items import Table


def one_line(text: Any) -> str:
    """Text fit for a TOML comment: one line, no control characters."""
    words = " ".join(str(text).split())
    return "".join(c for c in words if c >= " " and c != "\x7f")


class StarterFile:
    """A workflow file written top to bottom: header comments, `[workflow]`, its
    `[[workflow.stages]]`, then `[[sources]]`. `set` and `comment` go to the table begun last
    (a comment written just before `stage()` or `source()` shows above that table's header)."""

    def __init__(self, header: Iterable[str]) -> None:
        self._doc = tomlkit.document()
        for line in header:
            self._doc.add(tomlkit.comment(one_line(line)))
        self._doc.add(tomlkit.nl())
        self._workflow = tomlkit.table()
        self._stages: list[Table] = []
        self._sources: list[Table] = []
        self._current: Table = self._workflow

    def set(self, key: str, value: Any, comment: str = "") -> None:
        item = tomlkit.item(value)
        if comment:
            item.comment(one_line(comment))
        self._current.add(key, item)

    def comment(self, text: str) -> None:
        self._current.add(tomlkit.comment(one_line(text)))

    def stage(self) -> None:
        """Begin the next `[[workflow.stages]]` table."""
        self._current = tomlkit.table()
        self._stages.append(self._current)

    def source(self) -> None:
        """Begin a `[[sources]]` table."""
        self._current = tomlkit.table()
        self._sources.append(self._current)

    def text(self) -> str:
        doc = self._doc.copy()
        workflow = self._workflow.copy()
        if self._stages:
            stages = tomlkit.aot()
            for table in self._stages:
                stages.append(table)
            workflow.add("stages", stages)
        doc.add("workflow", workflow)
        if self._sources:
            sources = tomlkit.aot()
            for table in self._sources:
                sources.append(table)
            doc.add("sources", sources)
        return tomlkit.dumps(doc)
