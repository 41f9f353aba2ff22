"""How every command fails: one line saying why, exit code 1, never a traceback."""

import functools

import click
from sqlalchemy.exc import OperationalError, ProgrammingError


def fail(message: str):
    """Stop a command with a one-line reason and exit code 1."""
    raise click.ClickException(message)


def database_errors(command):
    """Turn a database that is missing, unreachable or not migrated into one line."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            reason = str(error.orig).strip().splitlines()[0]
            fail(f"database error: {reason} (is it running, and did `flask db upgrade` run?)")

    return wrapped
