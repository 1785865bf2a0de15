"""`python -m flows.cli`: the `rex` command."""

from flows.cli import app

app()
