"""`python -m assistant.cli ...`: the `assistant` command without the console script."""

from assistant.cli.commands import run

run()
