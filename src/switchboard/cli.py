"""The ``switchboard`` command: serve, migrate, demo data, users and API tokens, the routing simulator."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer

from switchboard.application.errors import ApplicationError
from switchboard.config import ConfigError, Settings, load_settings
from switchboard.domain.operators import Role

T = TypeVar("T")

app = typer.Typer(help="Switchboard: an omnichannel contact center with a built-in CRM.", no_args_is_help=True)
users_app = typer.Typer(help="People who use the desk.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
contacts_app = typer.Typer(help="The contact base.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        typer.echo(f"switchboard: {error}", err=True)
        raise typer.Exit(2) from None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except ApplicationError as error:
        field = f" ({error.field})" if error.field else ""
        typer.echo(f"switchboard: {error.detail}{field}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default SWITCHBOARD_HOST)."),
    port: int | None = typer.Option(None, help="Port (default SWITCHBOARD_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, max=32, help="Worker processes (PostgreSQL only; SQLite has one)."),
) -> None:
    """Serve the API, the websocket and the UI."""
    import uvicorn

    from switchboard.logs import configure

    settings = _settings()
    configure(settings.log_format, settings.log_level)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        typer.echo("switchboard: --workers > 1 needs PostgreSQL (SQLite has a single writer)", err=True)
        raise typer.Exit(2)
    uvicorn.run(
        "switchboard.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="warning",
        proxy_headers=True,
        timeout_graceful_shutdown=15,
    )


@app.command()
def migrate() -> None:
    """Apply the database migrations (idempotent)."""
    from switchboard.adapters.storage.database import Database
    from switchboard.adapters.storage.migrate import current, upgrade

    settings = _settings()

    async def go() -> str | None:
        database = Database(settings.database_url)
        try:
            await upgrade(database)
            return await current(database)
        finally:
            await database.dispose()

    try:
        revision = _run(go())
    except OSError as error:
        typer.echo(f"switchboard: cannot reach the database: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"database at revision {revision}")


@app.command()
def demo(force: bool = typer.Option(False, help="Load even when the database already has data.")) -> None:
    """Load demo data (lines, operators, 50 contacts with history) into an empty database."""
    from switchboard.demo import DEMO_LOGINS, load_demo

    settings = _settings()
    loaded = _run(load_demo(settings, force=force))
    if loaded is None:
        typer.echo("the database already has data; demo not loaded (use --force to add it anyway)")
    else:
        typer.echo("demo data loaded")
    typer.echo(f"sign in at http://{settings.host}:{settings.port} — demo logins (when the demo is loaded):")
    for login, password, role in DEMO_LOGINS:
        typer.echo(f"  {role:<11} {login} / {password}")


@users_app.command("create")
def users_create(
    login: str = typer.Argument(..., help="Sign-in name."),
    name: str = typer.Option(..., help="Full name."),
    role: Role = typer.Option(Role.OPERATOR, help="admin, supervisor or operator."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."
    ),
    email: str | None = typer.Option(None),
) -> None:
    """Create a person who signs in to the desk."""
    from switchboard.application.catalog import NewUser, create_user

    user = _run(_with_services(lambda s: create_user(s, None, NewUser(login, name, role, password, email))))
    typer.echo(f"created {user.role.value} {user.login} (id {user.id})")


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="What the token is for, e.g. 'shop website'."),
    role: Role = typer.Option(Role.INTEGRATION, help="integration (the API channel only) or a desk role."),
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from switchboard.application.auth import create_api_token

    token_id, token = _run(_with_services(lambda s: create_api_token(s, None, name, role)))
    typer.echo(f"token {token_id} ({role.value}): {token}")


async def _with_services(action: Any) -> Any:
    from switchboard.bootstrap import build

    container = build(_settings())
    try:
        return await action(container.services)
    finally:
        await container.database.dispose()


@contacts_app.command("duplicates")
def contacts_duplicates(
    min_score: float = typer.Option(0.82, "--min-score", help="Pairs scoring at least this (0 < S <= 1)."),
    output: str = typer.Option("jsonl", "--format", help="jsonl (one pair a line) or table."),
    save: bool = typer.Option(False, "--save", help="Also keep the pairs for GET /api/v1/contacts/suggestions."),
) -> None:
    """Print pairs of contacts that are probably one person: {"a": ID, "b": ID, "score": S}, with
    "a_external_id" and "b_external_id" (the import's ids) when either contact has one."""
    import json

    from switchboard.application.duplicates import duplicate_candidates
    from switchboard.application.suggestions import save_suggestions

    if not 0.0 < min_score <= 1.0:
        typer.echo("switchboard: --min-score must be greater than 0 and at most 1", err=True)
        raise typer.Exit(2)
    if output not in ("jsonl", "table"):
        typer.echo("switchboard: --format must be jsonl or table", err=True)
        raise typer.Exit(2)

    async def search(services: Any) -> list[Any]:
        found = list(await duplicate_candidates(services, min_score))
        if save:
            await save_suggestions(services, found)
        return found

    for pair in _run(_with_services(search)):
        if output == "table":
            why = ", ".join(f"{r.field} {r.similarity:.2f}" for r in pair.reasons if r.similarity > 0)
            ids = (
                f" [{pair.a_external_id or '-'} {pair.b_external_id or '-'}]"
                if pair.a_external_id or pair.b_external_id
                else ""
            )
            typer.echo(f"{pair.a:>8} {pair.b:>8}  {pair.score:.3f}  {why}{ids}")
            continue
        line: dict[str, object] = {"a": pair.a, "b": pair.b, "score": round(pair.score, 4)}
        if pair.a_external_id or pair.b_external_id:
            line.update(a_external_id=pair.a_external_id, b_external_id=pair.b_external_id)
        typer.echo(json.dumps(line, ensure_ascii=False))


@contacts_app.command("import")
def contacts_import(
    file: Path = typer.Argument(..., help="The CSV file, a header line first.", dir_okay=False),
    mapping: list[str] = typer.Option(..., "--map", help="column=field, once per column (see docs/contacts.md)."),
    date_format: str | None = typer.Option(None, "--date-format", help="strptime codes, e.g. %m/%d/%Y."),
    delimiter: str = typer.Option(",", "--delimiter", help="One character; \\t for a tab."),
    encoding: str = typer.Option("utf-8", "--encoding", help="The file's encoding, e.g. cp1251."),
) -> None:
    """Import contacts from a CSV file. Bad rows are listed with their line and reason and the good rows kept
    (exit 1 when some row failed); a file that cannot be used imports nothing (exit 2). Progress on stderr."""
    from switchboard.application.access import Principal
    from switchboard.application.contact_import import ImportOptions, check_encoding, encoding_of, import_contacts

    options = ImportOptions(tuple(mapping), date_format, "\t" if delimiter == "\\t" else delimiter)
    started = time.monotonic()

    def progress(rows: int) -> None:
        rate = rows / max(time.monotonic() - started, 1e-6)
        typer.echo(f"{rows:,} rows ({rate:,.0f} rows/s)", err=True)

    if not file.is_file():
        typer.echo(f"switchboard: {file} is not a readable file", err=True)
        raise typer.Exit(2)
    try:
        with file.open("rb") as raw:
            check_encoding(iter(lambda: raw.read(1 << 20), b""), encoding)
    except ApplicationError as error:
        typer.echo(f"switchboard: {error.detail} ({error.field})", err=True)
        raise typer.Exit(2) from None
    with file.open(encoding=encoding_of(encoding), newline="") as text:
        report = _run(_with_services(lambda s: import_contacts(s, Principal(Role.ADMIN), text, options, progress)))
    for outcome in report.outcomes:
        where = f"line {outcome.line}" if outcome.line else "file"
        if outcome.status == "matched":
            typer.echo(f"{where}: matched contact {outcome.contact_id} (filled: {', '.join(outcome.fields) or '-'})")
        else:
            typer.echo(f"{where}: failed: " + "; ".join(f"{p.field}: {p.message}" for p in outcome.problems))
    typer.echo(
        f"{report.rows} rows: {report.created} created, {report.matched} matched, {report.failed} failed "
        f"({time.monotonic() - started:.1f} s)"
    )
    if report.failed:
        raise typer.Exit(1)


def _register_simulator() -> None:
    try:
        from switchboard.cli_simulate import simulate_command
    except ImportError:  # pragma: no cover - the simulator ships with the routing engine
        return
    app.command("simulate", help="Simulate a line with the real routing engine and compare with Erlang C.")(
        simulate_command
    )


_register_simulator()


def main() -> None:
    try:
        app()
    except ConfigError as error:
        typer.echo(f"switchboard: {error}", err=True)
        sys.exit(2)
