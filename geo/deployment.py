"""Which data a deployment shows: its database, else (once) the files of its data folder, else the demo.

:func:`source` decides, on every page run (it is cheap once decided):

1. a database that holds data (the embedded SQLite file of the data folder, or the PostgreSQL database
   of ``DASHBOARD_DATABASE_URL``): that database (:class:`~geo.source.DatabaseSource`);
2. otherwise, when the data folder holds files (saved there by an earlier version's "Save as this
   deployment's data", or put there by hand with an ``options.json``): they are imported into the
   database, once, in one transaction (:func:`geo.dbimport.run`), and the database is used from then
   on (the files are left where they are; ``python -m geo db import-own`` does the same by hand). If
   the import cannot be made, the files are shown as they are, and the notice says why;
3. otherwise the built-in demo, read from its shipped files: the embedded database is not even created
   until something is written to it. Reading the demo's files is the fastest start (measured in
   ``bench/RESULTS.md``: importing it first would make the first start several times slower).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from geo import db, dbimport, saved, store
from geo import settings as config
from geo import source as sources
from geo.source import DatabaseSource, DataSource


@dataclass(frozen=True)
class Decision:
    """The source to show and what a page should say about it (``problem`` "" when all is well)."""

    source: DataSource
    #: ``database``, ``own files`` (the import of the data folder failed) or ``demo``
    kind: str
    #: what is wrong: ``unreachable``, ``old schema``, ``empty`` (a shared database with no data yet),
    #: ``import failed`` (the data folder's files could not be imported), or ""
    problem: str = ""
    #: the details (the error, in English, as the library gives it)
    detail: str = ""
    #: an import of the data folder was made just now
    imported: bool = False


def _has_data(settings: config.Settings) -> tuple[bool, str, str]:
    """Whether the deployment's database holds data (without creating an embedded one); when it could not
    be used, the problem (``unreachable``, ``old schema``) and its details ("" when it could)."""
    if not settings.database_url and not db.embedded_path(settings).exists():
        return False, "", ""
    try:
        eng = db.engine(settings)
        if not db.ready(eng):
            version = db.current(eng)
            if version is None:
                return False, "", ""  # no schema yet: nothing was ever written
            return False, "old schema", f"schema {version}, this code needs {db.head()}: run python -m geo db upgrade"
        return store.has_data(eng), "", ""
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        return False, "unreachable", f"the database cannot be reached ({type(exc).__name__})"


def import_own(settings: config.Settings, own: saved.OwnData) -> dbimport.Outcome:
    """Import the data folder's files into the database that holds no data yet (raises
    :class:`~geo.dbimport.ImportRefused` when it holds some already)."""
    eng = db.engine(settings)
    db.upgrade(eng)
    paths = {name: path for name, path in own.source.paths.items()}
    return dbimport.run(eng, paths, own.source.options, only_if_empty=True)


def source(settings: config.Settings, own: saved.OwnData) -> Decision:
    """The deployment's data (see the module's description)."""
    database = DatabaseSource(settings, label="database")
    has, problem, detail = _has_data(settings)
    if has:
        return Decision(database, "database")
    if problem:
        return Decision(own.source or sources.demo_source(), "own files" if own.source else "demo", problem, detail)
    if own.source is None:
        if settings.database_url:
            return Decision(
                sources.demo_source(), "demo", "empty", "the database holds no data yet: python -m geo db import"
            )
        return Decision(sources.demo_source(), "demo")
    try:
        outcome = import_own(settings, own)
    except dbimport.ImportRefused:
        return Decision(database, "database")  # another process imported it meanwhile
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        return Decision(own.source, "own files", "import failed", f"{type(exc).__name__}: {exc}")
    if not outcome.ok:
        return Decision(own.source, "own files", "import failed", _errors(outcome))
    return Decision(database, "database", imported=True)


def _errors(outcome: dbimport.Outcome) -> str:
    """The first errors of an import that was not made, as the validation report names them."""
    parts = []
    for p in outcome.report.errors[:3]:
        where = p.file + (f", row {p.row}" if p.row is not None else "") + (f", {p.field}" if p.field else "")
        parts.append(f"{where}: {p.message}" if where else p.message)
    more = len(outcome.report.errors) - 3
    return "; ".join(parts) + (f"; and {more:,} more" if more > 0 else "")


def import_own_command(settings: config.Settings | None = None, out=None, err=None) -> int:
    """``python -m geo db import-own``: import the data folder's files into the deployment's database by
    hand, as the first start does (only into a database that holds no data yet). Says what it did on
    ``out`` (default standard output) and what stopped it on ``err`` (default standard error); returns the
    exit status: 0 imported, 1 nothing to import or the files have errors (nothing written), 2 refused
    (the database holds data already) or the database failed."""
    import sys

    settings = settings if settings is not None else config.Settings.load()
    out = out if out is not None else sys.stdout
    err = err if err is not None else (out if out is not sys.stdout else sys.stderr)
    own = saved.find(settings.data_dir)
    if own.source is None:
        why = own.problem or "no options.json and no saved data"
        print(f"nothing to import from {settings.data_dir}: {why}", file=err)
        return 1
    if own.problem:
        print(f"note: {own.problem}; importing {Path(own.source.paths['sections']).parent} instead", file=err)
    try:
        eng = db.engine(settings)
        if db.ready(eng) and store.has_data(eng):
            raise dbimport.ImportRefused("the database holds data already")
        outcome = import_own(settings, own)
    except dbimport.ImportRefused as exc:
        print(f"not imported: {exc} (python -m geo db import --replace INPUT … replaces it)", file=err)
        return 2
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        print(f"the import failed, nothing was changed: {type(exc).__name__}: {exc}", file=err)
        return 2
    if not outcome.ok:
        print(f"the import failed, nothing was changed: {_errors(outcome)}", file=err)
        return 1
    added = ", ".join(f"{n} {k:,}" for n, k in outcome.added.items())
    print(f"imported {settings.data_dir} into {db.describe(eng.url)} (import {outcome.import_id}): {added}", file=out)
    return 0
