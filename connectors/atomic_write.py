"""Writing a file whole or not at all: every file Flowdeck writes (exports, starter workflow
files, the rewritten `wip_limit`, the kaizen pack) goes through `write_atomically`, and the export
set through `replace_folder_files`."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

#: Each temporary name carries the writer's process id, so that a later writer can tell the
#: leftovers of a killed one (its process is gone) from the work of one still running.
_TEMP_TAG = ".flowdeck-tmp-"


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TEMP_TAG}{os.getpid()}-{secrets.token_hex(4)}")


def write_atomically(path: Path | str, content: str | bytes | list) -> None:
    """Write `content` (text as UTF-8, line endings as given; or bytes; or a list of byte
    buffers written one after the other) to `path`: a temporary file in the same folder,
    renamed over the target, so that a failure or a kill never leaves a half-written file and a
    reader sees the old file or the new one. The folder must exist.

    A new file gets the permissions the user's umask gives (created with 0666, as `open`
    would); a replaced file keeps its own."""
    path = Path(path)
    if isinstance(content, list):
        parts = content
    else:
        parts = [content.encode("utf-8") if isinstance(content, str) else content]
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder_files(
    folder: Path | str, names: Iterable[str], write: Callable[[Path], None]
) -> None:
    """Write a set of files into `folder` (created if missing) so that it holds either the old
    set or the new one, never a mix: `write(temporary_folder)` writes every file of `names`
    there, then the sets are swapped. Files of `folder` not in `names` stay.

    The swap is one rename when `folder` does not exist yet, one atomic exchange of the two
    folders when it holds nothing else (Linux `renameat2`), and otherwise a rename per file
    (a window of microseconds). When `write` fails, `folder` is untouched and the temporary
    folder is removed; one left by a killed process is removed by the next call."""
    folder = Path(folder)
    names = list(names)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(folder)
    tmp = _temp_name(folder)
    os.mkdir(tmp, 0o777)  # the umask applies, as to any folder the user makes
    try:
        write(tmp)
        if not folder.exists():
            os.rename(tmp, folder)
            return
        others = [p for p in folder.iterdir() if p.name not in names]
        if not others and _exchange(tmp, folder):
            shutil.rmtree(tmp)  # now the old set
            return
        for name in names:
            os.replace(tmp / name, folder / name)
        tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_leftovers(target: Path) -> None:
    prefix = f".{target.name}{_TEMP_TAG}"
    for leftover in target.parent.glob(f"{prefix}*"):
        pid = leftover.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
