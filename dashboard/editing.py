"""Who may change WIP limits from the dashboard.

- A password is set (`FLOWDECK_EDITOR_PASSWORD`, or `editor_password` in
  `.streamlit/secrets.toml`): every edit asks for it.
- No password, and the server listens only on loopback (`flowdeck dashboard`'s default
  127.0.0.1): anyone at this machine may edit, as they could edit the file.
- No password, and the server listens on anything else (`--host 0.0.0.0`, or `streamlit run`
  without an address, which listens everywhere): read-only, with a line on how to enable edits.

The password is compared in constant time and never logged, shown or stored.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass

import streamlit as st

from connectors.secrets import remember_secret

PASSWORD_ENV_VAR = "FLOWDECK_EDITOR_PASSWORD"
PASSWORD_SECRET = "editor_password"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class EditRights:
    can_edit: bool
    needs_password: bool
    reason: str
    """Why editing is off, and how to turn it on (empty when editing is allowed)."""


def _configured_password() -> str | None:
    value = os.environ.get(PASSWORD_ENV_VAR, "")
    if value:
        # Like every credential the process reads: scrubbed from any text it shows or logs.
        remember_secret(value, PASSWORD_ENV_VAR)
        return value
    try:
        secret = st.secrets.get(PASSWORD_SECRET)
    except Exception:  # no secrets file, or one that is not valid TOML: no password from it
        return None
    if not secret:
        return None
    remember_secret(str(secret), PASSWORD_SECRET)
    return str(secret)


def is_loopback(address: str | None) -> bool:
    """True for an address that only this machine can reach; None or empty (Streamlit then
    listens on every interface), 0.0.0.0, :: and any routable address are not."""
    if not address:
        return False
    text = address.strip().strip("[]")
    if text.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def edit_rights() -> EditRights:
    if _configured_password() is not None:
        return EditRights(can_edit=True, needs_password=True, reason="")
    address = st.get_option("server.address")
    if is_loopback(address):
        return EditRights(can_edit=True, needs_password=False, reason="")
    where = address or "every network interface"
    return EditRights(
        can_edit=False,
        needs_password=False,
        reason=(
            f"This dashboard listens on {where}, so anyone who can reach it could change the "
            f"limits: editing is off. To enable it, set {PASSWORD_ENV_VAR} (or "
            f"`{PASSWORD_SECRET}` in .streamlit/secrets.toml) before starting the dashboard, or "
            "start it on this machine only (`flowdeck dashboard` listens on 127.0.0.1), or use "
            "`flowdeck limits set`."
        ),
    )


def password_ok(given: str) -> bool:
    expected = _configured_password()
    if expected is None:
        return True
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
