"""The subcommands of `ecr-cleaner`, one module each.

Each module declares a `COMMAND` (base.Command: name, help line, options, what it does)
and cleaner/cli.py lists them. A command checks its input (usage errors exit 2 before
any AWS call), then hands over to the layer that does the work: run/, serve/, demo/,
sandbox/, or, for `in-use` and `lifecycle`, the body beside it.
"""
