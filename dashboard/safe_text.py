"""Untrusted text (titles, labels, statuses from GitHub or Jira) made safe for each renderer.

Streamlit's markdown understands HTML-looking text, `:colour[...]` directives, `:emoji:` codes,
`$...$` maths and links; plotly's labels understand a few HTML tags. A title such as
`<script>...</script>` or `[click](javascript:...)` must show as those very characters, so every
untrusted string goes through one of these functions before it reaches either.
"""

from __future__ import annotations

import html
import string
from urllib.parse import quote, urlsplit

from connectors.secrets import scrub

_MARKDOWN_SPECIAL = set(string.punctuation)


def escape_markdown(text: object) -> str:
    """Backslash-escape every ASCII punctuation character (CommonMark allows it for all of them),
    so markdown, HTML, directives, emoji codes and maths all show as typed. Line breaks become
    spaces: one untrusted value never starts a new block. Credentials the process read are
    scrubbed first (an error message may quote a server that echoed them)."""
    value = "" if text is None else scrub(text)
    value = " ".join(value.split())
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in value)


def plot_text(text: object, limit: int = 80) -> str:
    """Text for plotly hover labels and ticks: HTML-escaped (plotly shows entities as the
    characters), shortened to `limit` characters."""
    value = "" if text is None else " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return html.escape(value, quote=False)


def safe_url(url: object) -> str | None:
    """An http(s) URL fit for a markdown link target, or None (other schemes such as
    `javascript:` are dropped; characters that would end the link are percent-encoded)."""
    value = "" if url is None else str(url).strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(value, safe=":/?#[]@!$&'*+,;=%-._~")
