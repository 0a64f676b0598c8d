"""The one exception family the CLI and the dashboard turn into a one-line message."""


class FlowdeckError(Exception):
    """A problem the user can fix: bad input, bad configuration, an unreachable source.

    The message is complete on its own (what is wrong, where, what would be valid) so the CLI
    can print it as a single line without a traceback.
    """


class ConfigError(FlowdeckError):
    """An invalid value or key in `flowdeck.toml` (or another settings table)."""


class InputError(FlowdeckError):
    """An input file that cannot be read as one of the formats of the spec."""
