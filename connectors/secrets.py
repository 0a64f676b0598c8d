"""Where credentials come from: environment variables, then `.streamlit/secrets.toml`.

The configuration only names which variable to read; values are never printed, logged or
written anywhere by Flowdeck. Error messages name the variable, never its value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from metrics.errors import ConfigError


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
    return value
