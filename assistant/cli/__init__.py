"""The `assistant` command line: `commands` parses and runs `index`, `ask`, `stats`, `remove`; `eval` and
`sources` add their subcommands (`assistant eval`; `sources`, `refresh`, `watch`); `console` is what they
share (exit codes, settings from arguments, progress, a stdout that may close early).

`run` is the console script (pyproject.toml), `main` the same for callers that want the exit code;
`python -m assistant.cli` runs `__main__.py`.
"""

from assistant.cli.commands import main, run

__all__ = ["main", "run"]
