"""Incidents pre-aggregated per section × day × category, so a filter change re-aggregates a small table.

A page that changes its period, categories or area asks the same few
questions of the incident records again and again (how many per section in
this period and in the previous one, per category, per month, where).
Scanning a million records for each question costs a tenth of a second or
more; an :class:`IncidentCube` answers from

* the **cells**: one row per (day, section, category) that has incidents, with
  the sum of their ``count``, sorted by day, so a period is a contiguous
  slice and a question is one ``numpy.bincount`` over it; and
* the **records**: coordinates (where known), ``count``, section, category
  and hour of every record, also sorted by day (density surfaces, grid
  hotspots, time of day).

The answers equal those of the functions of the same name in
:mod:`geo.figures` on the incident table (the tests compare them); only the
time differs. Records outside every section (``section_id`` missing) and
records without a date are in no answer, as there. Build it once per loaded
dataset (:attr:`geo.dataset.Dataset.cube` does, on first use); it is never
modified afterwards and can be shared between sessions.

Periods are any objects with ``start`` and ``end`` dates, both days included
(:class:`geo.figures.Period`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_DAY = np.timedelta64(1, "D")


class PeriodLike(Protocol):
    start: dt.date
    end: dt.date


@dataclass(frozen=True, eq=False)
class IncidentCube:
    """Incident counts per (day, section, category), plus the located records; see the module docstring.

    Build with :meth:`build`. ``section_ids`` and ``categories`` hold the
    distinct ids and category codes found in the records; the cells refer to
    them by position.
    """

    section_ids: np.ndarray  # str, the distinct section ids of the records
    categories: np.ndarray  # str, the distinct category codes of the records
    day0: np.datetime64  # the first day (day number 0)
    offsets: np.ndarray  # cells of day d are rows offsets[d]:offsets[d + 1]
    cell_section: np.ndarray  # int32
    cell_category: np.ndarray  # int16
    cell_count: np.ndarray  # int64: the sum of ``count`` of the records in the cell
    record_offsets: np.ndarray  # records of day d are rows record_offsets[d]:record_offsets[d + 1]
    record_lon: np.ndarray  # NaN where the record has no coordinates
    record_lat: np.ndarray
    record_count: np.ndarray  # float64, as figures.located_incidents gives it
    record_section: np.ndarray  # int32
    record_category: np.ndarray  # int16, -1: missing
    record_hour: np.ndarray  # int8: hour of the day
    record_aggregated: np.ndarray  # bool: figures.is_aggregated (no real time of day)
    record_row: np.ndarray  # int64: the record's position in the incident table it was built from
    cell_start: np.ndarray  # int64: cell i holds records cell_start[i]:cell_start[i + 1] (the last to the end)
    first: pd.Timestamp | None  # earliest and latest ``occurred_at`` of all records (any section)
    last: pd.Timestamp | None

    # ---------------------------------------------------------------- building

    @classmethod
    def build(cls, incidents: pd.DataFrame) -> IncidentCube:
        """The cube of an incident table (the loader's ``incidents``: ``occurred_at, category, count,
        lon, lat, section_id``). Never modifies ``incidents``."""
        n = len(incidents)
        when = _datetimes(incidents["occurred_at"]) if n else np.zeros(0, dtype="datetime64[us]")
        dated = ~np.isnat(when)
        first = pd.Timestamp(when[dated].min()) if dated.any() else None
        last = pd.Timestamp(when[dated].max()) if dated.any() else None
        sec_codes, section_ids = _codes(incidents["section_id"]) if n else (np.zeros(0, np.int64), [])
        cat_codes, categories = _codes(incidents["category"]) if n else (np.zeros(0, np.int64), [])
        section_ids = np.asarray([str(x) for x in section_ids], dtype=object)
        categories = np.asarray([str(x) for x in categories], dtype=object)
        counts = _counts(incidents["count"]) if n else np.zeros(0)
        seconds = _seconds(when)  # integer arithmetic: numpy's datetime casts are slow on millions of values
        keep = (sec_codes >= 0) & dated
        k = np.flatnonzero(keep)
        if len(k):
            day_k = np.floor_divide(seconds[k], 86_400)
            first_day = int(day_k.min())
            day0 = np.datetime64(first_day, "D")
            day = day_k - first_day
            n_days = int(day.max()) + 1
        else:
            day0, day, n_days = np.datetime64("1970-01-01", "D"), np.zeros(0, np.int64), 0

        # cells: (day, section, category) -> sum of count; a missing category is its own "category" (-1)
        n_sec = max(len(section_ids), 1)
        n_cat = len(categories) + 1
        key = (day * n_sec + sec_codes[k]) * n_cat + (cat_codes[k] + 1)
        order = np.argsort(key)  # also sorts the records by day
        key_sorted = key[order]
        starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]]) if len(k) else np.zeros(0, np.int64)
        cell_key = key_sorted[starts]
        cell_count = np.add.reduceat(counts[k][order], starts) if len(starts) else np.zeros(0)
        cell_cat = (cell_key % n_cat - 1).astype(np.int16)
        cell_sec = (cell_key // n_cat % n_sec).astype(np.int32)
        cell_day = cell_key // n_cat // n_sec

        # the records, sorted by day
        p = k[order]
        lon = _floats(incidents, "lon", n)
        lat = _floats(incidents, "lat", n)
        secs = seconds[p]
        hour = (np.floor_divide(secs, 3600) % 24).astype(np.int8)
        midnight = secs % 86_400 == 0
        tickets = np.flatnonzero(categories == "traffic_ticket")
        ticket = np.isin(cat_codes[p], tickets) if len(tickets) else np.zeros(len(p), dtype=bool)
        return cls(
            section_ids=section_ids,
            categories=categories,
            day0=day0,
            offsets=np.searchsorted(cell_day, np.arange(n_days + 1)),
            cell_section=cell_sec,
            cell_category=cell_cat,
            cell_count=np.rint(cell_count).astype(np.int64),
            record_offsets=np.searchsorted(day[order], np.arange(n_days + 1)),
            record_lon=lon[p],
            record_lat=lat[p],
            record_count=counts[p],
            record_section=sec_codes[p].astype(np.int32),
            record_category=cat_codes[p].astype(np.int16),
            record_hour=hour,
            record_aggregated=(counts[p] > 1) | (midnight & ticket),  # as figures.is_aggregated
            record_row=p.astype(np.int64),
            cell_start=np.asarray(starts, dtype=np.int64),
            first=first,
            last=last,
        )

    # ---------------------------------------------------------------- selection helpers

    @property
    def n_days(self) -> int:
        return len(self.offsets) - 1

    def span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Earliest and latest ``occurred_at`` of the records (``None`` when there are none)."""
        return self.first, self.last

    def _days(self, period: PeriodLike) -> tuple[int, int]:
        """Day numbers ``[lo, hi)`` of the period, clipped to the cube."""
        lo = int((np.datetime64(pd.Timestamp(period.start).date(), "D") - self.day0) // _DAY)
        hi = int((np.datetime64(pd.Timestamp(period.end).date(), "D") - self.day0) // _DAY) + 1
        return min(max(lo, 0), self.n_days), min(max(hi, 0), self.n_days)

    def _category_mask(self, categories: Iterable[str]) -> np.ndarray:
        """Per category position + 1 (0: missing category): is it chosen? Empty ``categories``: all."""
        cats = [str(c) for c in categories or ()]
        if not cats:
            return np.ones(len(self.categories) + 1, dtype=bool)
        mask = np.zeros(len(self.categories) + 1, dtype=bool)
        mask[1:] = pd.Index(self.categories, dtype=object).isin(cats)
        return mask

    def _section_mask(self, section_ids: Iterable[str] | None) -> np.ndarray | None:
        """Per section position: is it chosen? ``None``: every section (no mask)."""
        if section_ids is None:
            return None
        wanted = pd.Index(section_ids)
        return pd.Index(self.section_ids, dtype=object).isin(wanted.astype(str) if len(wanted) else [])

    def _cells(self, period: PeriodLike, categories: Iterable[str], section_ids) -> slice | np.ndarray:
        lo, hi = self._days(period)
        rows = np.arange(self.offsets[lo], self.offsets[hi]) if hi > lo else np.zeros(0, dtype=np.int64)
        cat_ok = self._category_mask(categories)[self.cell_category[rows] + 1]
        sec = self._section_mask(section_ids)
        if sec is not None:
            cat_ok &= sec[self.cell_section[rows]]
        return rows[cat_ok]

    def _per_section(self, rows: np.ndarray, weights: np.ndarray) -> pd.Series:
        sums = np.bincount(self.cell_section[rows], weights=weights, minlength=len(self.section_ids))
        present = np.bincount(self.cell_section[rows], minlength=len(self.section_ids)) > 0
        ids = self.section_ids[present]
        out = pd.Series(
            np.rint(sums[present]).astype(np.int64), index=pd.Index(ids, dtype="str", name="section_id"), name="count"
        )
        return out.sort_index()

    def _cell_values(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """What a table of cells sums, per cell: the count ``n`` (a published cube adds the cell key)."""
        return {"n": self.cell_count[rows]}

    def _group_counts(self, frame: pd.DataFrame, by: list[str]) -> pd.Series:
        """The counts of ``frame`` (cells with :meth:`_cell_values`) per group ``by``: here their sum."""
        return frame.groupby(by)["n"].sum()

    # ---------------------------------------------------------------- the questions (as in geo.figures)

    def incident_counts(
        self, period: PeriodLike, categories: Iterable[str] = (), section_ids: Iterable[str] | None = None
    ) -> pd.Series:
        """Incidents per section in ``period``: the sum of ``count``, indexed by ``section_id``.

        As :func:`geo.figures.incident_counts`: ``categories`` empty means all;
        ``section_ids`` ``None`` means every section; sections without incidents are absent.
        """
        rows = self._cells(period, categories, section_ids)
        return self._per_section(rows, self.cell_count[rows].astype(float))

    def total(
        self, period: PeriodLike, categories: Iterable[str] = (), section_ids: Iterable[str] | None = None
    ) -> int:
        """The sum of ``count`` of the incidents in the period, categories and sections."""
        return int(self.cell_count[self._cells(period, categories, section_ids)].sum())

    def counts_by_category(self, period: PeriodLike, section_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Incidents per section (rows) and category (columns) in ``period`` (as in geo.figures)."""
        rows = self._cells(period, (), section_ids)
        rows = rows[self.cell_category[rows] >= 0]
        if not len(rows):
            return pd.DataFrame(index=pd.Index([], name="section_id", dtype="object"))
        frame = pd.DataFrame(
            {
                "section_id": self.section_ids[self.cell_section[rows]],
                "category": self.categories[self.cell_category[rows]].astype(str),
                **self._cell_values(rows),
            }
        )
        out = self._group_counts(frame, ["section_id", "category"]).unstack(fill_value=0).astype("int64")
        out.index.name = "section_id"
        out.columns.name = None
        return out

    def monthly_counts(
        self,
        period: PeriodLike,
        categories: Iterable[str] = (),
        section_ids: Iterable[str] | None = None,
        order: Iterable[str] = (),
    ) -> pd.DataFrame:
        """Incidents per calendar month (rows) and category (columns) (:func:`geo.figures.monthly_counts`).

        Every month the period touches is a row; ``order``: category codes to put first, in that order.
        """
        first = pd.Timestamp(period.start).to_period("M")
        last = pd.Timestamp(period.end).to_period("M")
        months = pd.DatetimeIndex([p.to_timestamp() for p in pd.period_range(first, last, freq="M")], name="month")
        rows = self._cells(period, categories, section_ids)
        rows = rows[self.cell_category[rows] >= 0]
        if not len(rows):
            return pd.DataFrame(index=months)
        day = np.searchsorted(self.offsets, rows, side="right") - 1
        when = self.day0 + day.astype("timedelta64[D]")
        month = pd.DatetimeIndex(when).to_period("M").to_timestamp()
        frame = pd.DataFrame(
            {
                "month": month,
                "category": self.categories[self.cell_category[rows]].astype(str),
                **self._cell_values(rows),
            }
        )
        table = self._group_counts(frame, ["month", "category"]).unstack(fill_value=0)
        table = table.reindex(months, fill_value=0)
        table.index.name = "month"
        table.columns.name = None
        order = list(order)
        cols = [c for c in order if c in table.columns] + [c for c in table.columns if c not in order]
        return table[cols].astype("int64")

    def _records(self, period: PeriodLike, categories: Iterable[str], section_ids) -> np.ndarray:
        lo, hi = self._days(period)
        rows = np.arange(self.record_offsets[lo], self.record_offsets[hi]) if hi > lo else np.zeros(0, np.int64)
        ok = self._category_mask(categories)[self.record_category[rows] + 1]
        sec = self._section_mask(section_ids)
        if sec is not None:
            ok &= sec[self.record_section[rows]]
        return rows[ok]

    def located_incidents(
        self, period: PeriodLike, categories: Iterable[str] = (), section_ids: Iterable[str] | None = None
    ) -> tuple[pd.DataFrame, int]:
        """Records of the period with coordinates (``lon, lat, count``) and the ``count`` of those without.

        As :func:`geo.figures.located_incidents`.
        """
        rows = self._records(period, categories, section_ids)
        located = np.isfinite(self.record_lon[rows]) & np.isfinite(self.record_lat[rows])
        here = rows[located]
        points = pd.DataFrame(
            {"lon": self.record_lon[here], "lat": self.record_lat[here], "count": self.record_count[here]}
        )
        return points, int(self.record_count[rows[~located]].sum())

    def hour_of_day(
        self, period: PeriodLike, categories: Iterable[str] = (), section_ids: Iterable[str] | None = None
    ) -> pd.Series:
        """Records per hour of the day (0–23), leaving out aggregated records (:func:`geo.figures.hour_of_day`)."""
        rows = self._records(period, categories, section_ids)
        rows = rows[~self.record_aggregated[rows]]
        hours = np.bincount(self.record_hour[rows], minlength=24)[:24].astype("int64")
        out = pd.Series(hours, index=range(24), name="count")
        out.index.name = "hour"
        return out


def _datetimes(values: pd.Series) -> np.ndarray:
    """``datetime64`` values (NaT where missing)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.to_numpy(dtype=values.dtype)


def _seconds(when: np.ndarray) -> np.ndarray:
    """Whole seconds since 1970 (rounded down) of ``datetime64`` values; meaningless where NaT."""
    unit, step = np.datetime_data(when.dtype)
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}.get(unit)
    if per_second is None or step != 1:
        return when.astype("datetime64[s]").astype(np.int64)
    return np.floor_divide(when.view(np.int64), per_second)


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """``(codes, uniques)``: each value's position among the distinct non-missing values; -1 if missing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.cat.codes, dtype=np.int64), list(values.cat.categories)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        arr = pa.array(values.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        encoded = pc.dictionary_encode(arr)
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _counts(values: pd.Series) -> np.ndarray:
    """``count`` as floats; 1 where missing or not a number (as the figures read it)."""
    if pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return values.to_numpy(dtype=float)
    return pd.to_numeric(values, errors="coerce").fillna(1).to_numpy(dtype=float)


def _floats(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame:
        return np.full(n, np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def build(incidents: pd.DataFrame) -> IncidentCube:
    """:meth:`IncidentCube.build`."""
    return IncidentCube.build(incidents)
