"""The `flowdeck` command line: `cli.py` is the entry point; `commands/` has one module a family."""
