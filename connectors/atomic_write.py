"""Writing a file whole or not at all: every file Flowdeck writes (exports, starter workflow
files, the rewritten `wip_limit`, the kaizen pack) goes through `write_atomically`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path | str, content: str | bytes) -> None:
    """Write `content` (text as UTF-8, line endings as given) to `path`: a temporary file in the
    same folder, renamed over the target, so that a failure or a kill never leaves a
    half-written file and a reader sees the old file or the new one. The folder must exist;
    the new file is private to the user (mode 0600), as `tempfile.mkstemp` creates it."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
