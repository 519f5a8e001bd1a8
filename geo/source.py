"""The one interface between the dashboard and where its data lives.

A :class:`DataSource` turns some storage into a :class:`Dataset`: clean,
joined tables plus the :class:`~geo.report.Report` that accounts for every
record. :class:`FileSource` reads the user's files (or the built-in demo); a
database source for shared deployments implements the same two methods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import geopandas as gpd
import pandas as pd

from geo.report import Report
from geo.schema import EARLIEST_DATE, MAX_COUNT, TIME_ZONE

if TYPE_CHECKING:
    from geo.cube import IncidentCube

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"

#: Files of the built-in demo, by input.
DEMO_FILES = {
    "sections": "sections.geojson",
    "incidents": "incidents.parquet",
    "concerns": "concerns.csv",
    "committees": "committees.csv",
    "meetings": "meetings.csv",
    "surveys": "surveys.csv",
}


@dataclass
class LoadOptions:
    """How to read users' files.

    ``columns``: ``{input: {contract_field: source_column}}``.
    ``values``: ``{input: {field: {their_label: vocabulary_code}}}``.
    ``crs``: ``{input: "EPSG:code"}`` for files without a declared CRS or with x/y columns.
    ``encoding``: ``{input: codec}`` for CSV files.
    ``layer``: ``{input: layer name}`` for a GeoPackage or zip holding several layers (default: the first).
    ``number_format``: ``{input: "1.234" | "1,234" | "1 234"}``: the thousands separator of the input's
    whole numbers (without it, ``1.000`` and ``1,000`` are rejected rather than guessed).
    ``max_count``: the largest ``count`` of one incident row.
    ``earliest``, ``latest``: the plausible dates (ISO ``YYYY-MM-DD``); ``latest`` ``None`` means one day
    after today in Kosovo (:data:`~geo.schema.TIME_ZONE`).
    """

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    crs: dict[str, str] = field(default_factory=dict)
    encoding: dict[str, str] = field(default_factory=dict)
    layer: dict[str, str] = field(default_factory=dict)
    number_format: dict[str, str] = field(default_factory=dict)
    max_count: int = MAX_COUNT
    earliest: str = EARLIEST_DATE
    latest: str | None = None

    def date_range(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        """``(earliest, latest)`` plausible dates; ``today`` (default :func:`local_today`) fixes the default latest."""
        lo = dt.date.fromisoformat(self.earliest)
        if self.latest is not None:
            return lo, dt.date.fromisoformat(self.latest)
        return lo, (today or local_today()) + dt.timedelta(days=1)


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Kosovo (:data:`~geo.schema.TIME_ZONE`); ``now`` (aware or UTC) for tests."""
    from zoneinfo import ZoneInfo

    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(ZoneInfo(TIME_ZONE)).date()


@dataclass
class Dataset:
    """Clean, joined tables. Coordinates are WGS84 (EPSG:4326).

    sections
        GeoDataFrame: contract columns (``municipality`` and ``region`` as
        canonical Albanian names, ``officers`` and ``villages`` as lists),
        ``municipality_raw``, ``row``, geometry.
    incidents
        DataFrame: ``incident_id, occurred_at, category, category_raw, count,
        lon, lat, section_id, row``. ``section_id`` is missing (``<NA>``) for
        records outside every section; ``lon``/``lat`` are missing for records
        located only by section.
    concerns
        DataFrame: the contract's concern columns plus ``lon, lat, section_id, row``.
    committees
        DataFrame: contract columns with ``sections`` as a list of known ids.
    meetings, surveys
        DataFrames of their matched records; surveys add ``area_kind``
        (``municipality``/``region``), ``area_name`` (canonical), ``period_start``
        and ``period_end``.

    ``cube`` (built on first use, then kept): the incidents pre-aggregated per
    section × day × category (:class:`geo.cube.IncidentCube`), for pages that
    re-aggregate on every filter change. Like the tables, it is never modified.
    """

    sections: gpd.GeoDataFrame
    incidents: pd.DataFrame
    concerns: pd.DataFrame
    committees: pd.DataFrame
    meetings: pd.DataFrame
    surveys: pd.DataFrame
    report: Report
    label: str = ""
    is_demo: bool = False

    @property
    def data_as_of(self) -> pd.Timestamp | None:
        """The latest date in incidents or concerns, or ``None`` when there are none."""
        dates = []
        if len(self.incidents):
            dates.append(self.incidents["occurred_at"].max())
        if len(self.concerns):
            dates.append(self.concerns["raised_on"].max())
        dates = [d for d in dates if pd.notna(d)]
        return max(dates) if dates else None

    @cached_property
    def cube(self) -> IncidentCube:
        """The incidents per section × day × category (:mod:`geo.cube`); built on first use."""
        from geo.cube import IncidentCube

        return IncidentCube.build(self.incidents)


class DataSource(Protocol):
    """Where the dashboard's data comes from."""

    def fingerprint(self) -> str:
        """A short string that changes whenever the data would load differently (a cache key)."""

    def load(self) -> Dataset:
        """Read, validate and join; never raises for bad data (problems go into ``report``)."""


@dataclass
class FileSource:
    """Files on disk, one per input (any may be missing except sections)."""

    paths: dict[str, Path]
    options: LoadOptions = field(default_factory=LoadOptions)
    label: str = ""
    is_demo: bool = False

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.paths):
            p = Path(self.paths[name])
            h.update(name.encode())
            h.update(str(p.resolve()).encode())
            if p.exists():
                st = p.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        h.update(repr(self.options).encode())
        h.update(repr(self.options.date_range()).encode())  # the default latest date moves every day
        return h.hexdigest()[:16]

    def load(self) -> Dataset:
        """The joined dataset; large inputs come from the columnar cache after the first time (:mod:`geo.store`)."""
        from geo import store

        return store.load(self.paths, self.options, label=self.label, is_demo=self.is_demo)


def demo_source(directory: Path = DEMO_DIR) -> FileSource:
    """The built-in demo dataset (synthetic, approximate boundaries)."""
    return FileSource(
        {name: directory / fname for name, fname in DEMO_FILES.items()},
        label="demo",
        is_demo=True,
    )
