"""`rex keys`: the projects' keys."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.common import data_paths, fail

keys_app = typer.Typer(help="Manage project keys (kept outside the repo).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Argument(help="project name, as in the spec")],
) -> None:
    """Create a project's key in the key store (never replaces an existing one)."""
    from flows.stores.keys import create_logged_key
    from specs.model import PROJECT_NAME

    paths = data_paths(writes=True)
    if not PROJECT_NAME.fullmatch(project):
        fail(f"project name {project!r}: use lowercase letters, digits and dashes")
    # a refusal names the project and the key store, never the key
    key_print = create_logged_key(paths.key_store, paths.audit_log, project)
    typer.echo(f"created the key of {project} (fingerprint {key_print}) in {paths.key_store}")
