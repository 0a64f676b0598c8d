"""Posting a message to a chat webhook (Slack-compatible `{"text": ...}`; Microsoft Teams and
Mattermost incoming webhooks accept the same). The URL is a secret: it is never printed, and an
error names the variable it came from, not the URL."""

from __future__ import annotations

import time

import requests

from connectors.secrets import printable, remember_secret
from metrics.errors import FlowdeckError

WEBHOOK_ENV = "FLOWDECK_WEBHOOK_URL"
#: Answers worth trying again: the chat service is busy or briefly down.
RETRY_STATUSES = {429, 500, 502, 503, 504}


def post_text(
    url: str,
    text: str,
    attempts: int = 3,
    backoff: float = 1.0,
    timeout: float = 15.0,
    variable: str = WEBHOOK_ENV,
) -> int:
    """POST `{"text": text}` to `url`; retries busy answers and network failures with growing
    waits (a 429's Retry-After when it gives one). Returns the number of attempts it took;
    raises FlowdeckError with one line that names `variable`, never the URL."""
    remember_secret(url, variable)
    if not url.lower().startswith(("https://", "http://")):
        raise FlowdeckError(f"{variable} is not an http(s) URL")
    problem = ""
    for attempt in range(1, attempts + 1):
        try:
            answer = requests.post(url, json={"text": text}, timeout=timeout,
                                   allow_redirects=False)  # fmt: skip
        except requests.RequestException as exc:
            problem = f"could not reach the chat webhook ({type(exc).__name__})"
        else:
            if 200 <= answer.status_code < 300:
                return attempt
            problem = f"the chat webhook answered {answer.status_code} {answer.reason or ''}"
            if answer.status_code not in RETRY_STATUSES:
                break
            retry_after = answer.headers.get("Retry-After", "")
            if retry_after.isdigit() and attempt < attempts:
                time.sleep(min(float(retry_after), 60.0))
                continue
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    raise FlowdeckError(f"{printable(problem.strip())} (the URL in {variable}); nothing was posted")
