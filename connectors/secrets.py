"""Where credentials come from: environment variables, then `.streamlit/secrets.toml`.

The configuration only names which variable to read; values are never printed, logged or
written anywhere by Flowdeck. Error messages name the variable, never its value, and every value
read through `require_secret` is remembered so that `scrub` takes it out of any text (a server's
error that echoes the request headers included) before that text leaves the process.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import tomllib
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from metrics.errors import ConfigError

if TYPE_CHECKING:
    from connectors.config import Config


def load_secrets(config_dir: Path | None = None) -> dict[str, str]:
    """Variable name -> value: top-level texts of `.streamlit/secrets.toml` (beside the workflow
    file, else in the working directory), overridden by the environment."""
    values: dict[str, str] = {}
    candidates = [Path.cwd() / ".streamlit" / "secrets.toml"]
    if config_dir is not None:
        candidates.insert(0, config_dir / ".streamlit" / "secrets.toml")
    for path in candidates:
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: not valid TOML ({exc})") from None
            values.update({k: v for k, v in data.items() if isinstance(v, str)})
            break
    values.update(os.environ)
    return values


def require_secret(secrets: Mapping[str, str], variable: str, source: str) -> str:
    """The value of `variable`, or a clear error naming the variable (never a value)."""
    value = secrets.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"source '{source}': the environment variable {variable} is not set "
            f"(export {variable}=... or put it in .streamlit/secrets.toml)"
        )
    remember_secret(value, variable)
    return value


# --- What leaves the process --------------------------------------------------------------------
# Every credential value this process read is remembered here, so that one function can take it
# out of any text before that text is printed, logged, shown on a page or written to the store.
# Matching values (not variable names) is what makes it hold for a variable called GH_CREDS as
# well as GITHUB_TOKEN, and for the forms a client derives from a value (Basic auth's base64).

#: Shorter values would replace ordinary words; no real token or password is this short.
MIN_SECRET_LENGTH = 6

_known: dict[str, str] = {}
_known_lock = threading.Lock()

#: A credential header echoed by a server, whatever its value: `Authorization: token ...`,
#: `'Authorization': 'Basic ...'`, `Bearer ...`. Covers values Flowdeck never read itself.
_AUTH_HEADER = re.compile(
    r"""(?P<head>(?:proxy-)?authorization['"]?\s*[:=]\s*['"]?\s*(?:token|bearer|basic)?\s*)"""
    # A credential, not a word of a title such as "Authorization: token refresh": long, in the
    # characters of tokens and base64, with a digit somewhere.
    r"""(?P<value>(?=[\w.+/=:-]*\d)[\w.+/=:-]{12,})""",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def remember_secret(value: str, label: str) -> None:
    """Hide `value` (and its URL-quoted and base64 forms) from every text that leaves the process;
    `label` (the variable's name, never its value) stands in its place."""
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return
    forms = {
        value: f"<{label}>",
        quote(value, safe=""): f"<{label}>",
        base64.b64encode(value.encode()).decode(): f"<base64 of {label}>",
    }
    with _known_lock:
        for form, stand_in in forms.items():
            if len(form) >= MIN_SECRET_LENGTH:
                _known.setdefault(form, stand_in)


def remember_basic_auth(user: str, password: str, user_label: str, password_label: str) -> None:
    """HTTP Basic credentials: the password, the `user:password` pair and its base64."""
    remember_secret(password, password_label)
    if user:
        remember_secret(f"{user}:{password}", f"{user_label}:{password_label}")


def remember_configured_secrets(config: Config, secrets: Mapping[str, str]) -> None:
    """Remember the credentials the sources name, so that text a process shows is scrubbed of
    them even before (or without) a connector reading them: a dashboard showing an old error."""
    for source in config.sources:
        token_env = getattr(source.settings, "token_env", None)
        if not token_env or not secrets.get(token_env):
            continue
        remember_secret(secrets[token_env], token_env)
        email_env = getattr(source.settings, "email_env", None)
        if email_env and secrets.get(email_env):
            remember_basic_auth(secrets[email_env].strip(), secrets[token_env].strip(),
                                email_env, token_env)  # fmt: skip


def remember_url_password(url: str, label: str) -> None:
    """The password of a connection URL (`postgresql://user:PASSWORD@host/db`), in its
    percent-encoded form as written and decoded, so that an error quoting the URL is scrubbed."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        remember_secret(password, f"password of {label}")
        remember_secret(unquote(password), f"password of {label}")


def forget_secrets() -> None:
    """Forget every remembered value (tests that run many processes' worth in one)."""
    with _known_lock:
        _known.clear()


def scrub(text: object) -> str:
    """`text` with every remembered credential, and any echoed Authorization header value,
    replaced by a placeholder naming where it came from."""
    result = str(text)
    with _known_lock:
        # Longest first: a pair `email:token` must go before the token inside it.
        known = sorted(_known.items(), key=lambda kv: len(kv[0]), reverse=True)
    for value, stand_in in known:
        if value in result:
            result = result.replace(value, stand_in)
    return _AUTH_HEADER.sub(_hide_header, result)


def _hide_header(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith("<") or value.startswith("***"):
        return match.group(0)
    return f"{match.group('head')}***"


def printable(text: object, limit: int = 500) -> str:
    """Untrusted text (a server's message, a title) made safe for one terminal line: credentials
    scrubbed, control characters (terminal escape sequences included) dropped, white space
    collapsed, length bounded."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in scrub(text))
    return " ".join(cleaned.split())[:limit]


def strip_controls(text: object) -> str:
    """`text` scrubbed and without control characters, line breaks and tabs kept."""
    return _CONTROL.sub("", scrub(text))


class ScrubbingLogRecords:
    """A log record factory that scrubs each record's message and traceback as it is made, so
    that no handler (Streamlit's, the root logger's, a deployment's) ever sees a credential."""

    def __init__(self, factory: Callable[..., logging.LogRecord]) -> None:
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return record
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            )
        return record


def scrub_logs() -> None:
    """Install the scrubbing record factory (once per process)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, ScrubbingLogRecords):
        logging.setLogRecordFactory(ScrubbingLogRecords(current))
