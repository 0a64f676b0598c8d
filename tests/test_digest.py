"""The morning digest: what it says on built histories and the demo, and `--post` against a
chat webhook served on 127.0.0.1 (retries, one-line errors, the URL never shown)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flowdeck.cli import main
from flowdeck.digest import build_digest, render
from metrics.days import end_of_day
from tests.flowbuild import flow, workflow

# Dev has a limit of 2 and holds 3 items; Z has been in Dev for 20 days, far beyond an SLE
# built from ten 2-day items; Y is blocked since 3 June. The data ends 3 June.
ROWS = [(f"D{i}", f"2024-05-{i + 1:02d} 09:00", "Dev") for i in range(1, 11)]
ROWS += [(f"D{i}", f"2024-05-{i + 2:02d} 09:00", "Done") for i in range(1, 11)]
ROWS += [
    ("X", "2024-06-02 09:00", "Dev"),
    ("Y", "2024-06-02 09:00", "Dev"),
    ("Y", "2024-06-03 10:00", "vendor", "blocked"),
    ("Z", "2024-05-15 09:00", "Dev"),
]
HISTORY = flow(
    *ROWS,
    items=[{"item_id": i, "title": t} for i, t in
           [("X", "Pay"), ("Y", "<!channel> ship"), ("Z", "Old one")]],
)  # fmt: skip


def test_the_digest_names_what_the_stand_up_should_talk_about():
    as_of = end_of_day("2024-06-03", "UTC")
    digest = build_digest(HISTORY, workflow(), as_of, None, "team A")
    assert digest.title == "Stand-up for team A, Mon 03 Jun 2024: 3 items in progress"
    assert digest.stale is None
    assert digest.over_limit == ["Dev: 3 items, limit 2"]
    assert digest.sle_days == 2.0
    assert digest.beyond_sle == ["Z Old one (Dev, 20 days old)"]
    assert digest.blocked == ["Y <!channel> ship (Dev, blocked for 1 day)"]

    text = render(digest, "text")
    assert text.splitlines()[0] == digest.title and "- Z Old one (Dev, 20 days old)" in text
    markdown = render(digest, "markdown")
    # A title cannot ping the channel or format the message.
    assert "<!channel>" not in markdown and "&lt;!channel&gt; ship" in markdown
    assert "*Beyond the SLE (2 days: 85% of items finish within it)*" in markdown


def test_stale_data_is_said_and_a_quiet_board_says_so():
    as_of = end_of_day("2024-06-10", "UTC")
    digest = build_digest(HISTORY, workflow(), as_of, None)
    assert digest.stale.startswith("The data ends on Mon 03 Jun 2024, 7 days ago")
    quiet = flow(("A", "2024-06-03 09:00", "Backlog"))
    text = render(build_digest(quiet, workflow(), end_of_day("2024-06-03", "UTC"), None), "text")
    assert "Nothing over its limit, nothing beyond the SLE, nothing blocked." in text


def test_digest_command_on_the_demo_replays_the_limits_in_force(capsys):
    assert main(["digest", "--demo", "--as-of", "2025-03-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stand-up for the demo team, Sat 01 Mar 2025")
    # In Progress had a limit of 8 then (the demo lowers it to 4 later): not over.
    assert "- Review: 8 items, limit 4" in out and "In Progress: " not in out
    assert "blocked for 12 days" in out


class Webhook:
    """A chat webhook on 127.0.0.1 that answers each POST with the next planned status."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.bodies = list(statuses), []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0SECRET/B0SECRET"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("statuses", [[200], [503, 200]])
def test_post_sends_the_markdown_digest(statuses, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    with Webhook(statuses) as hook:
        monkeypatch.setenv("FLOWDECK_WEBHOOK_URL", hook.url)
        assert main(["digest", "--demo", "--as-of", "2025-03-01", "--post"]) == 0
    out, err = capsys.readouterr()
    assert len(hook.bodies) == len(statuses)
    assert hook.bodies[-1]["text"].startswith("*Stand-up for the demo team, Sat 01 Mar 2025")
    assert out.startswith("Posted the stand-up digest")
    assert ("after 2 attempts" in out) == (len(statuses) == 2)
    assert "SECRET" not in out + err


def test_a_refused_post_is_one_line_without_the_url(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    with Webhook([404]) as hook:
        monkeypatch.setenv("FLOWDECK_WEBHOOK_URL", hook.url)
        assert main(["digest", "--demo", "--post"]) == 1
    out, err = capsys.readouterr()
    assert len(hook.bodies) == 1  # a 404 is not retried
    assert err.strip().splitlines() == [
        "error: the chat webhook answered 404 Not Found (the URL in FLOWDECK_WEBHOOK_URL); "
        "nothing was posted"
    ]
    assert "SECRET" not in out + err

    monkeypatch.delenv("FLOWDECK_WEBHOOK_URL")
    assert main(["digest", "--demo", "--post"]) == 1
    assert "--post needs the chat webhook's URL in FLOWDECK_WEBHOOK_URL" in capsys.readouterr().err
