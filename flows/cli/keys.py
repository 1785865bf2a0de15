"""`rex keys`: the projects' keys."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from flows.cli.common import data_paths, fail

keys_app = typer.Typer(help="Manage project keys (kept outside the repo).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Argument(help="project name, as in the spec")],
) -> None:
    """Create a project's key in the key store (never replaces an existing one)."""
    from flows.stores import audit, audit_files
    from flows.stores.keys import KeyStoreError, create_key, discard_new_key
    from specs.model import PROJECT_NAME

    paths = data_paths(writes=True)
    if not PROJECT_NAME.fullmatch(project):
        fail(f"project name {project!r}: use lowercase letters, digits and dashes")
    try:
        key_print = create_key(paths.key_store, project)
    except KeyStoreError as error:
        # The message names the project and the key store, never the key.
        with contextlib.suppress(audit_files.AuditLogError):  # the refusal is said all the same
            audit.append(
                paths.audit_log, "refusal", action="key_create", project=project, reason=str(error)
            )
        fail(str(error))
        return
    except OSError as error:  # a full disk: no key file was left (flows.stores.keys.create_key)
        fail(f"the key of {project} cannot be written in {paths.key_store} ({error.strerror})")
        return
    try:
        audit.append(paths.audit_log, "key_created", project=project, key_fingerprint=key_print)
    except audit_files.AuditLogError as error:
        # A key whose creation is not logged is not kept: one that is in use is always logged.
        discard_new_key(paths.key_store, project, key_print)
        fail(f"{error}; the key of {project} was not created")
        return
    typer.echo(f"created the key of {project} (fingerprint {key_print}) in {paths.key_store}")
