"""The `rex` command line: the root command and its groups, one module each (parsing and
printing only; the work is in the flows they call). Heavy libraries are imported inside the
commands, so --help is fast."""

from __future__ import annotations

import typer

from flows.cli.analyse import analyse_app
from flows.cli.audit import audit_app, verify_releases
from flows.cli.common import RexGroup
from flows.cli.demo import demo
from flows.cli.export import export_app
from flows.cli.keys import keys_app
from flows.cli.retention import retention_app
from flows.cli.serve import serve
from flows.cli.spec import spec_app
from flows.cli.synth import synth
from flows.cli.yearly import yearly_app

app = typer.Typer(
    cls=RexGroup,
    help="rex: pseudonymised research extracts, as a deliberation authorises them.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(spec_app, name="spec")
app.add_typer(keys_app, name="keys")
app.add_typer(export_app, name="export")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(yearly_app, name="yearly")
app.add_typer(analyse_app, name="analyse")
app.command()(synth)
app.command("verify")(verify_releases)
app.command()(serve)
app.command()(demo)
