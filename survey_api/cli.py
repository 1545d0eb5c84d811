"""The `survey-api` command: a Flask CLI group with the operator's commands."""

import io
import os
import re
import shutil
import sqlite3
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import create_app
from .db import connect, write_tx
from .migrations import current_version, migrate
from .passwords import hash_password
from .proxy import trusted_addresses
from .roles import ROLES
from .services import accounts
from .serving import gunicorn_command
from .storage import units as unit_store
from .storage import users as user_store

USERNAME_RE = r"[\w.@+-]{1,150}"  # as POST /users (schemas/users.py)


def _create_app():
    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    load_dotenv=False,
    add_version_option=True,
)
def main():
    """survey-api: the door-to-door survey backend (入户走访 / 问题清单 / 整改清单)."""


def _conn():
    app = current_app
    return connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])


@main.command("init-db")
@with_appcontext
def init_db():
    """Create the database or migrate it to the latest schema (safe to repeat)."""
    conn = _conn()
    # The app this command runs in has already migrated as it started: report that too.
    applied = current_app.extensions.get("migrations_applied_at_start", []) + migrate(conn)
    version = current_version(conn)
    conn.close()
    if applied:
        click.echo(f"Migrated {current_app.config['DATABASE']} to schema version {version}.")
    else:
        click.echo(
            f"{current_app.config['DATABASE']} is at schema version {version}; nothing to do."
        )


@main.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option(
    "--unit",
    "units",
    multiple=True,
    help="Unit code (repeat for a grid worker's several grids; none for admin).",
)
@click.option("--display-name", default="", help="Name shown in lists.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
@with_appcontext
def create_user(username, role, units, display_name, password_stdin):
    """Create a user with a role and its units (password prompted unless --password-stdin)."""
    if not re.fullmatch(USERNAME_RE, username):
        raise click.UsageError("A username is 1-150 letters, digits or . @ + - _ characters.")
    conn = _conn()
    try:
        if role != "admin" and not units:
            raise click.UsageError(f"--unit is required for role {role}.")
        for code in units:
            if unit_store.get(conn, code) is None:
                raise click.UsageError(f"No unit {code}; import units first.")
        try:
            accounts.check_units_for_role(conn, role, list(units), field="--unit")
        except Exception as e:  # ApiError: show its detail as a usage error
            raise click.UsageError(str(getattr(e, "errors", None) or e)) from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise click.UsageError("The password needs at least 8 characters.")
        if user_store.get_by_username(conn, username):
            raise click.ClickException(f"User {username} exists already.")
        with write_tx(conn):
            user = user_store.create(
                conn,
                username=username,
                password_hash=hash_password(password),
                role=role,
                unit_codes=list(units),
                display_name=display_name,
            )
        click.echo(f"Created {role} {username} ({user['id']}).")
    finally:
        conn.close()


@main.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_units(file):
    """Import units from a CSV with header code,name,level,parent_code (all or nothing)."""
    from .services.unit_import import UnitImportError, import_units_csv

    try:
        with open(file, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except UnicodeDecodeError:
        click.echo("Nothing imported: the file is not UTF-8 text.", err=True)
        sys.exit(1)
    conn = _conn()
    try:
        created, updated = import_units_csv(conn, io.StringIO(text))
    except UnitImportError as e:
        for line in e.problems:
            click.echo(line, err=True)
        bad = {line.split(":", 1)[0] for line in e.problems}
        click.echo(f"Nothing imported: {len(bad)} bad row(s).", err=True)
        sys.exit(1)
    finally:
        conn.close()
    click.echo(f"Imported units: {created} created, {updated} updated.")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Seed the demo district first if the database is empty.")
@with_appcontext
def serve(host, port, workers, demo):
    """Migrate, then serve the API with gunicorn."""
    conn = _conn()
    migrate(conn)
    empty = user_store.count(conn) == 0
    conn.close()
    if demo and empty:
        from .demo import seed_demo

        logins = seed_demo(current_app)
        _print_logins(logins)
    env = dict(os.environ, SURVEY_API_INSTANCE_PATH=current_app.instance_path)
    args = gunicorn_command(
        f"{host}:{port}",
        workers,
        timeout=120,
        graceful_timeout=5,
        access_log=True,
        extra=["--forwarded-allow-ips", ",".join(sorted(trusted_addresses(current_app.config)))],
    )
    click.echo(f"Serving on http://{host}:{port}/api/v1 (OpenAPI: /api/v1/openapi.json)")
    sys.stdout.flush()
    os.execvpe(sys.executable, args, env)


def _print_logins(logins):
    click.echo("Demo logins (username / password / role / unit):")
    for login in logins:
        click.echo(
            f"  {login['username']:<18} {login['password']:<14} {login['role']:<15} "
            f"{login.get('unit') or '-'}"
        )


@main.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
@with_appcontext
def backup(dest):
    """Online backup to DEST (SQLite backup API; blobs copied to DEST.blobs/)."""
    folder = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(folder):
        raise click.ClickException(f"No folder {folder} to back up into.")
    src = _conn()
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    blob_dir = current_app.config["BLOB_DIR"]
    if os.path.isdir(blob_dir):
        shutil.copytree(blob_dir, dest + ".blobs", dirs_exist_ok=True)
    else:
        os.makedirs(dest + ".blobs", exist_ok=True)
    click.echo(f"Backed up to {dest} (blobs in {dest}.blobs/)")


@main.command("demo")
@with_appcontext
def demo():
    """Seed the demo district (张店区) into an empty database and print its logins."""
    from .demo import DemoRefused, seed_demo

    conn = _conn()
    migrate(conn)
    conn.close()
    try:
        logins = seed_demo(current_app)
    except DemoRefused as e:
        click.echo(f"Refused: {e}", err=True)
        sys.exit(1)
    click.echo(f"Seeded the demo district into {current_app.config['DATABASE']}.")
    _print_logins(logins)


@main.command("bench")
@click.option(
    "--scale",
    type=click.Choice(["tiny", "small", "full"]),
    default="full",
    show_default=True,
    help="District size: full = 250,000 households.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Also write the figures as JSON to this file.",
)
@click.option(
    "--runs",
    default=3,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Measure this many times and report medians.",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(2, 64),
    help="gunicorn workers (default: the CPU count, at least 2).",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    help="Build into this (empty) folder and keep it, instead of a temp folder.",
)
def bench(scale, json_path, runs, workers, keep):
    """Benchmark: build a synthetic district, serve it with gunicorn, measure (DESIGN §9)."""
    from . import bench as bench_pkg

    result = bench_pkg.run(
        scale, runs=runs, workers=workers, keep=keep, log=lambda msg: click.echo(msg, err=True)
    )
    click.echo(bench_pkg.table(result))
    if json_path:
        bench_pkg.write_json(result, json_path)
        click.echo(f"Wrote {json_path}")


@main.command("soak")
@click.option(
    "--cycles",
    default=1000,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Kill cycles (0 skips them).",
)
@click.option(
    "--minutes",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, 24 * 60),
    help="Minutes of concurrent load, with a backup under it (0 skips both).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Also write the figures as JSON to this file.",
)
@click.option("--seed", type=int, help="Random seed (default: a new one, printed).")
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    help="Run in this (empty) folder and keep it, instead of a temp folder.",
)
@click.option(
    "--cold", is_flag=True, help="Restart with a fresh `python -m gunicorn` each time (slower)."
)
def soak(cycles, minutes, json_path, seed, keep, cold):
    """Reliability soak: kill cycles, concurrency, backup under load (DESIGN §12).

    Runs its own temporary instance on 127.0.0.1; exits 1 when any failure count is not 0.
    """
    from . import soak as soak_pkg

    result = soak_pkg.run(
        cycles, minutes, seed=seed, keep=keep, cold=cold, log=lambda msg: click.echo(msg, err=True)
    )
    click.echo(soak_pkg.table(result))
    if json_path:
        soak_pkg.write_json(result, json_path)
        click.echo(f"Wrote {json_path}")
    sys.exit(1 if result["failures"] else 0)


@main.command("calendar-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def calendar_import(file):
    """Import working-day overrides from a CSV `date,is_workday,name` (all or nothing).

    One row per day of a holiday notice: `2027-10-01,0,国庆节` for a day off,
    `2027-10-09,1,国庆节调休` for a make-up workday. Existing overrides of those days are
    replaced; deadlines computed afterwards use them.
    """
    from .services.calendar_import import CalendarImportError, parse, store

    with open(file, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    try:
        rows = parse(io.StringIO(text))
    except CalendarImportError as e:
        for line in e.problems:
            click.echo(line, err=True)
        click.echo(f"Nothing imported: {len(e.problems)} bad row(s).", err=True)
        sys.exit(1)
    conn = _conn()
    try:
        migrate(conn)
        with write_tx(conn):
            created, updated = store(conn, rows)
            from .storage import audit

            audit.record(
                conn,
                actor=None,
                action="calendar.import",
                target=os.path.basename(file),
                details={"created": created, "updated": updated},
            )
    finally:
        conn.close()
    click.echo(f"Imported calendar overrides: {created} created, {updated} updated.")


@main.command("import-households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--verbose", "-v", is_flag=True, help="List every row, not only the rejected ones.")
@with_appcontext
def import_households(file, verbose):
    """Import a household roster (台账) from CSV or XLSX, row by row.

    Row 1 is the header: grid_code,address,building,unit_no,room,head_name,phone,members,
    tags,notes (optional id), or the Chinese headers 网格编码, 地址, 楼栋, 单元, 房号, 户主姓名,
    联系电话, 人数, 标签, 备注. Tags are separated by | or 、. A row matches a household by id,
    else by (grid_code, address, building, unit_no, room). Good rows are imported, bad rows
    listed; exits 1 when any row was rejected or the file could not be read.
    """
    from .services.household_import import ImportFileError
    from .services.household_import import import_households as run_import
    from .storage import audit

    with open(file, "rb") as f:
        data = f.read()
    conn = _conn()
    try:
        migrate(conn)
        try:
            report = run_import(conn, data, holds_grid=lambda code: True)
        except ImportFileError as e:
            click.echo(f"Nothing imported: {e}", err=True)
            for field_name, messages in e.errors.items():
                click.echo(f"  {field_name}: {'; '.join(messages)}", err=True)
            sys.exit(1)
        body = report.as_dict()
        with write_tx(conn):
            audit.record(
                conn,
                actor=None,
                action="household.import",
                target=os.path.basename(file),
                details=body["summary"],
            )
    finally:
        conn.close()
    for row in body["rows"]:
        if row["status"] == "rejected":
            reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in row["errors"].items())
            click.echo(f"row {row['row']}: rejected: {reasons}", err=True)
        elif verbose:
            extra = f" ({', '.join(row['fields'])})" if row.get("fields") else ""
            click.echo(f"row {row['row']}: {row['status']} {row['id']}{extra}")
    if body["ignored_columns"]:
        click.echo(f"Ignored columns: {', '.join(body['ignored_columns'])}", err=True)
    s = body["summary"]
    click.echo(
        f"Imported households: {s['created']} created, {s['updated']} updated, "
        f"{s['unchanged']} unchanged, {s['rejected']} rejected."
    )
    if s["rejected"]:
        sys.exit(1)
