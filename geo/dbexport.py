"""Export the deployment's database as the contract's files, which ``validate`` and ``db import`` read back.

One file per table that holds records, named as the demo's (:data:`geo.source.DEMO_FILES`):

* ``sections.geojson``: the boundaries (EPSG:4326, coordinates written exactly as stored);
* ``incidents.parquet``: Parquet, not CSV, because a million incidents are a tenth of the size and read
  ten times faster, and times, coordinates and counts come back exactly as stored (no text to parse);
* ``concerns.csv``, ``committees.csv``, ``meetings.csv``, ``surveys.csv``: UTF-8 CSV, as the demo writes them;
* ``actions.csv``, ``attendance.csv``, ``events.csv``: what meetings recorded in the dashboard (the history's
  ``at`` to the microsecond, local time; ``before``/``after`` the JSON objects as stored), when there are any;
* ``options.json``: the files and their sizes, so that the folder can also serve as a deployment's data
  folder (``DASHBOARD_DATA_DIR``) or be imported with ``db import --own`` (which reads the inputs; the
  meetings' records, under ``"records"``, are imported with ``--actions``, ``--attendance``, ``--events``).

Retracted records are not exported (their history is, in ``events.csv``).

The values are the stored ones in the contract's spelling: lists joined by ``|``
(:data:`geo.schema.LIST_SEPARATOR`), yes/no fields as ``yes``/``no``, days as ``YYYY-MM-DD``, municipalities
by their canonical names. An incident id the loader made (``id_generated``: the file gave none) is written
empty, so that a new import gives the record its identity from its content again, as the first import did;
``section_id`` is written only for records located by section alone (coordinates decide otherwise).
Records made in the app are exported with the others. Cells are written as they are stored, not made
safe for spreadsheets (the Data page's downloads are): the files are the data, for the loader.

The folder appears whole or not at all: the files are written into a temporary folder beside it, made
durable, and the folder renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from sqlalchemy.engine import Engine

from geo import db, meetings, store
from geo.demo import _date_text, _write_csv
from geo.saved import OPTIONS_FILE, _fsync_dir
from geo.schema import LIST_SEPARATOR, LIST_SEPARATORS
from geo.source import DEMO_FILES

#: The file of each table.
FILES = dict(DEMO_FILES) | {"actions": "actions.csv", "attendance": "attendance.csv", "events": "events.csv"}
YES, NO = "yes", "no"


class ExportRefused(ValueError):
    """Nothing was written: the message says why (and names the folder)."""


@dataclass
class Exported:
    """What :func:`export` wrote: the folder and, per table, its file and number of records."""

    folder: Path
    files: dict[str, Path]
    rows: dict[str, int]


def joined(items) -> str | None:
    """A list as one cell: its items joined by ``|``; ``None`` for an empty list.

    A single item holding ``;`` or ``,`` (which the loader also splits on) gets a trailing ``|``: the loader
    then splits on ``|`` alone and drops the empty item, so the item comes back whole."""
    values = [str(v) for v in (items if isinstance(items, (list, tuple, np.ndarray)) else [])]
    if not values:
        return None
    text = LIST_SEPARATOR.join(values)
    if len(values) == 1 and any(sep in text for sep in LIST_SEPARATORS if sep != LIST_SEPARATOR):
        text += LIST_SEPARATOR
    return text


def yes_no(values: pd.Series) -> pd.Series:
    return pd.Series(np.where(values.fillna(False).to_numpy(dtype=bool), YES, NO), index=values.index)


def _value(v):
    """A property value as JSON takes it (``None`` for missing)."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def sections_geojson(sections: pd.DataFrame) -> bytes:
    """The sections as the contract's GeoJSON (coordinates as stored: Python writes floats exactly)."""
    props = pd.DataFrame(
        {
            "section_id": sections["section_id"].astype(str),
            "section_name": sections["section_name"],
            "municipality": sections["municipality"],
            "region": sections["region"],
            "station": sections["station"],
            "population": sections["population"].astype(object),
            "officers": [joined(v) for v in sections["officers"]],
            "officers_public": yes_no(sections["officers_public"]),
            "villages": [joined(v) for v in sections["villages"]],
        }
    )
    geoms = shapely.to_geojson(np.asarray(sections.geometry.values, dtype=object))
    features = [
        {"type": "Feature", "properties": {k: _value(v) for k, v in rec.items()}, "geometry": json.loads(g)}
        for rec, g in zip(props.to_dict("records"), geoms, strict=True)
    ]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    doc = {"type": "FeatureCollection", "crs": crs, "features": features}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _located(frame: pd.DataFrame) -> np.ndarray:
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    return np.isfinite(lon) & np.isfinite(lat)


def incidents_table(incidents: pd.DataFrame) -> pa.Table:
    """The incidents as the contract's Parquet columns (an id the loader made left empty)."""
    generated = incidents["id_generated"].to_numpy(dtype=bool)
    ids = incidents["incident_id"].astype(object).where(~generated, None)
    # the code, or the file's own label of a category counted as "other" (a new import counts it so again)
    category = (
        incidents["category"]
        .astype(str)
        .where(incidents["category"].astype(str) != "other", incidents["category_raw"].astype(object).fillna("other"))
    )
    section = incidents["section_id"].astype(object).where(~_located(incidents), None)
    columns = {
        "incident_id": pa.array(ids.tolist(), pa.string()),
        "occurred_at": pa.array(incidents["occurred_at"].to_numpy().astype("datetime64[us]"), pa.timestamp("us")),
        "category": pa.array(category.tolist(), pa.string()).dictionary_encode(),
        "lat": pa.array(incidents["lat"].to_numpy(dtype=float), pa.float64(), from_pandas=True),
        "lon": pa.array(incidents["lon"].to_numpy(dtype=float), pa.float64(), from_pandas=True),
        "section_id": pa.array([None if pd.isna(v) else str(v) for v in section], pa.string()),
        "count": pa.array(incidents["count"].to_numpy(dtype=np.int64), pa.int64()),
    }
    for optional in ("incident_id", "section_id"):  # a column of nothing but empty cells says nothing
        if columns[optional].null_count == len(incidents):
            del columns[optional]
    return pa.table(columns)


def _dates(values: pd.Series) -> pd.Series:
    return _date_text(values.astype(object).where(values.notna(), None))


def concerns_frame(concerns: pd.DataFrame) -> pd.DataFrame:
    out = concerns[
        ["concern_id", "raised_on", "category", "description", "description_public", "source", "meeting_id"]
        + ["status", "resolved_on", "action_taken", "lat", "lon", "section_id"]
    ].copy()
    out["raised_on"] = _dates(out["raised_on"])
    out["resolved_on"] = _dates(out["resolved_on"])
    out["description_public"] = yes_no(out["description_public"])
    out["category"] = out["category"].astype(str)
    out["section_id"] = out["section_id"].astype(object).where(~_located(concerns), None)
    return out


def committees_frame(committees: pd.DataFrame) -> pd.DataFrame:
    out = committees[["committee_id", "type", "name", "municipality", "sections", "established_on"]].copy()
    out["sections"] = [joined(v) for v in out["sections"]]
    out["established_on"] = _dates(out["established_on"])
    out["active"] = yes_no(committees["active"])
    out["members"] = committees["members"]
    return out


def meetings_frame(meetings: pd.DataFrame) -> pd.DataFrame:
    out = meetings[["meeting_id", "committee_id", "held_on", "attendance", "concerns_raised"]].copy()
    out["held_on"] = _dates(out["held_on"])
    return out


def actions_frame(actions: pd.DataFrame) -> pd.DataFrame:
    out = actions[["action_id", "concern_id", "meeting_id", "what", "owner", "due_on", "done_on"]].copy()
    out["due_on"] = _dates(out["due_on"])
    out["done_on"] = _dates(out["done_on"])
    return out


def attendance_frame(attendance: pd.DataFrame) -> pd.DataFrame:
    return attendance.drop(columns=["row"]).copy()


def events_frame(events: pd.DataFrame) -> pd.DataFrame:
    out = events.copy()
    out["at"] = pd.to_datetime(out["at"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return out


def surveys_frame(surveys: pd.DataFrame) -> pd.DataFrame:
    return surveys[["area", "period", "trust_pct", "satisfaction_pct", "respondents"]].copy()


def _write(path: Path, data: bytes | None = None, frame: pd.DataFrame | None = None, table=None) -> None:
    if data is not None:
        path.write_bytes(data)
    elif frame is not None:
        _write_csv(frame, path)
    else:
        pq.write_table(table, path, compression="zstd")
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def export(eng: Engine, out: Path, progress: Callable[[str], None] | None = None) -> Exported:
    """Write the database's tables into the new folder ``out`` (see the module's description).

    Raises :class:`ExportRefused` when ``out`` exists and is not an empty folder (nothing of it is touched)
    or when the database holds no sections (the other tables cannot be read back without them)."""
    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportRefused(f"--out {out}: exists and is not an empty folder; give a new one")
    say = progress or (lambda step: None)
    say("reading the database")
    _revs, parts = store.read(eng, [*db.DATA_TABLES, "actions", "attendance"])
    frames = {name: parts[name].frame for name in parts}
    frames["events"] = meetings.events(eng)
    if not len(frames["sections"]):
        raise ExportRefused("the database holds no sections: nothing to export (import some with db import)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.tmp"
    tmp.mkdir()  # beside ``out`` (one file system: the rename is atomic), with the usual permissions
    try:
        files, rows = {}, {}
        writers = {
            "sections": lambda f, p: _write(p, data=sections_geojson(f)),
            "incidents": lambda f, p: _write(p, table=incidents_table(f)),
            "concerns": lambda f, p: _write(p, frame=concerns_frame(f)),
            "committees": lambda f, p: _write(p, frame=committees_frame(f)),
            "meetings": lambda f, p: _write(p, frame=meetings_frame(f)),
            "surveys": lambda f, p: _write(p, frame=surveys_frame(f)),
            "actions": lambda f, p: _write(p, frame=actions_frame(f)),
            "attendance": lambda f, p: _write(p, frame=attendance_frame(f)),
            "events": lambda f, p: _write(p, frame=events_frame(f)),
        }
        for name in db.REVISED_TABLES:
            frame = frames[name]
            if not len(frame):  # an empty file is an error for the loader; a table without records has none
                continue
            say(f"writing {name}")
            writers[name](frame, tmp / FILES[name])
            files[name], rows[name] = out / FILES[name], len(frame)
        meta = {
            "files": {name: FILES[name] for name in files if name in db.DATA_TABLES},
            "records": {name: FILES[name] for name in files if name not in db.DATA_TABLES},
            "options": {},
            "sizes": {FILES[name]: (tmp / FILES[name]).stat().st_size for name in files},
        }
        _write(tmp / OPTIONS_FILE, data=json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))
        _fsync_dir(tmp)
        if out.exists():
            out.rmdir()  # empty (checked above)
        tmp.rename(out)
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Exported(out, files, rows)
