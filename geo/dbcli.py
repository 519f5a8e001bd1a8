"""Command line of the deployment's database: ``python -m geo db upgrade|import|export|status|backup|restore``.

The database is the deployment's (:func:`geo.db.url_of`: ``DASHBOARD_DATABASE_URL``, else the embedded
SQLite file). Exit codes: 0 done; 1 the data has errors (nothing written), the schema needs
``db upgrade``, or there is nothing to export; 2 bad usage, a refused mode, an unusable URL or an
unreachable database, or a command that is not for this engine (``backup``/``restore`` on PostgreSQL,
which prints the ``pg_dump``/``pg_restore`` commands instead). Every failure is one message, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from geo import cli, db, dbexport, dbimport, deployment, store, users
from geo.cli import PUBLIC_WITHHELD_COUNTS, UsageError, _print_report, add_input_options, without_values
from geo.schema import CONTRACT, INPUTS, RECORDS

UPGRADE_HINT = "run: python -m geo db upgrade"


class DatabaseError(Exception):
    """The database cannot be used as asked (exit 2, or the code given)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- which database


def _url(args: argparse.Namespace) -> URL:
    try:
        return db.url_of(cli.settings_of(args))
    except ValueError as exc:
        raise DatabaseError(str(exc)) from None


def _engine(args: argparse.Namespace, url: URL) -> Engine:
    return db.engine(cli.settings_of(args), url=url)


def _sqlite_file(url: URL) -> Path | None:
    return Path(url.database) if url.get_backend_name() == "sqlite" else None


def _reachable(url: URL, eng: Engine, create: bool = False) -> None:
    """:class:`DatabaseError` when the database cannot be reached (an embedded file that is not there yet,
    unless ``create``)."""
    path = _sqlite_file(url)
    if path is not None and not create and not path.exists():
        raise DatabaseError(f"there is no database at {path} yet; {UPGRADE_HINT} (or db import) to create it", 1)
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"cannot reach the database {db.describe(url)}: {_reason(exc)}") from None
    except OSError as exc:  # the embedded database's own checks (WAL mode on this disk)
        raise DatabaseError(f"cannot use the database {db.describe(url)}: {exc}") from None


def _reason(exc: BaseException) -> str:
    """The driver's first line of an error (never the URL: it may hold the password)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _schema_ready(url: URL, eng: Engine) -> str:
    """The database's schema version; :class:`DatabaseError` (exit 1) when it is not this code's."""
    version = db.current(eng)
    if version is None:
        raise DatabaseError(f"the database {db.describe(url)} has no schema yet; {UPGRADE_HINT}", 1)
    if version != db.head():
        raise DatabaseError(
            f"the database {db.describe(url)} is at schema version {version}, this code needs {db.head()}; "
            f"{UPGRADE_HINT}",
            1,
        )
    return version


def _known_version(version: str | None) -> bool:
    from alembic.script import ScriptDirectory

    if version is None:
        return False
    try:
        return ScriptDirectory(str(db.MIGRATIONS)).get_revision(version) is not None
    except Exception:  # noqa: BLE001 - alembic's own errors for a revision it does not know
        return False


# ---------------------------------------------------------------- progress


def progress_bar(stream=None) -> tuple[dbimport.Progress, Callable[[], None]]:
    """A tqdm bar per step on ``stream`` (stderr; none when it is not a terminal), and a function that
    closes the last one."""
    from tqdm import tqdm

    stream = stream or sys.stderr
    bars: list = []

    def close() -> None:
        while bars:
            bars.pop().close()

    def start(label: str, total: int | None) -> Callable[[int], None]:
        close()
        bar = tqdm(total=total, desc=label, unit=" rows" if total else "", file=stream, disable=None, leave=False)
        bars.append(bar)
        return bar.update

    return start, close


# ---------------------------------------------------------------- the commands


def _known_schema(url, eng: Engine, nothing: str) -> None:
    """Refuse a database whose schema version this code does not know (a newer dashboard's)."""
    version = db.current(eng)
    if version is not None and not _known_version(version):
        raise DatabaseError(
            f"the database {db.describe(url)} is at schema version {version}, which this code does not know "
            f"(made by a newer version of the dashboard?); {nothing}"
        )


def cmd_upgrade(args: argparse.Namespace) -> int:
    url = _url(args)
    eng = _engine(args, url)
    _reachable(url, eng, create=True)
    _known_schema(url, eng, "nothing was changed")
    before, after = db.upgrade(eng)
    print(f"database: {db.describe(url)}")
    if before == after:
        print(f"schema version {after}: up to date")
    else:
        print(f"schema version {before or 'none'} -> {after}")
    return 0


def _modes(args: argparse.Namespace) -> dict[str, str]:
    modes: dict[str, str] = {}
    for mode in dbimport.MODES:
        for name in getattr(args, mode):
            if name not in CONTRACT:
                raise UsageError(f"--{mode} {name}: not an input; inputs are {', '.join(CONTRACT)}")
            if modes.get(name, mode) != mode:
                raise UsageError(f"--replace {name} and --append {name}: give one of them")
            modes[name] = mode
    return modes


def cmd_import(args: argparse.Namespace) -> int:
    from geo.public import PublicPolicy

    given = [name for name in INPUTS if getattr(args, name) is not None]
    records = {name: getattr(args, name) for name in RECORDS if getattr(args, name) is not None}
    if not given and not records and not args.demo and not args.own:
        raise UsageError("give the files to import (--sections FILE, --incidents FILE, …), --demo or --own")
    if given or args.demo or args.own:
        source = cli.source_from_args(args, sections_stored=True)
        paths, options = dict(source.paths), source.options
    else:
        paths, options = {}, None
    paths |= records
    modes = _modes(args)
    url = _url(args)
    eng = _engine(args, url)
    _reachable(url, eng, create=True)
    _known_schema(url, eng, "nothing was imported")
    files = {name: str(path) for name, path in source.paths.items()}
    if not db.ready(eng):
        db.upgrade(eng)
    try:  # the audit log has the import before it happens; an import that cannot be recorded is not made
        users.record(eng, users.os_actor(), "import", {"files": files, "modes": modes, "via": "command line"})
    except users.AuditError as exc:
        print(f"nothing was imported: the audit log could not be written ({exc})", file=sys.stderr)
        return 1
    start, close = progress_bar()
    try:
        outcome = dbimport.run(eng, paths, options, modes, progress=start)
    except dbimport.ImportRefused as exc:
        raise UsageError(str(exc)) from None
    finally:
        close()
    report = outcome.report
    public = PublicPolicy.from_settings(cli.settings_of(args)) is not None
    _print_report(without_values(report) if public else report, sys.stdout, PUBLIC_WITHHELD_COUNTS if public else ())
    print()
    if not outcome.ok:
        print(f"nothing was imported into {db.describe(url)}: the data has errors (the database is unchanged)")
        return 1
    print(f"import {outcome.import_id} written to {db.describe(url)}:")
    for name in dbimport.ORDER:
        if name not in outcome.added:
            continue
        removed = outcome.removed.get(name)
        gone = f", removed {removed:,} imported before" if removed is not None else ""
        print(f"  {name:<11} {outcome.modes[name]}: added {outcome.added[name]:,}{gone}")
    if "sections" in outcome.added:
        print(f"  re-joined to the new sections: {outcome.rejoined:,} stored records changed section")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    url = _url(args)
    eng = _engine(args, url)
    _reachable(url, eng)
    _schema_ready(url, eng)
    try:
        done = dbexport.export(eng, args.out, progress=lambda step: print(step, file=sys.stderr))
    except dbexport.ExportRefused as exc:
        print(f"python -m geo db export: {exc}", file=sys.stderr)
        return 2 if str(exc).startswith("--out") else 1
    print(f"exported {db.describe(url)} to {done.folder}:")
    for name, path in done.files.items():
        print(f"  {name:<11} {done.rows[name]:>10,}  {path.name}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    url = _url(args)
    eng = _engine(args, url)
    print(f"database: {db.describe(url)} ({'PostgreSQL' if db.is_postgres(eng) else 'SQLite, embedded'})")
    _reachable(url, eng)
    version, head = db.current(eng), db.head()
    if version is None:
        print(f"schema:   none (this code's is {head}): needs db upgrade")
        print(UPGRADE_HINT)
        return 1
    behind = version != head
    print(f"schema:   {version} (this code's: {head}){': needs db upgrade' if behind else ''}")
    if behind and not _known_version(version):
        print("          (a version this code does not know: made by a newer dashboard?)")
        return 1
    if behind:
        return 1
    print("rows:")
    for name, n in store.rows(eng).items():
        print(f"  {name:<11} {n:>10,}")
    last = store.last_import(eng)
    if last is None:
        print("last import: none")
        return 0
    when = f"{last['finished_at']:%Y-%m-%d %H:%M:%S %Z}".strip()
    print(f"last import: {last['import_id']} at {when} by {last['os_user']}@{last['host']}")
    for f in last["files"]:
        print(f"  {f['input']:<11} {f['mode']:<8} {f['name']}  sha256 {f['sha256'][:12]}  {f['bytes']:,} bytes")
    return 0


# ---------------------------------------------------------------- backup and restore (SQLite)


def _pg_commands(url: URL, what: str, file: str) -> str:
    target = db.describe(url.set(drivername="postgresql"))
    if what == "backup":
        return f"pg_dump --format=custom --file={file} '{target}'"
    return f"pg_restore --clean --if-exists --no-owner --single-transaction --dbname='{target}' {file}"


def _sqlite_only(url: URL, what: str, file: Path) -> Path:
    path = _sqlite_file(url)
    if path is None:
        cmd = _pg_commands(url, what, str(file))
        raise DatabaseError(
            f"db {what} is for the embedded SQLite database; for PostgreSQL use (as a user who may read the "
            f"database, the password from ~/.pgpass or PGPASSWORD):\n  {cmd}"
            + (
                "\nthen give every table a new revision so running dashboards reload: python -m geo db restore --touch"
                if what == "restore"
                else ""
            )
        )
    return path


def cmd_backup(args: argparse.Namespace) -> int:
    url = _url(args)
    path = _sqlite_only(url, "backup", args.file)
    eng = _engine(args, url)
    _reachable(url, eng)
    _schema_ready(url, eng)
    target = Path(args.file).absolute()
    if target.exists() and target.resolve() == path.resolve():
        raise UsageError(f"{args.file}: that is the live database itself")
    if not target.parent.is_dir():
        raise UsageError(f"{args.file}: no such folder {target.parent}")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # a consistent copy, WAL included, while dashboards read and write
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
            src.close()
        if ok != "ok":
            raise DatabaseError(f"the copy did not check out ({ok}); {args.file} was not written", 1)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"backed up {db.describe(url)} (schema {db.current(eng)}) to {target} ({target.stat().st_size:,} bytes)")
    return 0


def check_backup(file: Path) -> str:
    """The schema version of a backup file; :class:`DatabaseError` when it is not a dashboard database."""
    if not file.is_file():
        raise DatabaseError(f"{file}: no such file")
    try:
        con = sqlite3.connect(f"file:{file.absolute()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = None
            if "alembic_version" in tables:
                version = con.execute("SELECT version_num FROM alembic_version").fetchone()
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{file}: not an SQLite database ({exc})") from None
    missing = {"imports", "revisions", *db.DATA_TABLES} - tables
    if version is None or missing:
        raise DatabaseError(f"{file}: not a dashboard database (no schema version, or tables missing)")
    if not _known_version(version[0]):
        raise DatabaseError(f"{file}: a dashboard database at schema version {version[0]}, unknown to this code")
    if ok != "ok":
        raise DatabaseError(f"{file}: the database is damaged ({ok})")
    return version[0]


def touch_all(eng: Engine) -> None:
    """Give every table a new revision (the meetings' records too): running dashboards reload it on their next
    rerun."""
    with db.write(eng) as conn:
        for name in db.REVISED_TABLES:
            store.bump(conn, name)
            if name in store.KINDS:
                store.write_image(conn, name)


def cmd_restore(args: argparse.Namespace) -> int:
    url = _url(args)
    if args.touch:
        eng = _engine(args, url)
        _reachable(url, eng)
        _schema_ready(url, eng)
        touch_all(eng)
        print(f"every table of {db.describe(url)} has a new revision: running dashboards reload it")
        return 0
    if args.file is None:
        raise UsageError("give the backup FILE to restore (or --touch)")
    path = _sqlite_only(url, "restore", args.file)
    file = Path(args.file)
    if path.exists() and file.exists() and file.resolve() == path.resolve():
        raise UsageError(f"{args.file}: that is the live database itself")
    version = check_backup(file)
    eng = _engine(args, url)
    _reachable(url, eng, create=True)
    src = sqlite3.connect(f"file:{file.absolute()}?mode=ro", uri=True)
    dst = sqlite3.connect(path, timeout=30)
    try:
        dst.execute("PRAGMA journal_mode = WAL")
        src.backup(dst)  # page by page into the live database, in one transaction of its own
    finally:
        dst.close()
        src.close()
    eng.dispose()  # connections opened before see the new file from their next transaction anyway
    before, after = db.upgrade(eng) if version != db.head() else (version, version)
    touch_all(eng)
    moved = f", migrated {before} -> {after}" if before != after else ""
    print(f"restored {file} (schema {version}{moved}) into {db.describe(url)}; running dashboards reload it")
    return 0


# ---------------------------------------------------------------- minutes


def cmd_minutes(args: argparse.Namespace) -> int:
    """``python -m geo minutes --meeting ID --lang L [--public] --out FILE`` (public mode forces --public)."""
    from geo import meetings, minutes

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise UsageError(f"--out {args.out}: the minutes are written as .pdf or .html")
    policy = cli.policy_from_args(args)
    url = _url(args)
    eng = _engine(args, url)
    try:
        _reachable(url, eng)
        _schema_ready(url, eng)
        records = meetings.meeting_records(eng, args.meeting)
    except DatabaseError as exc:
        print(f"python -m geo minutes: {exc}", file=sys.stderr)
        return exc.code
    except meetings.NotFound as exc:
        print(f"python -m geo minutes: --meeting {args.meeting}: {exc.args[0]}", file=sys.stderr)
        return 1
    sections = store.read(eng, ["sections"])[1]["sections"].frame
    content = minutes.minutes_content(records, lang=args.lang, policy=policy, sections=sections)
    minutes.write(content, Path(args.out))
    print(f"{content.marking} minutes written to {args.out}")
    return 0


# ---------------------------------------------------------------- wiring


def add_parser(sub) -> None:
    """The ``db`` command group and ``minutes`` (called by :func:`geo.cli.build_parser`'s caller, :func:`main`)."""
    from geo.i18n import LANGS

    mn = sub.add_parser("minutes", help="a meeting's minutes (PDF or HTML) from the database")
    mn.add_argument("--meeting", required=True, metavar="ID", help="the meeting's id")
    mn.add_argument("--lang", choices=LANGS, default="sq", help="language (default sq)")
    mn.add_argument("--public", action="store_true", help="the public-safe minutes (forced in public mode)")
    mn.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.pdf or FILE.html")
    mn.set_defaults(func=cmd_minutes)
    d = sub.add_parser(
        "db",
        help="the deployment's database: create or migrate it, import and export files, status, backup",
        description="The deployment's database: DASHBOARD_DATABASE_URL (or [database] url in "
        ".streamlit/secrets.toml), else the embedded SQLite file in <data folder>/dashboard-db/.",
    )
    d.set_defaults(func=run)
    dsub = d.add_subparsers(dest="db_command", required=True)
    u = dsub.add_parser("upgrade", help="create the schema, or migrate it to this code's version")
    u.set_defaults(db_func=cmd_upgrade)
    i = dsub.add_parser(
        "import",
        help="validate files as validate does and import them in one transaction (errors change nothing)",
    )
    add_input_options(i)
    for name, spec in RECORDS.items():
        i.add_argument(f"--{name}", type=Path, metavar="FILE", help=f"{spec.description} (as db export writes them)")
    i.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="INPUT",
        help="replace the input's imported records (records made in the app stay; repeatable)",
    )
    i.add_argument(
        "--append",
        action="append",
        default=[],
        metavar="INPUT",
        help="add to the input's records (a stored id is reported and skipped; repeatable)",
    )
    i.set_defaults(db_func=cmd_import)
    e = dsub.add_parser("export", help="write the database as the contract's files (which db import reads back)")
    e.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new (or empty) folder")
    e.set_defaults(db_func=cmd_export)
    s = dsub.add_parser("status", help="engine, schema version, records per table, last import")
    s.set_defaults(db_func=cmd_status)
    b = dsub.add_parser("backup", help="copy the embedded database into FILE (SQLite's backup API)")
    b.add_argument("file", type=Path, metavar="FILE")
    b.set_defaults(db_func=cmd_backup)
    r = dsub.add_parser("restore", help="replace the embedded database's content by a backup FILE")
    r.add_argument("file", type=Path, metavar="FILE", nargs="?")
    r.add_argument(
        "--touch",
        action="store_true",
        help="restore nothing: give every table a new revision (after pg_restore, so running dashboards reload)",
    )
    r.set_defaults(db_func=cmd_restore)
    o = dsub.add_parser(
        "import-own",
        help="import the data folder's files into a database without data, as the first start does",
    )
    o.set_defaults(db_func=lambda args: deployment.import_own_command(cli.settings_of(args)))


def run(args: argparse.Namespace) -> int:
    """Run a ``db`` command: a :class:`DatabaseError` becomes its message and exit code."""
    try:
        return args.db_func(args)
    except DatabaseError as exc:
        print(f"python -m geo db {args.db_command}: {exc}", file=sys.stderr)
        return exc.code
    except sa.exc.OperationalError as exc:  # the database went away in the middle
        print(f"python -m geo db {args.db_command}: the database failed: {_reason(exc)}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m geo``: every command of :mod:`geo.cli`, and ``db``."""
    return cli.main(argv, extra=add_parser)
