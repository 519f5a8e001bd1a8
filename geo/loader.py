"""Load a set of input files into a joined :class:`~geo.dataset.Dataset` with every record accounted for.

:class:`LoadOptions` says how to read the users' files (their column names, labels, CRS, encodings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import validation as v
from geo.dataset import SECTION_ID_DTYPE, Dataset
from geo.io import LoadError, read_boundaries, read_table
from geo.joins import join_points
from geo.report import Report, shorten
from geo.schema import EARLIEST_DATE, INPUTS, MAX_COUNT, NEEDS_SECTIONS, NUMBER_FORMATS, RECORDS, TIME_ZONE, WGS84


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


def empty_frame(input: str) -> pd.DataFrame:
    """An empty table with the columns the loader would give ``input``."""
    extra = {
        "incidents": [
            "incident_id",
            "occurred_at",
            "category",
            "category_raw",
            "count",
            "lon",
            "lat",
            "section_id",
            "row",
            "id_generated",
        ],
        "concerns": [*INPUTS["concerns"].field_names, "row"],
        "committees": [*INPUTS["committees"].field_names, "row"],
        "meetings": [*INPUTS["meetings"].field_names, "row"],
        "surveys": [
            "area",
            "area_kind",
            "area_name",
            "period",
            "period_start",
            "period_end",
            "trust_pct",
            "satisfaction_pct",
            "respondents",
            "row",
        ],
    }[input]
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in extra})
    for c in ("occurred_at", "raised_on", "resolved_on", "held_on", "established_on", "period_start", "period_end"):
        if c in frame:
            frame[c] = pd.Series(dtype="datetime64[us]")
    for c in ("lon", "lat"):
        if c in frame:
            frame[c] = pd.Series(dtype="float64")
    if "section_id" in frame:
        frame["section_id"] = pd.Series(dtype=SECTION_ID_DTYPE)
    if "id_generated" in frame:
        frame["id_generated"] = pd.Series(dtype=bool)
    return frame


def empty_sections() -> gpd.GeoDataFrame:
    cols = [*INPUTS["sections"].field_names, "municipality_raw", "row"]
    dtypes = {"section_id": SECTION_ID_DTYPE}
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=dtypes.get(c, "object")) for c in cols}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84
    )


def _skip(report: Report, input: str, path: Path, why: str) -> None:
    report.add("needs_sections", input, Path(path).name, f"{Path(path).name} was not loaded: {why}")


def _crashed(report: Report, input: str, path: Path, exc: Exception) -> None:
    """An unexpected failure while reading one file: reported as that file's error, never raised."""
    report.add(
        "unreadable_file",
        input,
        Path(path).name,
        f"{Path(path).name} could not be read: {type(exc).__name__}: {shorten(str(exc))}",
    )


def load_files(
    paths: dict[str, Path],
    options: LoadOptions | None = None,
    label: str = "",
    is_demo: bool = False,
    today: dt.date | None = None,
    known: dict[str, pd.DataFrame] | None = None,
) -> Dataset:
    """Read, validate and join the given files. Never raises for bad data: see ``dataset.report``.

    ``paths`` maps input names (``sections``, ``incidents``, …) to files; any
    but ``sections`` may be left out. ``today`` (default: today in Kosovo) fixes
    the latest plausible date when ``options.latest`` is not set. ``known``: tables already
    loaded (``sections``, ``committees``: an import's database holds them) that the files are
    checked and joined against when they are not among ``paths``; they are not part of the result.
    """
    known = known or {}
    options = options or LoadOptions()
    unknown = set(paths) - set(INPUTS)
    if unknown:
        raise ValueError(f"unknown inputs {sorted(unknown)}; inputs are {list(INPUTS)}")
    earliest, latest = options.date_range(today)
    report = Report()
    tables: dict[str, pd.DataFrame] = {}

    def opts(name):
        rules = v.RowRules(
            max_count=options.max_count,
            date_min=earliest,
            date_max=latest,
            thousands=NUMBER_FORMATS.get(options.number_format.get(name, "")),
        )
        return dict(columns=options.columns.get(name), values=options.values.get(name), rules=rules)

    sections = known.get("sections")
    if "sections" in paths:
        try:
            raw = read_boundaries(paths["sections"], "sections", report, options.layer.get("sections"))
            sections = v.validate_sections(raw, report, crs=options.crs.get("sections"), **opts("sections"))
        except LoadError:
            sections = None
        except Exception as exc:  # noqa: BLE001 - a file must never take the load (or a page) down
            _crashed(report, "sections", paths["sections"], exc)
            sections = None
    for name in NEEDS_SECTIONS:
        if name in paths and sections is None:
            why = "no sections were given" if "sections" not in paths else "the sections have errors"
            _skip(report, name, paths[name], why)

    def loaded(name, fn):
        if name not in paths:
            return None
        try:
            raw = read_table(paths[name], name, report, options.encoding.get(name), options.layer.get(name))
            return fn(raw)
        except LoadError:
            return None
        except Exception as exc:  # noqa: BLE001 - a file must never take the load (or a page) down
            _crashed(report, name, paths[name], exc)
            return None

    if sections is not None:
        for name, fn in (("incidents", v.validate_incidents), ("concerns", v.validate_concerns)):
            res = loaded(
                name, lambda raw, fn=fn, name=name: fn(raw, report, sections, crs=options.crs.get(name), **opts(name))
            )
            if res is None:
                continue
            frame, n = res
            frame = join_points(frame, sections)
            joined = int(frame["section_id"].notna().sum())
            report.set_counts(name, loaded=n, joined=joined, outside=len(frame) - joined, rejected=n - len(frame))
            tables[name] = frame
        res = loaded("committees", lambda raw: v.validate_committees(raw, report, sections, **opts("committees")))
        if res is not None:
            frame, n = res
            report.set_counts("committees", loaded=n, matched=len(frame), rejected=n - len(frame))
            tables["committees"] = frame
    committees = tables.get("committees", known.get("committees"))
    res = loaded("meetings", lambda raw: v.validate_meetings(raw, report, committees, **opts("meetings")))
    if res is not None:
        frame, n = res
        report.set_counts("meetings", loaded=n, matched=len(frame), rejected=n - len(frame))
        tables["meetings"] = frame
    res = loaded("surveys", lambda raw: v.validate_surveys(raw, report, **opts("surveys")))
    if res is not None:
        frame, n = res
        report.set_counts("surveys", loaded=n, matched=len(frame), rejected=n - len(frame))
        tables["surveys"] = frame

    for name in ("incidents", "concerns", "committees", "meetings", "surveys"):
        tables.setdefault(name, empty_frame(name))
    if "sections" not in paths:
        sections = None  # known sections are context, not part of this load
    return Dataset(
        sections=sections if sections is not None else empty_sections(),
        incidents=tables["incidents"],
        concerns=tables["concerns"],
        committees=tables["committees"],
        meetings=tables["meetings"],
        surveys=tables["surveys"],
        report=report,
        label=label or ", ".join(Path(p).name for p in paths.values()),
        is_demo=is_demo,
    )


def outside(frame: pd.DataFrame) -> pd.DataFrame:
    """The records of a joined incidents/concerns table that fell outside every section."""
    return frame[frame["section_id"].isna() & np.isfinite(frame["lon"].to_numpy(dtype=float))]


def load_records(
    paths: dict[str, Path],
    options: LoadOptions | None = None,
    today: dt.date | None = None,
    concerns: set[str] | None = None,
    meetings: set[str] | None = None,
) -> tuple[dict[str, pd.DataFrame], Report]:
    """Read and validate files of what meetings record (:data:`geo.schema.RECORDS`: ``actions``, ``attendance``,
    ``events``), checked against the known ``concerns`` and ``meetings`` ids (``None``: not checked). Never
    raises for bad data: the report says what was rejected. Returns the frames of the files given."""
    options = options or LoadOptions()
    unknown = set(paths) - set(RECORDS)
    if unknown:
        raise ValueError(f"unknown records {sorted(unknown)}; records are {list(RECORDS)}")
    earliest, latest = options.date_range(today)
    report = Report()
    out: dict[str, pd.DataFrame] = {}
    checks = {
        "actions": lambda raw, kw: v.validate_actions(raw, report, concerns, meetings, **kw),
        "attendance": lambda raw, kw: v.validate_attendance(raw, report, meetings, **kw),
        "events": lambda raw, kw: v.validate_events(raw, report, **kw),
    }
    for name, check in checks.items():
        if name not in paths:
            continue
        rules = v.RowRules(
            date_min=earliest, date_max=latest, thousands=NUMBER_FORMATS.get(options.number_format.get(name, ""))
        )
        kw = dict(columns=options.columns.get(name), values=options.values.get(name), rules=rules)
        try:
            raw = read_table(paths[name], name, report, options.encoding.get(name), options.layer.get(name))
            frame, n = check(raw, kw)
        except LoadError:
            continue
        except Exception as exc:  # noqa: BLE001 - a file must never take the load down
            _crashed(report, name, paths[name], exc)
            continue
        report.set_counts(name, loaded=n, matched=len(frame), rejected=n - len(frame))
        out[name] = frame
    return out, report
