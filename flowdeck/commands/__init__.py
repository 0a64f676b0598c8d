"""Sub-commands of the `flowdeck` CLI, one module per family.

Each module exposes `register(main, init)`, adding its commands to the top-level group and, for
`flowdeck init KIND`, to the `init` group. `flowdeck.cli` finds the modules here by itself.
"""
