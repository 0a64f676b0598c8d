"""`flowdeck digest`: the stand-up summary as text or Markdown, optionally posted to a chat."""

from __future__ import annotations

import click

from flowdeck.inputs import input_options, limit_history, load_inputs


def register(main: click.Group, init: click.Group) -> None:
    @main.command("digest")
    @input_options
    @click.option(
        "--format",
        "form",
        type=click.Choice(["text", "markdown"]),
        default="text",
        show_default=True,
        help="Plain text for a terminal or mail, Markdown for a chat.",
    )
    @click.option(
        "--post",
        is_flag=True,
        help="Send it (as Markdown) to the chat webhook in FLOWDECK_WEBHOOK_URL.",
    )
    def digest(form, post, **inputs):
        """Print the stand-up summary: columns over their limit, items beyond the SLE, blocked
        items and for how long, and whether the data is stale. For a cron job before the
        stand-up: `flowdeck digest --post`."""
        import os

        from connectors.secrets import load_secrets
        from flowdeck.digest import build_digest, render
        from metrics.errors import ConfigError

        loaded = load_inputs(**inputs)
        name = loaded.config.path.parent.name if loaded.config.path else "the demo team"
        history = limit_history(loaded, inputs["demo"], inputs["db"])
        summary = build_digest(loaded.data, loaded.config.workflow, loaded.as_of, history, name)
        if not post:
            click.echo(render(summary, form), nl=False)
            return
        from connectors.webhook import WEBHOOK_ENV, post_text

        directory = loaded.config.path.parent if loaded.config.path else None
        url = load_secrets(directory).get(WEBHOOK_ENV, "").strip() or os.environ.get(
            WEBHOOK_ENV, ""
        )
        if not url:
            raise ConfigError(
                f"--post needs the chat webhook's URL in {WEBHOOK_ENV} (an environment variable "
                "or .streamlit/secrets.toml)"
            )
        attempts = post_text(url, render(summary, "markdown"))
        tries = "" if attempts == 1 else f" after {attempts} attempts"
        click.echo(f"Posted the stand-up digest to the chat webhook{tries}.")
