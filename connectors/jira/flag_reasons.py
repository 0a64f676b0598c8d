"""Why an issue was flagged: the comment Jira writes when someone adds a flag with a reason.

Flagging an issue on a board with a comment changes the Flagged field (a changelog entry) and,
in the same action, adds a comment by the same person whose body starts with the flag emoji and
a "Flag added" line, then the reason:

- Data Center, and Cloud's REST API v2 (wiki markup): `"(flag) Flag added\\n\\nWaiting on vendor"`.
- Cloud's REST API v3 (Atlassian Document Format): a paragraph holding the `atlassian-flag_on`
  emoji and the text " Flag added", then paragraphs holding the reason.

The changelog entry does not point at its comment, so the two are paired here: a flag comment
belongs to a flag change by the same author made at most `MATCH_SECONDS` apart; pairs are made
nearest first, each change and each comment used once. The "Flag added" line is in the language
of whoever flagged (`(flag) Sinalizador adicionado`), so only the `(flag)` emoji is relied on:
the reason is what follows the first blank line, or, for a one-line comment, what follows the
emoji unless it is the English "Flag added" alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.secrets import printable

MATCH_SECONDS = 60
"""How far apart a flag change and its comment may be. Jira writes both in one request, well
within a second; a minute allows for a slow site without pairing a later, unrelated comment."""
REASON_LIMIT = 200
"""Characters kept of a reason: the Blockers page groups by it, so it is a label, not a story."""

FLAG_EMOJI = "(flag)"
_ADF_FLAG_IDS = {"atlassian-flag_on", ":flag_on:"}
_ADDED = "flag added"


def _adf_inline(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text") or "")
    if kind == "hardBreak":
        return "\n"
    if kind == "emoji":
        if attrs.get("id") in _ADF_FLAG_IDS or attrs.get("shortName") in _ADF_FLAG_IDS:
            return FLAG_EMOJI
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("mention", "status", "date", "inlineCard"):
        return str(attrs.get("text") or attrs.get("url") or "")
    return "".join(_adf_inline(c) for c in node.get("content") or [] if isinstance(c, Mapping))


def comment_text(body: Any) -> str:
    """A comment body as wiki-like text: a string as it is; an ADF document with its blocks
    separated by blank lines, as the wiki rendering of the same comment would be."""
    if isinstance(body, str):
        return body
    if not isinstance(body, Mapping):
        return ""
    blocks = [b for b in body.get("content") or [] if isinstance(b, Mapping)]
    return "\n\n".join(_adf_inline(b) for b in blocks)


def flag_reason(body: Any) -> str | None:
    """The reason given in a flag comment ("" when it gives none); None when the comment is
    not a flag comment. One line, printable, at most `REASON_LIMIT` characters."""
    text = comment_text(body).replace("\r\n", "\n").lstrip()
    if not text.startswith(FLAG_EMOJI):
        return None
    head, blank, rest = text[len(FLAG_EMOJI) :].partition("\n\n")
    if blank:
        reason = rest
    elif " ".join(head.split()).casefold() == _ADDED:
        reason = ""
    else:
        reason = head
    return printable(reason, REASON_LIMIT)


def who(user: Any) -> str:
    """A user's identity in a changelog entry or a comment: Cloud's account id, else Data
    Center's user key, else its user name."""
    if not isinstance(user, Mapping):
        return ""
    return str(user.get("accountId") or user.get("key") or user.get("name") or "")


def embedded_comments(fields: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The comments a search returned with an issue (`fields=comment`)."""
    container = fields.get("comment")
    if isinstance(container, Mapping):
        comments = container.get("comments") or []
    elif isinstance(container, list):
        comments = container
    else:
        comments = []
    return [c for c in comments if isinstance(c, Mapping)]


def match_reasons(
    flag_changes: Sequence[tuple[str, datetime, str]],
    comments: Iterable[Mapping[str, Any]],
    instant,
) -> dict[str, str]:
    """History id -> reason, for flag changes `(history id, when, author)` (oldest first) that
    have a flag comment by the same author within `MATCH_SECONDS`; `instant` parses Jira times.

    Pairs are made nearest first, each change and each comment used once (ties: the older
    comment, then the older change)."""
    candidates = []
    for comment in comments:
        reason = flag_reason(comment.get("body"))
        if reason is None or not comment.get("created"):
            continue
        try:
            when = instant(comment["created"])
        except (TypeError, ValueError):
            continue  # a comment whose time cannot be read cannot be paired
        candidates.append((when, who(comment.get("author")), reason))
    # Nearest pairs first, over all changes at once: a flag set a millisecond before another
    # must not take the later one's comment just because it comes first.
    pairs = sorted(
        (abs((said - when).total_seconds()), said, c, h)
        for h, (_, when, author) in enumerate(flag_changes)
        for c, (said, by, _) in enumerate(candidates)
        if by == author and abs((said - when).total_seconds()) <= MATCH_SECONDS
    )
    used_changes: set[int] = set()
    used_comments: set[int] = set()
    out: dict[str, str] = {}
    for _, _, c, h in pairs:
        if h in used_changes or c in used_comments:
            continue
        used_changes.add(h)
        used_comments.add(c)
        out[flag_changes[h][0]] = candidates[c][2]
    return out
