"""The deployment's data in its database (:mod:`geo.db`): each table read, written and versioned on its own.

Every data table has a **revision** (a token in ``revisions``, new with every write to that table, in the
same transaction as the write) and its **part of the report** (the problems and counts of the imports
that made it). :func:`revisions` reads the tokens in one small query, so a page can ask on every rerun
whether anything changed; :func:`read` reads the tables asked for, and their tokens, in one snapshot.

What is stored is what :func:`geo.loader.load_files` gives, already validated and joined: reading it back
gives the same frames (dtypes included), so nothing above this module knows whether the data came from
files or from which database. Each record also keeps what the database adds (:data:`geo.db.RECORD_COLUMNS`),
and incidents their identity for the public perturbation (:func:`geo.public.incident_identities`),
computed once, at import, and never from an id the loader made.

Writes go through :func:`insert`, :func:`delete_imported` and :func:`set_part` inside one transaction
(:func:`geo.db.write`), each ending with :func:`bump` of the tables they changed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo import db
from geo.dataset import SECTION_ID_DTYPE, Dataset
from geo.public import _SEP
from geo.report import Problem, Report
from geo.schema import ATTENDANCE_GROUPS, WGS84

#: How each column of a loaded frame is stored and brought back, by table (the frames' dtypes).
KINDS: dict[str, dict[str, str]] = {
    "sections": {
        "section_id": "id",
        "section_name": "string",
        "municipality": "string",
        "municipality_raw": "string",
        "region": "string",
        "station": "string",
        "population": "Int64",
        "officers": "list",
        "officers_public": "bool",
        "villages": "list",
        "row": "int64",
        "geometry": "geometry",
    },
    "incidents": {
        "incident_id": "string",
        "occurred_at": "when",
        "category": "category",
        "category_raw": "string",
        "count": "int64",
        "lon": "float64",
        "lat": "float64",
        "section_id": "id",
        "row": "int64",
        "id_generated": "bool",
        "identity": "bytes",
    },
    "concerns": {
        "concern_id": "string",
        "raised_on": "when",
        "category": "category",
        "description": "string",
        "description_public": "bool",
        "source": "string",
        "meeting_id": "string",
        "status": "string",
        "resolved_on": "when",
        "action_taken": "string",
        "lon": "float64",
        "lat": "float64",
        "section_id": "id",
        "row": "int64",
    },
    "committees": {
        "committee_id": "string",
        "type": "string",
        "name": "string",
        "municipality": "string",
        "sections": "list",
        "established_on": "when",
        "active": "bool",
        "members": "Int64",
        "row": "int64",
    },
    "meetings": {
        "meeting_id": "string",
        "committee_id": "string",
        "held_on": "when",
        "attendance": "Int64",
        "concerns_raised": "Int64",
        "row": "int64",
    },
    "actions": {
        "action_id": "string",
        "concern_id": "string",
        "meeting_id": "string",
        "what": "string",
        "owner": "string",
        "due_on": "when",
        "done_on": "when",
        "row": "int64",
    },
    "attendance": {
        "meeting_id": "string",
        "total": "Int64",
        **{g: "Int64" for g in ATTENDANCE_GROUPS},
        "row": "int64",
    },
    "surveys": {
        "area": "string",
        "area_kind": "str",
        "area_name": "object",
        "period": "str",
        "period_start": "when",
        "period_end": "when",
        "trust_pct": "float64",
        "satisfaction_pct": "float64",
        "respondents": "Int64",
        "row": "int64",
    },
}
#: Rows written per statement (and per step of a progress bar).
CHUNK = 50_000
_WHEN_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own for SQLite; PostgreSQL reads it too


@dataclass
class Part:
    """One table as stored: its frame (as the loader gives it) and its part of the report."""

    name: str
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def report_json(self) -> dict:
        return {"problems": [asdict(p) for p in self.problems], "counts": dict(self.counts)}


def _problems(data: dict) -> list[Problem]:
    return [Problem(**p) for p in data.get("problems", [])]


# ---------------------------------------------------------------- revisions


def revisions(eng: Engine) -> dict[str, str]:
    """Each data table's revision token (one small query: cheap enough for every page rerun)."""
    with eng.connect() as conn:
        return _revisions(conn)


def revisions_in(conn: Connection) -> dict[str, str]:
    """:func:`revisions`, inside the caller's transaction."""
    return _revisions(conn)


def _revisions(conn: Connection) -> dict[str, str]:
    rows = conn.execute(sa.select(db.REVISIONS.c.table_name, db.REVISIONS.c.revision)).all()
    return {name: rev for name, rev in rows}


def bump(conn: Connection, name: str) -> str:
    """Give table ``name`` a new revision (inside the writing transaction); returns it."""
    token = uuid.uuid4().hex
    conn.execute(
        db.REVISIONS.update()
        .where(db.REVISIONS.c.table_name == name)
        .values(revision=token, changed_at=dt.datetime.now(dt.UTC))
    )
    return token


def set_part(conn: Connection, name: str, problems: list[Problem], counts: dict[str, int]) -> None:
    """Store table ``name``'s part of the report (and give it a new revision)."""
    report = {"problems": [asdict(p) for p in problems], "counts": {k: int(v) for k, v in counts.items()}}
    conn.execute(db.REVISIONS.update().where(db.REVISIONS.c.table_name == name).values(report=report))
    bump(conn, name)


def get_part(conn: Connection, name: str) -> tuple[list[Problem], dict[str, int]]:
    """Table ``name``'s stored part of the report."""
    report = conn.execute(sa.select(db.REVISIONS.c.report).where(db.REVISIONS.c.table_name == name)).scalar_one()
    return _problems(report), dict(report.get("counts", {}))


# ---------------------------------------------------------------- reading


#: Tables whose records may be retracted (``retracted`` not ``NULL``): such records are read by no page.
RETRACTABLE = ("concerns", "meetings", "actions")


def _select_sql(dialect: str, name: str) -> str:
    """The query of table ``name``'s frame columns, in record order (retracted records left out)."""
    cols = []
    for c, kind in KINDS[name].items():
        if kind == "geometry" and dialect == "postgresql":
            cols.append(f'ST_AsBinary("{c}") AS "{c}"')
        else:
            cols.append(f'"{c}"')
    where = " WHERE retracted IS NULL" if name in RETRACTABLE else ""
    return f"SELECT {', '.join(cols)} FROM {name}{where} ORDER BY rid"


#: The Arrow type a column of nothing but NULLs is read as, by kind (text for the others).
_ARROW = {
    "int64": pa.int64(),
    "Int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "bytes": pa.large_binary(),
    "geometry": pa.large_binary(),
}


def _derived_identity(incident_id: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The identity a record with an id of its own has when it is the first of that id: ``id␟<id>␟0``
    (:func:`geo.public.incident_identities`). Such identities are stored as ``NULL`` and made again here
    when read: most records have one, and a million ``NULL`` cost SQLite nothing to read."""
    ids = pc.utf8_trim_whitespace(pc.cast(incident_id, pa.large_string()))
    text = pa.large_string()
    joined = pc.binary_join_element_wise(pa.scalar("id", text), ids, pa.scalar("0", text), pa.scalar(_SEP, text))
    return pc.cast(joined, pa.large_binary())


def _compact(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """What the incidents store leaves out: ``category_raw`` equal to ``category`` and an identity equal to
    :func:`_derived_identity` are written as ``NULL`` (and :func:`_expand` makes them again)."""
    if name != "incidents" or not len(frame):
        return frame
    out = frame.copy(deep=False)
    raw = out["category_raw"].astype("string")
    out["category_raw"] = raw.where(raw != out["category"].astype("string"), pd.NA)
    stored = pa.array(out["identity"].tolist(), type=pa.large_binary())
    derived = _derived_identity(pa.array(out["incident_id"].astype("string").fillna(""), type=pa.large_string()))
    same = pc.fill_null(pc.equal(stored, derived), False).to_numpy(zero_copy_only=False)
    out["identity"] = np.where(same, None, out["identity"].to_numpy(dtype=object))
    return out


def _expand(name: str, table: pa.Table) -> pa.Table:
    """:func:`_compact` undone."""
    if name != "incidents" or not table.num_rows:
        return table
    raw = table.column("category_raw").cast(pa.large_string())
    category = table.column("category").cast(pa.large_string())
    ident = table.column("identity").cast(pa.large_binary())
    derived = _derived_identity(table.column("incident_id").cast(pa.large_string()))
    table = table.set_column(table.schema.get_field_index("category_raw"), "category_raw", pc.coalesce(raw, category))
    return table.set_column(table.schema.get_field_index("identity"), "identity", pc.coalesce(ident, derived))


def _frame(name: str, table: pa.Table) -> pd.DataFrame:
    table = _expand(name, table)
    data = {}
    geometry = None
    for c, kind in KINDS[name].items():
        col = table.column(c)
        if col.null_count == len(col):  # SQLite gives a column of nothing but NULLs no type of its own
            col = pa.chunked_array([pa.nulls(len(col), _ARROW.get(kind, pa.string()))])
        if kind == "geometry":
            geometry = shapely.from_wkb(col.cast(pa.large_binary()).to_numpy(zero_copy_only=False))
            continue
        data[c] = _restore(col, kind)
    frame = pd.DataFrame(data, index=pd.RangeIndex(table.num_rows))
    if name == "sections":
        geoms = geometry if geometry is not None else np.empty(0, dtype=object)
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=WGS84).values, crs=WGS84)
        frame = frame[list(KINDS[name])]
    return frame


def _string(col: pa.ChunkedArray) -> pd.Series:
    col = col.cast(pa.string()) if col.type != pa.string() else col
    return pd.Series(pd.array(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0), dtype="string"))


def _restore(col: pa.ChunkedArray, kind: str) -> pd.Series:
    if kind in ("id", "str"):
        return _string(col).astype(SECTION_ID_DTYPE if kind == "id" else "str")
    if kind == "string":
        return _string(col)
    if kind == "object":
        return pd.Series(col.cast(pa.string()).to_pylist(), dtype=object)
    if kind == "category":
        return _string(col).astype("category")
    if kind == "when":
        if not pa.types.is_timestamp(col.type):
            col = pc.cast(col.cast(pa.string()), pa.timestamp("us"))
        return pd.Series(col.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    if kind == "int64":
        return pd.Series(col.cast(pa.int64()).to_numpy(zero_copy_only=False))
    if kind == "Int64":
        return pd.Series(pd.array(col.cast(pa.int64()).to_pylist(), dtype="Int64"))
    if kind == "float64":
        return pd.Series(col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
    if kind == "bool":
        return pd.Series(col.cast(pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False))
    if kind == "list":
        return pd.Series([_list(v) for v in col.cast(pa.string()).to_pylist()], dtype=object)
    if kind == "bytes":
        return pd.Series(col.cast(pa.large_binary()).to_pylist(), dtype=object)
    raise ValueError(kind)


def _json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _list(value) -> list:
    if value is None:
        return []
    return [str(v) for v in json.loads(value)]


def read(eng: Engine, names: Iterable[str] = db.DATA_TABLES) -> tuple[dict[str, str], dict[str, Part]]:
    """The revisions of every table and the parts of ``names``, read in one snapshot.

    PostgreSQL through ADBC (binary COPY into Arrow columns); SQLite through the standard library's
    driver, in one read transaction (never through a second copy of SQLite in the same process: two
    copies do not see each other's file locks, which SQLite documents as a way to corrupt a database)."""
    names = list(names)
    if eng.dialect.name == "postgresql":
        return _read_postgres(eng, names)
    with eng.connect() as conn, conn.begin():
        raw = conn.connection.driver_connection
        meta = raw.execute("SELECT table_name, revision, report FROM revisions").fetchall()
        revs = {name: rev for name, rev, _ in meta}
        reports = {name: _json(report) for name, _, report in meta}
        images = {name: (rev, data) for name, rev, data in raw.execute("SELECT table_name, revision, data FROM images")}
        parts = {}
        for name in names:
            image = images.get(name)
            if image is not None and image[0] == revs.get(name):
                table = pa.ipc.open_stream(image[1]).read_all()
            else:  # no image of this revision (a write that made none): the rows themselves
                table = _arrow_rows(name, raw.execute(_select_sql("sqlite", name)).fetchall())
            report = reports.get(name) or {}
            parts[name] = Part(name, _frame(name, table), _problems(report), dict(report.get("counts", {})))
    return revs, parts


def write_image(conn: Connection, name: str) -> None:
    """Store table ``name``'s columnar image at its current revision, inside the writing transaction, after
    its last change (embedded database only; PostgreSQL reads whole tables quickly anyway).

    The standard library's SQLite driver makes a Python object of every value it reads: a million incidents
    take seconds. The image is the same columns as one Arrow stream, read in a fraction of that. It is
    only ever used while the table's revision is the one it was made at: a write that does not make a new
    image leaves the rows to be read, never an image of older data."""
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.driver_connection
    table = _arrow_rows(name, raw.execute(_select_sql("sqlite", name)).fetchall())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as out:
        out.write_table(table)
    revision = _revisions(conn)[name]
    conn.execute(db.IMAGES.delete().where(db.IMAGES.c.table_name == name))
    conn.execute(db.IMAGES.insert().values(table_name=name, revision=revision, data=sink.getvalue().to_pybytes()))


#: The Arrow type SQLite's values of a kind are gathered into.
_SQLITE_ARROW = {"int64": pa.int64(), "Int64": pa.int64(), "float64": pa.float64(), "bool": pa.int64()} | {
    "bytes": pa.large_binary(),
    "geometry": pa.large_binary(),
}


def _arrow_rows(name: str, rows: list[tuple]) -> pa.Table:
    """SQLite's rows as Arrow columns."""
    kinds = KINDS[name]
    grid = np.empty((len(rows), len(kinds)), dtype=object)
    if rows:
        grid[:] = rows
    return pa.table(
        {
            c: pa.array(grid[:, i], type=_SQLITE_ARROW.get(kind, pa.large_string()), from_pandas=True)
            for i, (c, kind) in enumerate(kinds.items())
        }
    )


def _read_postgres(eng: Engine, names: list[str]) -> tuple[dict[str, str], dict[str, Part]]:
    import adbc_driver_postgresql.dbapi as adbc

    conn = adbc.connect(eng.url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        cur = conn.cursor()
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT table_name, revision, report FROM revisions")
        meta = cur.fetch_arrow_table().to_pylist()
        revs = {r["table_name"]: r["revision"] for r in meta}
        reports = {r["table_name"]: _json(r["report"]) for r in meta}
        parts = {}
        for name in names:
            cur.execute(_select_sql("postgresql", name))
            report = reports.get(name) or {}
            frame = _frame(name, cur.fetch_arrow_table())
            parts[name] = Part(name, frame, _problems(report), dict(report.get("counts", {})))
        cur.close()
        conn.rollback()
    finally:
        conn.close()
    return revs, parts


def dataset(parts: dict[str, Part], label: str = "", is_demo: bool = False) -> Dataset:
    """A :class:`Dataset` of the six parts (the report: their problems, in table order, and counts)."""
    report = Report()
    for name in db.DATA_TABLES:
        part = parts[name]
        report.problems.extend(part.problems)
        if part.counts:
            report.counts[name] = dict(part.counts)
    return Dataset(**{n: parts[n].frame for n in db.DATA_TABLES}, report=report, label=label, is_demo=is_demo)


def has_data(eng: Engine) -> bool:
    """Whether anything was ever imported or recorded (a table with a revision other than the first)."""
    try:
        return any(rev != "empty" for rev in revisions(eng).values())
    except sa.exc.SQLAlchemyError:
        return False


# ---------------------------------------------------------------- writing


def _none(values: np.ndarray, missing: np.ndarray) -> list:
    """Python values, ``None`` where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _cells(name: str, frame: pd.DataFrame, postgres: bool) -> list[list]:
    """The frame's cells as the database takes them, column by column (``None`` for missing)."""
    out = []
    for c, kind in KINDS[name].items():
        s = frame[c] if c in frame else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        missing = s.isna().to_numpy(dtype=bool) if kind not in ("list", "bytes", "geometry") else None
        if kind == "geometry":
            geoms = np.asarray(frame.geometry.values, dtype=object)
            if postgres:  # EWKB in hex: what COPY hands to PostGIS, with its SRID
                out.append(shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True).tolist())
            else:
                out.append(shapely.to_wkb(geoms).tolist())
        elif kind == "when":
            text = pd.to_datetime(s).dt.strftime(_WHEN_FORMAT).to_numpy(dtype=object, na_value=None)
            out.append(_none(text, missing))
        elif kind == "list":
            out.append([json.dumps(list(v) if _is_list(v) else [], ensure_ascii=False) for v in s])
        elif kind == "bool":
            out.append(_none(s.to_numpy(dtype=object, na_value=False).astype(bool), missing))
        elif kind in ("int64", "Int64"):
            out.append(_none(s.to_numpy(dtype="float64", na_value=0).astype(np.int64), missing))
        elif kind == "float64":
            arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            out.append(_none(arr, ~np.isfinite(arr)))
        elif kind == "bytes":
            out.append([None if v is None else bytes(v) for v in s])
        else:
            out.append(_none(s.astype("string").to_numpy(dtype=object, na_value=""), missing))
    return out


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def insert(
    conn: Connection,
    name: str,
    frame: pd.DataFrame,
    import_id: int | None,
    origin: str = "import",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``frame``'s records to table ``name`` (in the caller's transaction); returns how many.

    PostgreSQL takes them by ``COPY``, SQLite by one prepared statement for many rows."""
    n = len(frame)
    if not n:
        return 0
    postgres = conn.dialect.name == "postgresql"
    columns = [*KINDS[name], "import_id", "origin"]
    cells = _cells(name, _compact(name, frame), postgres)
    cells += [[import_id] * n, [origin] * n]
    rows = zip(*cells, strict=True)
    if postgres:
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
            for i, row in enumerate(rows, 1):
                copy.write_row(row)
                if progress is not None and i % CHUNK == 0:
                    progress(CHUNK)
        if progress is not None:
            progress(n % CHUNK)
        return n
    cur = conn.connection.driver_connection.cursor()
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {name} ({quoted}) VALUES ({', '.join('?' * len(columns))})"
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            cur.executemany(sql, batch)
            if progress is not None:
                progress(len(batch))
            batch = []
    if batch:
        cur.executemany(sql, batch)
        if progress is not None:
            progress(len(batch))
    cur.close()
    return n


def identities(conn: Connection, app_only: bool = False) -> list[bytes]:
    """The stored incidents' identities (inside the caller's transaction); ``app_only``: of the records made
    in the app only (those an import that replaces the incidents keeps)."""
    table = db.INCIDENTS
    query = sa.select(table.c.incident_id, table.c.identity)
    if app_only:
        query = query.where(table.c.origin != "import")
    rows = conn.execute(query).all()
    if not rows:
        return []
    ids = pa.array([r[0] for r in rows], type=pa.large_string())
    stored = pa.array([None if r[1] is None else bytes(r[1]) for r in rows], type=pa.large_binary())
    return pc.coalesce(stored, _derived_identity(ids)).to_pylist()


def delete_imported(conn: Connection, name: str) -> int:
    """Remove table ``name``'s imported records (never those made in the app); returns how many."""
    table = db.TABLES[name] if name in db.TABLES else db.RECORDS[name]
    return conn.execute(table.delete().where(table.c.origin == "import")).rowcount


def rows(eng: Engine) -> dict[str, int]:
    """Records per data table."""
    with eng.connect() as conn:
        return {
            n: conn.execute(sa.select(sa.func.count()).select_from(db.TABLES[n])).scalar_one() for n in db.DATA_TABLES
        }


def sections_from(eng: Engine, folder: Path) -> bool:
    """Whether the stored sections came from a file in ``folder`` (the newest import that brought them)."""
    with eng.connect() as conn:
        for (files,) in conn.execute(sa.select(db.IMPORTS.c.files).order_by(db.IMPORTS.c.import_id.desc())):
            for f in _json(files) or []:
                if f.get("input") == "sections":
                    return Path(f.get("path", "")).parent == Path(folder).resolve()
    return False


def last_import(eng: Engine) -> dict | None:
    """The newest import's row (``None`` before the first)."""
    with eng.connect() as conn:
        row = conn.execute(sa.select(db.IMPORTS).order_by(db.IMPORTS.c.import_id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


#: The count a table's kept records are reported under (besides ``loaded``), for tables without a join.
_KEPT = {"sections": "accepted", "committees": "matched", "meetings": "matched", "surveys": "matched"} | {
    "actions": "matched",
    "attendance": "matched",
}


def record(eng: Engine, name: str, frame: pd.DataFrame) -> str:
    """Add records made in the app (``origin = 'app'``, no import: no import ever replaces or removes them)
    to table ``name``, in one transaction that also updates the table's counts and gives it a new
    revision (every session shows them on its next rerun; the other tables are not reloaded). Returns
    the new revision.

    ``frame`` holds the records as the loader gives them, already checked and joined (a located record's
    ``section_id`` set); a missing ``row`` is 0 (not from a file)."""
    if name not in db.TABLES and name not in KINDS:
        raise ValueError(f"{name!r} is not a data table; tables are {', '.join(db.DATA_TABLES)}")
    with db.write(eng) as conn:
        return record_in(conn, name, frame)


def record_in(conn: Connection, name: str, frame: pd.DataFrame) -> str:
    """:func:`record` inside the caller's writing transaction; returns the table's new revision."""
    if name not in db.TABLES and name not in KINDS:
        raise ValueError(f"{name!r} is not a data table; tables are {', '.join(db.DATA_TABLES)}")
    if "row" not in frame:
        frame = frame.assign(row=0)
    insert(conn, name, frame, None, origin="app")
    recount(conn, name, added=frame)
    write_image(conn, name)
    return revisions_in(conn)[name]


def recount(conn: Connection, name: str, added: pd.DataFrame, sign: int = 1) -> None:
    """Table ``name``'s counts after the records of ``added`` were made in the app (``sign`` -1: after they
    were retracted), and a new revision of it."""
    problems, counts = get_part(conn, name)
    counts = dict(counts)
    n = sign * len(added)
    counts["loaded"] = counts.get("loaded", 0) + n
    if name in ("incidents", "concerns"):
        joined = sign * (int(added["section_id"].notna().sum()) if "section_id" in added else 0)
        counts["joined"] = counts.get("joined", 0) + joined
        counts["outside"] = counts.get("outside", 0) + n - joined
    else:
        counts[_KEPT[name]] = counts.get(_KEPT[name], 0) + n
    counts.setdefault("rejected", 0)
    set_part(conn, name, problems, counts)
