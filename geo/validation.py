"""Turn raw tables into typed, contract-named columns, reporting every problem precisely.

Each ``validate_*`` function takes a :class:`~geo.io.RawTable`, maps its
columns onto the contract (:mod:`geo.schema`), coerces every field, and
returns the accepted rows with a ``row`` column (1-based record number in the
file); all but ``validate_sections`` return them as ``(rows, number of records
in the file)``. Rows it rejects are reported with their row, field and value; whole-file
problems are reported as errors and raise :class:`~geo.io.LoadError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo import places
from geo.dataset import SECTION_ID_DTYPE
from geo.io import LoadError, RawTable
from geo.report import Report, shorten
from geo.schema import (
    AREA_TOLERANCE_M2,
    ATTENDANCE_GROUPS,
    CONTRACT,
    EARLIEST_DATE,
    LIST_SEPARATOR,
    LIST_SEPARATORS,
    MAX_COUNT,
    METRIC_CRS,
    NUMBER_FORMATS,
    WGS84,
    Field,
    Term,
)

#: Date and date-time forms accepted in text cells, tried in order (day first, as written in Kosovo).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y.",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y. %H:%M",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d",
)
#: A time followed by a UTC offset at the end of an ISO 8601 date-time: ``Z``, ``+01:00``, ``+0100``, ``-05``.
_UTC_OFFSET = r"[T ]\d{1,2}:\d{2}.*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
DATE_FORMS_TEXT = "2024-03-18, 18.03.2024 or 18/03/2024 (optionally with a time such as 14:05)"
TRUE_WORDS = {"true", "yes", "y", "1", "po", "da", "t", "x", "po/yes"}
FALSE_WORDS = {"false", "no", "n", "0", "jo", "ne", "f"}
#: Degrees added around the sections' bounds when deciding whether a point is near them.
NEAR_DEGREES = 0.5
#: Shapefiles (dBase) cut column names to this many characters; contract names so cut are recognised.
DBASE_NAME_LENGTH = 10
#: Whole numbers other than counts above this are out of range (beyond it a float no longer holds every integer).
MAX_WHOLE = 2**53
#: A whole number written with a thousands separator: ``1.000``, ``1,000``, ``12.345.678``.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[.,]\d{3})+")


@dataclass(frozen=True)
class RowRules:
    """Limits a value must keep to beyond its type (from :class:`~geo.loader.LoadOptions`).

    ``max_count``: the largest ``count`` of one row. ``date_min``/``date_max``: the plausible dates
    (``None``: no upper limit). ``thousands``: the thousands separator the input's whole numbers are
    written with (a key of :data:`~geo.schema.NUMBER_FORMATS`), or ``None`` when they have none.
    """

    max_count: int = MAX_COUNT
    date_min: dt.date = dt.date.fromisoformat(EARLIEST_DATE)
    date_max: dt.date | None = None
    thousands: str | None = None


# ---------------------------------------------------------------- cell coercion


def _strip_text(s: pd.Series) -> pd.Series:
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _distinct(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, uniques)``: each cell's position in ``uniques`` (the distinct non-missing values), -1 if missing."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.asarray(s.cat.codes, dtype=np.int64), pd.Series(np.asarray(s.cat.categories, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), pd.Series(np.asarray(uniques, dtype=object))


def _spread_text(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Text Series (pandas ``string``) with ``values[codes[i]]`` in row ``i``, missing where ``codes[i] < 0``."""
    arr = pa.array(values.astype("string").array, type=pa.large_string())
    taken = arr.take(pa.array(codes, mask=codes < 0)) if len(arr) else pa.nulls(len(codes), pa.large_string())
    return pd.Series(pd.array(taken, dtype="string"), index=index)


def per_distinct(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` applied to the distinct non-missing values of ``s`` only, spread back to every cell as text.

    ``fn`` takes and returns a Series of the same length. A column of a million cells with a
    dozen labels costs a dozen evaluations; missing cells stay missing.
    """
    codes, uniques = _distinct(s)
    return _spread_text(fn(uniques), codes, s.index)


def _few_distinct(s: pd.Series) -> bool:
    """Worth working on distinct values: a categorical, or a large column of text with few distinct values."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return True
    return len(s) > 10_000 and not pd.api.types.is_numeric_dtype(s) and s.head(10_000).nunique() < 1_000


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as stripped text, with empty cells as missing."""
    if _few_distinct(s):
        return per_distinct(s, _strip_text)
    return _strip_text(s)


def parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text with a decimal point or comma (``42,66``; ``1.234,5``; ``1 234.5``).

    Returns ``(float values, bad)``; ``bad`` marks non-empty cells that are not numbers.
    """
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = pd.to_numeric(s, errors="coerce").astype("float64")
        bad = pd.Series(np.isinf(v.to_numpy(dtype=float)), index=s.index)
        return v.mask(bad), bad
    t = _as_text(s)
    t = t.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    has_comma = t.str.contains(",", regex=False).fillna(False)
    has_dot = t.str.contains(".", regex=False).fillna(False)
    last_comma = t.str.rfind(",")
    last_dot = t.str.rfind(".")
    comma_decimal = has_comma & (~has_dot | (last_comma > last_dot))
    t = t.where(~comma_decimal, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    t = t.where(comma_decimal | ~has_comma, t.str.replace(",", "", regex=False))
    v = pd.to_numeric(t, errors="coerce").astype("float64")
    v = v.mask(np.isinf(v.to_numpy(dtype=float)))  # "inf", "1e999": not a number anyone counted or measured
    bad = t.notna() & v.isna()
    return v, bad


def _distinct_mask(t: pd.Series, fn: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """``fn`` (text -> bool array) evaluated on the distinct values of ``t`` only; ``False`` for missing cells."""
    codes, uniques = _distinct(t)
    if not len(uniques):
        return np.zeros(len(t), dtype=bool)
    hits = np.asarray(fn(uniques.astype("string")), dtype=bool)
    out = np.zeros(len(t), dtype=bool)
    has = codes >= 0
    out[has] = hits[codes[has]]
    return out


def parse_whole_numbers(s: pd.Series, thousands: str | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Whole numbers, never misreading a thousands separator: ``(float values, bad, grouped)``.

    Without ``thousands``, a cell such as ``1.000`` or ``1,000`` (one to three digits, then groups of three
    after a point or comma) could be one or a thousand: it is marked ``grouped`` and not read. With
    ``thousands`` (``"."``, ``","`` or ``" "``: how the file groups digits), such cells are read with it, and
    other cells holding a point, comma or space are ``bad``. Anything else is read as :func:`parse_numbers` does.
    """
    none = pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v, bad = parse_numbers(s)
        return v, bad, none
    if thousands is None:
        # judged on the distinct cells only: a column of a million counts has a few hundred
        found = _distinct_mask(s, lambda u: u.str.strip().str.fullmatch(_GROUPED).fillna(False))
        grouped = pd.Series(found, index=s.index)
        v, bad = parse_numbers(s.mask(grouped) if found.any() else s)
        return v, bad & ~grouped, grouped
    t = _as_text(s).str.replace("\u00a0", " ", regex=False)
    sep = re.escape(thousands)
    pattern = re.compile(rf"[+-]?\d{{1,3}}(?:{sep}\d{{3}})+")
    stripped = t.str.strip()
    fits = pd.Series(_distinct_mask(stripped, lambda u: u.str.fullmatch(pattern).fillna(False)), index=s.index)
    # any other separator in a whole number is a misreading waiting to happen ("1,000" with "1.234": one?)
    holds = stripped.str.contains(r"[.,\s]", regex=True).fillna(False).astype(bool) & ~fits
    v, bad = parse_numbers(stripped.where(~fits, stripped.str.replace(thousands, "", regex=False)).mask(holds))
    return v, (bad | holds) & t.notna(), none


def parse_dates(s: pd.Series, keep_time: bool = True) -> tuple[pd.Series, pd.Series]:
    """Dates from the forms in :data:`DATE_FORMATS` (or native date columns).

    Returns ``(datetime64 values, bad)``; time zones are converted to
    Europe/Belgrade (Kosovo's local time) and dropped.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        v = s
        if getattr(v.dt, "tz", None) is not None:
            v = v.dt.tz_convert("Europe/Belgrade").dt.tz_localize(None)
        v = v.astype("datetime64[us]")
        bad = pd.Series(False, index=s.index)
    else:
        t = _as_text(s)
        v = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
        todo = t.notna()
        for fmt in DATE_FORMATS:
            if not todo.any():
                break
            parsed = pd.to_datetime(t[todo], format=fmt, errors="coerce")
            ok = parsed.notna()
            v.loc[parsed.index[ok]] = parsed[ok].astype("datetime64[us]")
            todo.loc[parsed.index[ok]] = False
        if todo.any():  # last chance: full ISO 8601 with seconds fractions or an offset
            rest = t[todo]
            # only a written offset (Z, +01:00) is converted; without one the time is already local
            has_offset = rest.str.contains(_UTC_OFFSET, regex=True).fillna(False).astype(bool)
            for part, offset in ((rest[has_offset], True), (rest[~has_offset], False)):
                if not len(part):
                    continue
                parsed = pd.to_datetime(part, format="ISO8601", errors="coerce", utc=offset)
                ok = parsed.notna()
                if ok.any():
                    local = parsed[ok].dt.tz_convert("Europe/Belgrade").dt.tz_localize(None) if offset else parsed[ok]
                    v.loc[local.index] = local.astype("datetime64[us]")
                    todo.loc[local.index] = False
        bad = todo
    if not keep_time:
        v = v.dt.normalize()
    return v, bad


def parse_bools(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans from true/false, yes/no, po/jo (sq), da/ne (sr), 1/0. Returns ``(values, bad)``."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), pd.Series(False, index=s.index)
    t = _as_text(s.astype("string")).str.casefold()
    v = pd.Series(pd.NA, index=s.index, dtype="boolean")
    v[t.isin(TRUE_WORDS).fillna(False)] = True
    v[t.isin(FALSE_WORDS).fillna(False)] = False
    bad = t.notna() & v.isna()
    return v, bad


def split_list(value: object) -> list[str]:
    """Split a cell holding several values (``a|b``, ``a; b`` or ``a, b``)."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value)
    for sep in LIST_SEPARATORS:
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text.strip()] if text.strip() else []


def _lists(s: pd.Series) -> pd.Series:
    """:func:`split_list` of every cell, as an object Series of lists."""
    return pd.Series([split_list(v) for v in s], index=s.index, dtype=object)


def vocabulary_index(vocab: Iterable[Term], extra: dict[str, str] | None = None) -> dict[str, str]:
    """Folded label → code for a vocabulary, its labels and aliases, plus user-given labels."""
    index: dict[str, str] = {}
    for t in vocab:
        for label in (t.code, t.label, *t.aliases):
            index.setdefault(places.normalize(label), t.code)
    for label, code in (extra or {}).items():
        index[places.normalize(label)] = code
    return index


def match_vocabulary(s: pd.Series, vocab: Iterable[Term], extra: dict[str, str] | None = None):
    """Vocabulary codes for the cells of ``s``; ``(codes, unknown)`` where unknown marks unmatched non-empty cells."""
    index = vocabulary_index(vocab, extra)
    rows, uniques = _distinct(s)
    text = _strip_text(uniques)
    code = pd.Series([None if pd.isna(t) else index.get(places.normalize(t)) for t in text], dtype=object)
    codes = _spread_text(code, rows, s.index)
    has_text = np.zeros(len(uniques) + 1, dtype=bool)  # the last entry stands for missing cells (code -1)
    has_text[:-1] = text.notna().to_numpy()
    unknown = pd.Series(has_text[rows], index=s.index) & codes.isna()
    return codes, unknown


# ---------------------------------------------------------------- the table validator


def _column_key(name: str) -> str:
    return re.sub(r"[\s\-\.]+", "_", places.normalize(name))


class TableCheck:
    """Column mapping, coercion and row rejection for one raw table."""

    def __init__(
        self,
        input: str,
        raw: RawTable,
        report: Report,
        columns: dict[str, str] | None = None,
        values: dict[str, dict[str, str]] | None = None,
        rules: RowRules | None = None,
    ):
        self.input = input
        self.spec = CONTRACT[input]
        self.raw = raw
        self.file = raw.file
        self.report = report
        self.values = values or {}
        self.rules = rules or RowRules()
        self.n = len(raw.frame)
        self.rejected = np.zeros(self.n, dtype=bool)
        self._cells: dict[str, pd.Series] = {}
        self.mapping = self._map_columns(columns or {})

    # -- columns

    def _map_columns(self, explicit: dict[str, str]) -> dict[str, str]:
        frame = self.raw.frame
        available = list(frame.columns)
        mapping: dict[str, str] = {}
        for fld, src in explicit.items():
            if fld not in self.spec.field_names:
                raise ValueError(f"{self.input} has no field {fld!r}; fields are {list(self.spec.field_names)}")
            if src not in available:
                self.report.add(
                    "missing_column",
                    self.input,
                    self.file,
                    f"{self.file}: column {src!r} (mapped to {fld}) is not in the file; its columns are {available}",
                    field=fld,
                    value=src,
                    expected=", ".join(available),
                )
                raise LoadError(self.file)
            mapping[fld] = src
        by_key = {}
        for col in available:
            by_key.setdefault(_column_key(col), col)
        # a column mapped explicitly may feed a field found by name as well (municipal boundaries: the
        # municipality mapped onto shapeName, which is also the section's name)
        taken: set[str] = set()
        for f in self.spec.fields:
            if f.name in mapping:
                continue
            for cand in (f.name, *f.aliases):
                key = _column_key(cand)
                # a Shapefile (dBase) keeps only the first 10 characters of a name: section_name -> section_na
                col = by_key.get(key) or (by_key.get(key[:DBASE_NAME_LENGTH]) if len(key) > DBASE_NAME_LENGTH else None)
                if col is not None and col not in taken:
                    mapping[f.name] = col
                    taken.add(col)
                    break
        self._check_repeated_columns(mapping, explicit)
        missing = [f.name for f in self.spec.fields if f.required and f.name not in mapping]
        for name in missing:
            kind = self.spec.field(name).place
            holder = place_column(frame, kind) if kind else None
            hint = (
                f"Column {holder!r} holds {kind} names: --map {self.input}.{name}={holder}."
                if holder is not None
                else f"Map one of them onto {name!r} (--map {self.input}.{name}=COLUMN)."
            )
            self.report.add(
                "missing_column",
                self.input,
                self.file,
                f"{self.file}: required column {name!r} is missing; the file has {available}. {hint}",
                field=name,
                expected=name,
            )
        if missing:
            raise LoadError(self.file)
        return mapping

    def _check_repeated_columns(self, mapping: dict[str, str], explicit: dict[str, str]) -> None:
        """Columns the file names more than once (or under spellings that read the same, ``Lat`` and ``lat``).

        One of them used for a contract field is an error: which one holds the data cannot be known.
        Repeats of columns the loader does not use are a warning.
        """
        frame_cols = list(self.raw.frame.columns)
        by_key: dict[str, list[str]] = {}
        for col in frame_cols:
            by_key.setdefault(_column_key(col), []).append(col)
        position = {c: k for k, c in enumerate(frame_cols, start=1)}
        groups: list[tuple[str, list[int], str | None]] = []
        for name, where in self.raw.duplicates.items():
            fld = next((f for f, c in mapping.items() if c == name), None)
            groups.append((name, where, fld))
        for cols in by_key.values():
            if len(cols) < 2 or any(c in self.raw.duplicates for c in cols):
                continue
            fld = next((f for f, c in mapping.items() if c in cols and f not in explicit), None)
            groups.append((cols[0], [position[c] for c in cols], fld))
        failed = False
        for name, where, fld in groups:
            shown = ", ".join(map(str, where))
            if fld is not None:
                failed = True
                self.report.add(
                    "duplicate_column",
                    self.input,
                    self.file,
                    f"{self.file}: the column {shorten(name)!r} appears {len(where)} times (columns {shown}), so "
                    f"which one holds {fld} cannot be known. Rename or remove the others.",
                    field=fld,
                    value=name,
                    expected="each column name once",
                )
            else:
                self.report.add(
                    "duplicate_column",
                    self.input,
                    self.file,
                    f"{self.file}: the column {shorten(name)!r} appears {len(where)} times (columns {shown}); "
                    f"it is not used.",
                    value=name,
                    expected="each column name once",
                    severity="warning",
                )
        if failed:
            raise LoadError(self.file)

    def has(self, name: str) -> bool:
        return name in self.mapping

    def cells(self, name: str) -> pd.Series:
        """The file's column for a contract field (all missing when the file has none).

        A float column holding only whole numbers is given as integers: an integer column with an
        empty cell reads as floats from GeoJSON, GeoPackage or Shapefile, and its ids (101) must not
        turn into text such as ``"101.0"``.
        """
        if name in self._cells:
            return self._cells[name]
        if name not in self.mapping:
            col = pd.Series(pd.array(pa.nulls(self.n, pa.large_string()), dtype="string"), index=self.raw.frame.index)
        else:
            col = self.raw.frame[self.mapping[name]]
            if pd.api.types.is_float_dtype(col):
                vals = col.dropna().to_numpy(dtype=float)
                if (
                    len(vals)
                    and np.isfinite(vals).all()
                    and (vals == np.floor(vals)).all()
                    and (abs(vals) < 2**53).all()
                ):
                    col = col.astype("Int64")
            elif col.dtype == object and self.spec.field(name).kind != "list":
                col = self._single_values(name, col)
        self._cells[name] = col
        return col

    def _single_values(self, name: str, col: pd.Series) -> pd.Series:
        """Reject the rows whose cell is a nested value (a list or a record, from Parquet or GeoJSON)."""
        if pd.api.types.infer_dtype(col, skipna=True) not in ("mixed", "mixed-integer", "unknown-array"):
            return col
        nested = col.map(lambda x: isinstance(x, (list, tuple, dict, set, np.ndarray))).to_numpy(dtype=bool)
        if not nested.any():
            return col
        shown = pd.Series([_plain(str(x)) if k else None for x, k in zip(col, nested)], index=col.index)
        self.reject(nested, "nested_value", name, "a single value", "is a list or a record, not one value", shown)
        return col.where(~nested, None)

    # -- problems

    def problem(
        self,
        code: str,
        i: int | None,
        field: str | None,
        value,
        expected: str | None,
        message: str,
        severity: str | None = None,
    ) -> None:
        row = None if i is None else int(i) + 1
        where = f"{self.file}" + (f", row {row}" if row is not None else "")
        self.report.add(
            code,
            self.input,
            self.file,
            f"{where}: {message}",
            row=row,
            field=field,
            value=_plain(value),
            expected=expected,
            severity=severity,
        )

    def reject(
        self,
        mask: pd.Series | np.ndarray,
        code: str,
        field: str,
        expected: str,
        what: str,
        values: pd.Series | None = None,
    ) -> None:
        """Reject the rows in ``mask`` (not already rejected), one warning each."""
        mask = np.asarray(mask, dtype=bool) & ~self.rejected
        if not mask.any():
            return
        src = self.cells(field) if values is None else values
        for i in np.flatnonzero(mask):
            v = src.iloc[i]
            self.problem(code, i, field, v, expected, f"{field} {_plain(v)!r} {what}; the row is not used.")
        self.rejected |= mask

    def warn_rows(self, mask, code: str, field: str, expected: str | None, what: str, values=None) -> None:
        """A warning per row in ``mask``; the rows stay."""
        mask = np.asarray(mask, dtype=bool) & ~self.rejected
        if not mask.any():
            return
        src = self.cells(field) if values is None else values
        for i in np.flatnonzero(mask):
            v = src.iloc[i]
            self.problem(code, i, field, v, expected, f"{field} {_plain(v)!r} {what}.")

    # -- typed fields

    def text(self, name: str, required: bool | None = None) -> pd.Series:
        f = self.spec.field(name)
        v = _as_text(self.cells(name))
        if required if required is not None else f.required:
            self.reject(v.isna(), "missing_value", name, f"a value for {name}", "is empty")
        return v

    def number(self, name: str, integer: bool = False, lo: float | None = None, hi: float | None = None):
        f = self.spec.field(name)
        raw = self.cells(name)
        if integer:
            v, bad, grouped = parse_whole_numbers(raw, self.rules.thousands)
            fmt = next((k for k, sep in NUMBER_FORMATS.items() if sep == self.rules.thousands), None)
            # the existing code for a cell that cannot be read as a number: without the format it cannot
            self.reject(
                grouped,
                "bad_number",
                name,
                f"a whole number without separators, or --number-format {self.input}={' or '.join(NUMBER_FORMATS)}",
                "has a thousands separator (or is it a decimal?); it is not guessed",
            )
            self.reject(
                bad,
                "bad_number",
                name,
                "a whole number" + (f" written as {fmt}" if fmt else ""),
                "is not a whole number" + (f" written as {fmt}" if fmt else ""),
            )
        else:
            v, bad = parse_numbers(raw)
            self.reject(bad, "bad_number", name, "a number", "is not a number")
        if integer:
            frac = v.notna() & (v != np.floor(v.fillna(0)))
            self.reject(frac, "bad_number", name, "a whole number", "is not a whole number")
            v = v.where(~frac)  # the row is rejected; keep the column castable to integers
            limit = self.rules.max_count if name == "count" else MAX_WHOLE
            big = v.notna() & (v.abs() > limit)
            if name == "count":
                self.reject(
                    big,
                    "count_too_large",
                    name,
                    f"at most {limit:,} (--max-count)",
                    f"is more than {limit:,}, the most one row may count",
                )
            else:
                self.reject(big, "out_of_range", name, f"at most {limit:,}", f"is larger than {limit:,}")
            v = v.where(~big)
        if lo is not None or hi is not None:
            out = v.notna() & ((v < (lo if lo is not None else -np.inf)) | (v > (hi if hi is not None else np.inf)))
            self.reject(out, "out_of_range", name, f"between {lo} and {hi}", f"is outside {lo}–{hi}")
        if f.required:
            self.reject(v.isna() & ~bad, "missing_value", name, f"a value for {name}", "is empty")
        return v

    def date(self, name: str, keep_time: bool):
        f = self.spec.field(name)
        v, bad = parse_dates(self.cells(name), keep_time=keep_time)
        self.reject(bad, "bad_date", name, DATE_FORMS_TEXT, "is not a date")
        lo, hi = self.rules.date_min, self.rules.date_max
        day = v.dt.normalize()
        out = v.notna() & (day < pd.Timestamp(lo))
        if hi is not None:
            out |= v.notna() & (day > pd.Timestamp(hi))
        span = f"{lo.isoformat()} to {hi.isoformat()}" if hi is not None else f"from {lo.isoformat()}"
        self.reject(
            out,
            "implausible_date",
            name,
            f"a date {span} (--earliest, --latest)",
            f"is outside the plausible dates ({span})",
        )
        v = v.where(~out.to_numpy())
        if f.required:
            self.reject(v.isna() & ~bad & ~out, "missing_value", name, f"a value for {name}", "is empty")
        return v

    def boolean(self, name: str, default: bool) -> pd.Series:
        v, bad = parse_bools(self.cells(name))
        self.reject(bad, "bad_value", name, "true/false, yes/no, po/jo, da/ne, 1/0", "is not yes or no")
        return v.fillna(default).astype(bool)

    def category(self, name: str, unknown: str = "keep") -> pd.Series:
        """Vocabulary codes. ``unknown``: ``keep`` maps to ``other`` (one warning per label),
        ``missing`` leaves the cell empty with a warning, ``reject`` rejects the row."""
        f: Field = self.spec.field(name)
        raw = self.cells(name)
        codes, unk = match_vocabulary(raw, f.vocabulary, self.values.get(name))
        if f.required:
            self.reject(codes.isna() & ~unk, "missing_value", name, f"a value for {name}", "is empty")
        allowed = ", ".join(f.allowed)
        if unknown == "reject":
            self.reject(unk, "bad_value", name, allowed, "is not a known value")
            return codes
        unk = unk & ~pd.Series(self.rejected, index=raw.index)
        if unk.any():
            labels = _as_text(raw)[unk]
            replacement = "other" if unknown == "keep" and "other" in f.allowed else None
            for label, idx in labels.groupby(labels, sort=True).groups.items():
                rows = [int(i) + 1 for i in idx]
                shown = ", ".join(map(str, rows[:20])) + (" …" if len(rows) > 20 else "")
                fate = "counted as 'other'" if replacement else "left empty"
                self.report.add(
                    "unknown_category",
                    self.input,
                    self.file,
                    f"{self.file}: {name} {shorten(label)!r} is not in the vocabulary ({len(rows)} rows: {shown}); "
                    f"{fate}. Map it with --value {self.input}.{name}={shorten(label)}:CODE",
                    row=rows[0],
                    field=name,
                    value=str(label),
                    expected=allowed,
                )
            codes = codes.where(~unk, replacement)
        return codes

    def accepted(self) -> np.ndarray:
        return ~self.rejected


def _lookup(s: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` to each distinct non-missing value of ``s``; an object Series with ``None`` elsewhere."""
    uniques = {u: fn(u) for u in pd.unique(s.dropna())}
    return pd.Series([uniques.get(x) if not _isna(x) else None for x in s], index=s.index, dtype=object)


def _isna(x) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _plain(v):
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (int, float, bool)):
        return v
    return shorten(v)


def _check_duplicates(chk: TableCheck, ids: pd.Series, field: str, severity_error: bool) -> None:
    """Duplicate ids: an error (sections) or a rejection of the later rows (others)."""
    live = ids.where(pd.Series(chk.accepted(), index=ids.index))
    values = pc.drop_null(pa.array(live.astype("string").array))
    if len(pc.unique(values)) == len(values):  # the usual case, found quickly: no duplicates
        return
    dup = live.duplicated(keep="first") & live.notna()
    if not dup.any():
        return
    first_row = {v: int(i) + 1 for i, v in live[live.notna()].drop_duplicates().items()}
    for i in np.flatnonzero(dup.to_numpy()):
        v = ids.iloc[i]
        if severity_error:
            chk.problem(
                "duplicate_id",
                i,
                field,
                v,
                "unique ids",
                f"{field} {v!r} is used again (first at row {first_row[v]}); ids must be unique.",
            )
        else:
            chk.problem(
                "duplicate_record",
                i,
                field,
                v,
                "unique ids",
                f"{field} {v!r} repeats row {first_row[v]}; the row is not used.",
            )
    if not severity_error:
        chk.rejected |= dup.to_numpy()


# ---------------------------------------------------------------- CRS


def _fits_wgs84(xmin: float, ymin: float, xmax: float, ymax: float) -> bool:
    return -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90


def check_declared_crs(raw: RawTable, input: str, override: str | None, report: Report) -> None:
    """A ``bad_crs`` error when the file declares a CRS no database knows (and ``--crs`` does not replace it)."""
    if raw.unknown_crs is None or override:
        return
    report.add(
        "bad_crs",
        input,
        raw.file,
        f'{raw.file} declares the coordinate system {raw.unknown_crs!r} (its "crs" member), which is not a '
        f"known CRS; its coordinates cannot be placed. Give the CRS with --crs {input}=EPSG:CODE "
        f"(e.g. EPSG:9141 for KOSOVAREF01, EPSG:4326 for longitude/latitude).",
        field="crs",
        value=raw.unknown_crs,
        expected="EPSG:4326, EPSG:9141, EPSG:3857 …",
    )
    raise LoadError(raw.file)


def resolve_crs(input: str, file: str, declared, override: str | None, bounds, report: Report) -> CRS:
    """The CRS to read coordinates in: the override, the declared one, or WGS84 when the numbers fit.

    ``bounds`` are ``(xmin, ymin, xmax, ymax)`` of the coordinates as written. No usable CRS is a
    ``missing_crs`` error: none declared and the numbers are not longitude/latitude, or a geographic
    CRS declared (GeoJSON always implies WGS84) for numbers that are not degrees.
    """
    if override:
        try:
            return CRS.from_user_input(override)
        except CRSError as exc:
            report.add(
                "bad_crs",
                input,
                file,
                f"{file}: {override!r} is not a CRS ({exc})",
                value=override,
                expected="EPSG:4326, EPSG:9141, EPSG:3857 …",
            )
            raise LoadError(file) from exc
    fits = bounds is not None and all(np.isfinite(bounds)) and _fits_wgs84(*bounds)
    if declared is not None:
        declared = CRS.from_user_input(declared)
        if fits or not declared.is_geographic or bounds is None or not all(np.isfinite(bounds)):
            return declared
        # GeoJSON without a "crs" member is read as WGS84 whatever its numbers are
        report.add(
            "missing_crs",
            input,
            file,
            f'{file} is read as {declared.name} (a GeoJSON file without a "crs" member always is), but its '
            f"coordinates are not longitude/latitude (bounds {tuple(round(float(b), 1) for b in bounds)}); "
            f"give the CRS with --crs {input}=EPSG:CODE (e.g. EPSG:9141 for KOSOVAREF01).",
            value=declared.to_string(),
            expected="a declared CRS that fits the coordinates",
        )
        raise LoadError(file)
    if fits:
        report.add(
            "crs_assumed",
            input,
            file,
            f"{file} declares no CRS; its coordinates fit longitude/latitude, so WGS84 (EPSG:4326) is assumed. "
            f"Give --crs {input}=EPSG:CODE if that is wrong.",
            expected="a declared CRS",
            value=None,
        )
        return CRS.from_epsg(4326)
    report.add(
        "missing_crs",
        input,
        file,
        f"{file} declares no CRS and its coordinates are not longitude/latitude "
        f"(bounds {tuple(round(float(b), 1) for b in bounds) if bounds is not None else '?'}); "
        f"give the CRS with --crs {input}=EPSG:CODE (e.g. EPSG:9141 for KOSOVAREF01).",
        expected="a declared CRS",
    )
    raise LoadError(file)


# ---------------------------------------------------------------- sections


def validate_sections(
    raw: RawTable, report: Report, columns=None, values=None, crs: str | None = None, rules: RowRules | None = None
) -> gpd.GeoDataFrame:
    """Check and clean section boundaries; returns the accepted sections in EPSG:4326.

    Raises :class:`LoadError` (after reporting) on whole-file errors: missing
    columns, no usable CRS, duplicate ids, empty or non-polygon geometries.
    """
    input = "sections"
    if raw.geometry is None or len(raw.frame) == 0:
        report.add("empty_file", input, raw.file, f"{raw.file} has no features")
        raise LoadError(raw.file)
    chk = TableCheck(input, raw, report, columns, values, rules)
    geom = gpd.GeoSeries(raw.geometry.values, crs=None)
    gtype = shapely.get_type_id(geom.values)
    empty = geom.isna().to_numpy() | shapely.is_empty(geom.values)
    polygonal = np.isin(gtype, (3, 6))  # Polygon, MultiPolygon
    errors_before = len(report.errors)
    unusable = np.zeros(len(geom), dtype=bool)
    for i, reason in sorted(raw.bad_geometry.items()):
        unusable[i] = True
        chk.problem(
            "bad_geometry",
            i,
            "geometry",
            reason,
            "a closed ring of at least 4 points with finite coordinates",
            f"feature {i + 1} cannot be used: {reason}.",
        )
    empty &= ~unusable
    for i in np.flatnonzero(empty):
        chk.problem("empty_geometry", i, "geometry", None, "a Polygon or MultiPolygon", "the feature has no geometry.")
    for i in np.flatnonzero(~empty & ~polygonal & ~unusable):
        chk.problem(
            "not_polygon",
            i,
            "geometry",
            shapely.get_type_id(geom.values[i]),
            "a Polygon or MultiPolygon",
            f"the geometry is a {geom.values[i].geom_type}, not a polygon.",
        )
    chk.rejected |= empty | ~polygonal | unusable

    ids = chk.text("section_id")
    _check_duplicates(chk, ids, "section_id", severity_error=True)
    names = chk.text("section_name")
    muni_raw = chk.text("municipality")

    # CRS, from the polygonal features only
    good = ~chk.rejected
    bounds = shapely.total_bounds(geom.values[good]) if good.any() else None
    check_declared_crs(raw, input, crs, report)
    the_crs = resolve_crs(input, raw.file, raw.crs, crs, bounds, report)
    # the CRS the numbers are in: the --crs override may differ from the one the file declares
    gs = geom.set_crs(the_crs, allow_override=True)
    if not the_crs.equals(CRS.from_epsg(4326)):
        gs = gs.to_crs(WGS84)
    else:
        gs = gs.set_crs(WGS84, allow_override=True)

    # repair invalid polygons, keeping polygons
    values_g = gs.values.copy()
    invalid = ~chk.rejected & ~shapely.is_valid(values_g)
    repaired = np.zeros(len(values_g), dtype=bool)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(values_g[i])
        fixed = _polygonal(shapely.make_valid(values_g[i]))
        if fixed is None or fixed.is_empty:
            chk.problem(
                "empty_geometry",
                i,
                "geometry",
                reason,
                "a Polygon or MultiPolygon",
                f"the geometry is invalid ({reason}) and nothing polygonal is left after repair.",
            )
            chk.rejected[i] = True
            continue
        values_g[i] = fixed
        repaired[i] = True
        chk.problem(
            "repaired_geometry",
            i,
            "geometry",
            reason,
            "a valid polygon",
            f"the polygon was invalid ({reason}) and has been repaired.",
        )

    # names
    muni, candidates_m = place_names(muni_raw, "municipality", chk.values.get("municipality"))
    unknown_m = muni_raw.notna() & muni.isna()
    _warn_unknown_names(chk, muni_raw, unknown_m, candidates_m, "municipality", "a municipality of Kosovo")
    muni = muni.where(~unknown_m, muni_raw.astype(object))
    region_raw = chk.text("region")
    region, candidates_r = place_names(region_raw, "region", chk.values.get("region"))
    unknown_r = region_raw.notna() & region.isna()
    _warn_unknown_names(chk, region_raw, unknown_r, candidates_r, "region", "a police regional directorate (DRP)")
    derived = _lookup(muni, lambda m: places.region_of(m) if places.match_municipality(m) == m else None)
    mismatch = region.notna() & derived.notna() & (region != derived) & pd.Series(~chk.rejected, index=muni.index)
    for i in np.flatnonzero(mismatch.to_numpy()):
        chk.problem(
            "region_mismatch",
            i,
            "region",
            region.iloc[i],
            derived.iloc[i],
            f"region {region.iloc[i]!r} differs from {derived.iloc[i]!r}, the region of {muni.iloc[i]}; "
            f"the file's region is kept.",
        )
    region = region.where(region.notna(), derived).where(~unknown_r, region_raw.astype(object))

    population = chk.number("population", integer=True, lo=0)
    population = _municipal_population(chk, names, muni, population)
    officers_public = chk.boolean("officers_public", default=False)
    station = chk.text("station")
    officers = _lists(chk.cells("officers"))
    villages = _lists(chk.cells("villages"))

    if len(report.errors) > errors_before:
        _count_sections(report, chk, repaired, failed=True)
        raise LoadError(raw.file)

    keep = chk.accepted()
    if not keep.any():
        chk.problem(
            "no_sections",
            None,
            None,
            None,
            "at least one usable section",
            f"none of its {chk.n:,} sections can be used (see the problems of each row), so nothing can be "
            f"joined to them.",
        )
        _count_sections(report, chk, repaired, failed=True)
        raise LoadError(raw.file)
    out = gpd.GeoDataFrame(
        {
            "section_id": ids.astype(SECTION_ID_DTYPE),  # the one conversion: fixed from here on
            "section_name": names,
            "municipality": muni.astype("string"),
            "municipality_raw": muni_raw,
            "region": region.astype("string"),
            "station": station,
            "population": population.astype("Int64"),
            "officers": officers,
            "officers_public": officers_public,
            "villages": villages,
            "row": np.arange(1, chk.n + 1),
        },
        geometry=gpd.GeoSeries(values_g, crs=WGS84),
        crs=WGS84,
    )[keep].reset_index(drop=True)
    _count_sections(report, chk, repaired)
    if len(out):
        check_coverage(out, report, raw.file)
    return out


def _municipal_population(chk: TableCheck, names: pd.Series, muni: pd.Series, population: pd.Series) -> pd.Series:
    """Residents of sections that are whole municipalities and have none in the file: the census 2024 figure.

    A section is a whole municipality when its name is a spelling of its (matched) municipality and it is
    that municipality's only section in the file (municipal boundaries from geoBoundaries or OSM). One
    warning says which sections took the reference figure.
    """
    live = pd.Series(chk.accepted(), index=muni.index)
    known = muni.map(lambda m: places.match_municipality(m) == m if isinstance(m, str) else False).astype(bool)
    counts = muni[live & known].value_counts()
    whole = pd.Series(
        [
            bool(k) and counts.get(m, 0) == 1 and places.names_the_municipality(n, m)
            for n, m, k in zip(names, muni, known, strict=True)
        ],
        index=muni.index,
    )
    fill = whole & live & population.isna()
    if not fill.any():
        return population
    reference = {m.name: m.population for m in places.municipalities()}
    rows = [int(i) + 1 for i in np.flatnonzero(fill.to_numpy())]
    shown = ", ".join(map(str, rows[:20])) + (" …" if len(rows) > 20 else "")
    chk.report.add(
        "population_from_reference",
        chk.input,
        chk.file,
        f"{chk.file}: {len(rows)} sections without population are whole municipalities (named like their "
        f"municipality, one section each; rows {shown}); they take the municipality's census 2024 population.",
        row=rows[0],
        field="population",
        expected="residents per section",
    )
    return population.where(~fill, muni.map(reference).astype("float64"))


def _count_sections(report: Report, chk: TableCheck, repaired: np.ndarray, failed: bool = False) -> None:
    """Counts for the sections; ``failed``: the file has errors and none of its sections is used."""
    keep = chk.accepted() & (not failed)
    report.set_counts(
        "sections",
        loaded=chk.n,
        accepted=int(keep.sum()),
        rejected=int((~keep).sum()),
        repaired=int((repaired & keep).sum()),
    )


def _polygonal(g):
    """The polygonal part of a geometry (``make_valid`` can return collections)."""
    if g is None:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return None
        return shapely.union_all(polys)
    return None


def place_names(
    raw: pd.Series, kind: str, mapping: dict[str, str] | None = None
) -> tuple[pd.Series, dict[str, tuple[str, ...]]]:
    """Canonical municipality or region names for a column of place names, and what each name could mean.

    ``kind`` is ``municipality`` or ``region``. ``mapping`` is the user's ``{their name: a known name}``
    (``--value sections.municipality=FROM:TO``; ``TO`` any spelling :mod:`geo.places` knows), tried
    first. Returns ``(names, candidates)``: ``names`` an object Series with ``None`` where the name matches
    no place or could mean several; ``candidates`` maps each distinct name to the places it could mean
    (empty for an unknown name).
    """
    find = places.municipality_candidates if kind == "municipality" else places.region_candidates
    mapped = {places.normalize(k): v for k, v in (mapping or {}).items()}

    def candidates(name: str) -> tuple[str, ...]:
        target = mapped.get(places.normalize(name))
        if target is not None and len(find(target)) == 1:
            return find(target)
        return find(name)

    found = {u: candidates(str(u)) for u in pd.unique(raw.dropna())}
    names = pd.Series(
        [None if _isna(x) or len(found[x]) != 1 else found[x][0] for x in raw], index=raw.index, dtype=object
    )
    return names, found


#: A column holds place names when at least this share of its distinct values is a known place.
PLACE_COLUMN_SHARE = 0.5


def place_share(values: pd.Series, kind: str) -> float:
    """The share of the distinct non-empty values of a column that name a known municipality or region
    (ambiguous names count: they are places, only which one is to be asked)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return 0.0
    distinct = [str(v) for v in pd.unique(values.dropna()) if str(v).strip()]
    if not distinct:
        return 0.0
    find = places.municipality_candidates if kind == "municipality" else places.region_candidates
    return sum(1 for v in distinct[:1000] if find(v)) / len(distinct[:1000])


def place_column(frame: pd.DataFrame, kind: str) -> str | None:
    """The column of ``frame`` whose values are most often ``kind`` names (municipality or region), or ``None``
    when no column reaches :data:`PLACE_COLUMN_SHARE`."""
    best, best_share = None, PLACE_COLUMN_SHARE
    for col in frame.columns:
        if col == getattr(frame, "_geometry_column_name", None):
            continue
        share = place_share(frame[col], kind)
        if share >= best_share and (best is None or share > best_share):
            best, best_share = str(col), share
    return best


def _warn_unknown_names(
    chk: TableCheck,
    raw: pd.Series,
    mask: pd.Series,
    candidates: dict[str, tuple[str, ...]],
    field: str,
    what: str,
) -> None:
    """One warning per distinct unmatched name: ``unknown_name``, or ``ambiguous_name`` listing what it could mean."""
    mask = mask & pd.Series(chk.accepted(), index=raw.index)
    if not mask.any():
        return
    vals = raw[mask]
    kind = chk.spec.field(field).place
    for name, idx in vals.groupby(vals, sort=True).groups.items():
        rows = [int(i) + 1 for i in idx]
        shown = ", ".join(map(str, rows[:20])) + (" …" if len(rows) > 20 else "")
        n_rows = f"{len(rows)} row{'s' if len(rows) > 1 else ''}: {shown}"
        kept = "kept as written" + (", so no region is derived from it" if field == "municipality" else "")
        meant = candidates.get(name, ())
        if len(meant) > 1:
            code, expected = "ambiguous_name", " or ".join(meant)
            message = (
                f"{chk.file}: {field} {shorten(name)!r} could be {' or '.join(meant)} ({n_rows}); {kept}. Say which "
                f"one on the Data page or with --value {chk.input}.{field}={shorten(name, 60)}:NAME"
            )
        else:
            code, expected = "unknown_name", what
            message = (
                f"{chk.file}: {field} {shorten(name)!r} is not {what} ({n_rows}); {kept}. Map it onto a known {kind} "
                f"on the Data page or with --value {chk.input}.{field}={shorten(name, 60)}:NAME"
            )
        chk.report.add(code, chk.input, chk.file, message, row=rows[0], field=field, value=str(name), expected=expected)


def check_coverage(
    sections: gpd.GeoDataFrame, report: Report, file: str, tolerance_m2: float = AREA_TOLERANCE_M2
) -> None:
    """Report overlaps between sections and gaps (holes enclosed by sections), with areas in m² (EPSG:9141)."""
    metric = np.asarray(sections.geometry.to_crs(METRIC_CRS).values, dtype=object)
    # a valid coverage (neighbours share exact edges, no interiors overlap) has no overlaps to look for,
    # and its union is much quicker to form; anything else takes the general way
    coverage = bool(shapely.coverage_is_valid(metric))
    left = right = np.zeros(0, dtype=np.int64)
    if not coverage:
        tree = shapely.STRtree(metric)
        # "intersects", not "overlaps": a section inside (or equal to) another overlaps it too;
        # neighbours sharing an edge intersect with zero area and are dropped by the tolerance
        left, right = tree.query(metric, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        # only pairs whose interiors meet can overlap by an area (cheaper than intersecting every pair)
        inner = shapely.relate_pattern(metric[left], metric[right], "T********")
        left, right = left[inner], right[inner]
    if len(left):
        inter = shapely.intersection(metric[left], metric[right])
        areas = shapely.area(inter)
        for a, b, area in zip(left, right, areas):
            if area > tolerance_m2:
                ida, idb = sections["section_id"].iloc[a], sections["section_id"].iloc[b]
                report.add(
                    "overlap",
                    "sections",
                    file,
                    f"{file}: sections {ida!r} (row {sections['row'].iloc[a]}) and {idb!r} "
                    f"(row {sections['row'].iloc[b]}) overlap by {area:,.0f} m²; points inside the "
                    f"overlap go to the section with the smaller id.",
                    row=int(sections["row"].iloc[b]),
                    field="geometry",
                    value=f"{ida}|{idb}",
                    expected="sections that do not overlap",
                )
    union = shapely.coverage_union_all(metric) if coverage else shapely.union_all(metric)
    holes = []
    for poly in shapely.get_parts(union):
        holes.extend(shapely.get_interior_ring(poly, i) for i in range(shapely.get_num_interior_rings(poly)))
    for ring in holes:
        hole = shapely.Polygon(ring)
        area = hole.area
        if area > tolerance_m2:
            c = gpd.GeoSeries([hole.representative_point()], crs=METRIC_CRS).to_crs(WGS84).iloc[0]
            report.add(
                "gap",
                "sections",
                file,
                f"{file}: a gap of {area:,.0f} m² between sections near lat {c.y:.5f}, lon {c.x:.5f}; "
                f"points there count as outside every section.",
                field="geometry",
                value=f"{c.y:.5f},{c.x:.5f}",
                expected="sections without gaps",
            )


# ---------------------------------------------------------------- locations (incidents, concerns)


def locate(
    chk: TableCheck, raw: RawTable, crs: str | None, sections: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """WGS84 ``lon, lat`` arrays (NaN where absent) and ``section_id`` per row.

    Coordinates come from point geometry, ``lat``/``lon`` or ``x``/``y`` (in
    ``crs``); a row without any is located by ``section_id`` or rejected.
    Coordinates given latitude-first are recognised against the sections'
    extent, swapped back and reported.
    """
    input, file, n = chk.input, chk.file, chk.n
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if raw.geometry is not None and not (chk.has("lat") or chk.has("x")):
        bad_geometry = np.zeros(n, dtype=bool)
        bad_geometry[list(raw.bad_geometry)] = True
        reasons = pd.Series([raw.bad_geometry.get(i) for i in range(n)], dtype=object)
        chk.reject(
            bad_geometry, "bad_geometry", "geometry", "a point with finite coordinates", "cannot be used", reasons
        )
        check_declared_crs(raw, input, crs, chk.report)
        g = raw.geometry.values
        is_point = np.asarray(shapely.get_type_id(g) == 0) & ~shapely.is_empty(g)
        x = np.where(is_point, shapely.get_x(g), np.nan)
        y = np.where(is_point, shapely.get_y(g), np.nan)
        bounds = (np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)) if is_point.any() else None
        src = resolve_crs(input, file, raw.crs, crs, bounds, chk.report) if is_point.any() else CRS.from_epsg(4326)
        lon, lat = _to_wgs84(x, y, src)
        fields = ("geometry", "geometry")
    elif chk.has("lat") and chk.has("lon"):
        lat = chk.number("lat").to_numpy(dtype=float)
        lon = chk.number("lon").to_numpy(dtype=float)
        fields = ("lat", "lon")
    elif chk.has("x") and chk.has("y"):
        x = chk.number("x").to_numpy(dtype=float)
        y = chk.number("y").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        bounds = (x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()) if ok.any() else None
        src = resolve_crs(input, file, None, crs, bounds, chk.report) if ok.any() else CRS.from_epsg(4326)
        lon, lat = _to_wgs84(x, y, src)
        fields = ("x", "y")
    elif not chk.has("section_id"):
        chk.report.add(
            "missing_location_columns",
            input,
            file,
            f"{file}: no location columns; give lat and lon, x and y (with --crs), or section_id. "
            f"The file has {list(raw.frame.columns)}.",
            field="lat",
            expected="lat+lon, x+y or section_id",
        )
        raise LoadError(file)
    else:
        fields = ("lat", "lon")

    section_id = _as_text(chk.cells("section_id"))
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    # impossible coordinates
    bad = has_xy & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if bad.any():
        vals = pd.Series([f"{a}, {b}" for a, b in zip(lat, lon)])
        chk.reject(
            bad,
            "bad_coordinates",
            fields[0],
            "latitude −90…90, longitude −180…180",
            "is not a position on Earth",
            values=vals,
        )
        has_xy &= ~bad
    # swapped latitude/longitude, judged against the sections' extent
    if sections is not None and len(sections) and has_xy.any():
        xmin, ymin, xmax, ymax = sections.total_bounds
        near = NEAR_DEGREES

        def inside(x, y):
            return (x >= xmin - near) & (x <= xmax + near) & (y >= ymin - near) & (y <= ymax + near)

        swapped = has_xy & ~inside(lon, lat) & inside(lat, lon) & ~chk.rejected
        if swapped.any():
            share = swapped.sum() / max(has_xy.sum(), 1)
            if share > 0.5:
                chk.problem(
                    "swapped_coordinates",
                    None,
                    fields[0],
                    None,
                    "latitude in lat, longitude in lon",
                    f"latitude and longitude are the wrong way round in {int(swapped.sum())} of "
                    f"{int(has_xy.sum())} rows (the columns look exchanged); they were swapped back.",
                )
            else:
                for i in np.flatnonzero(swapped):
                    chk.problem(
                        "swapped_coordinates",
                        i,
                        fields[0],
                        f"{lat[i]}, {lon[i]}",
                        "latitude in lat, longitude in lon",
                        f"latitude {lat[i]} and longitude {lon[i]} are the wrong way round; swapped back.",
                    )
            lat2 = np.where(swapped, lon, lat)
            lon = np.where(swapped, lat, lon)
            lat = lat2
    no_location = ~has_xy & section_id.isna().to_numpy() & ~chk.rejected
    for i in np.flatnonzero(no_location):
        chk.problem(
            "missing_location",
            i,
            fields[0],
            None,
            "coordinates or a section_id",
            "the row has no coordinates and no section_id; the row is not used.",
        )
    chk.rejected |= no_location
    lon = np.where(has_xy, lon, np.nan)
    lat = np.where(has_xy, lat, np.nan)
    # section_id only where the row has no coordinates: coordinates decide otherwise
    section_id = section_id.where(~pd.Series(has_xy, index=section_id.index))
    if sections is not None:
        known = section_id.isin(set(sections["section_id"])) | section_id.isna()
        chk.reject(
            ~known.to_numpy(), "unknown_section", "section_id", "the id of a loaded section", "is not a loaded section"
        )
    return lon, lat, section_id


def _to_wgs84(x: np.ndarray, y: np.ndarray, src: CRS) -> tuple[np.ndarray, np.ndarray]:
    if src.equals(CRS.from_epsg(4326)):
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    t = Transformer.from_crs(src, CRS.from_epsg(4326), always_xy=True)
    lon, lat = t.transform(x, y)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    bad = ~np.isfinite(lon) | ~np.isfinite(lat)
    lon[bad] = np.nan
    lat[bad] = np.nan
    return lon, lat


def _kept(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` in ``keep``, numbered from 0 (no copy when every row is kept)."""
    if keep.all():
        return frame.reset_index(drop=True)
    return frame[keep].reset_index(drop=True)


def _row_ids(file: str, n: int) -> pd.Series:
    """``file:1``, ``file:2`` … (ids for records that have none), as pandas ``string``."""
    numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.large_string())
    ids = pc.binary_join_element_wise(
        pa.scalar(f"{file}:", pa.large_string()), numbers, pa.scalar("", pa.large_string())
    )
    return pd.Series(pd.array(ids, dtype="string"))


def validate_incidents(
    raw: RawTable,
    report: Report,
    sections: gpd.GeoDataFrame | None,
    columns=None,
    values=None,
    crs: str | None = None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """Typed incidents (not yet joined): ``incident_id, occurred_at, category, category_raw, count, lon, lat,
    section_id, row, id_generated`` (``id_generated``: the file gave no id, ``incident_id`` is ``file:row``)."""
    chk = TableCheck("incidents", raw, report, columns, values, rules)
    occurred = chk.date("occurred_at", keep_time=True)
    category_raw = _as_text(chk.cells("category"))
    category = chk.category("category", unknown="keep")
    count = chk.number("count", integer=True, lo=0)
    lon, lat, section_id = locate(chk, raw, crs, sections)
    if not chk.has("incident_id"):
        ids = _row_ids(raw.file, chk.n)
        generated = np.ones(chk.n, dtype=bool)
    else:
        ids = _as_text(chk.cells("incident_id"))
        missing = ids.isna()
        generated = missing.to_numpy(dtype=bool)
        if missing.any():
            ids = ids.where(~missing, _row_ids(raw.file, chk.n))
        _check_duplicates(chk, ids, "incident_id", severity_error=False)
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "incident_id": ids,
            "occurred_at": occurred,
            "category": category.astype("category"),
            "category_raw": category_raw,
            "count": count.fillna(1).astype("int64"),
            "lon": lon,
            "lat": lat,
            "section_id": section_id,
            "row": np.arange(1, chk.n + 1),
            "id_generated": generated,
        }
    )
    return _kept(out, keep), chk.n


def validate_concerns(
    raw: RawTable,
    report: Report,
    sections: gpd.GeoDataFrame | None,
    columns=None,
    values=None,
    crs: str | None = None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """Typed concerns (not yet joined), contract columns plus ``lon, lat, section_id, row``."""
    chk = TableCheck("concerns", raw, report, columns, values, rules)
    ids = chk.text("concern_id")
    raised = chk.date("raised_on", keep_time=False)
    category = chk.category("category", unknown="keep")
    source = chk.category("source", unknown="missing")
    status = chk.category("status", unknown="missing")
    resolved = chk.date("resolved_on", keep_time=False)
    public = chk.boolean("description_public", default=False)
    lon, lat, section_id = locate(chk, raw, crs, sections)
    _check_duplicates(chk, ids, "concern_id", severity_error=False)
    before = resolved.notna() & raised.notna() & (resolved < raised)
    chk.warn_rows(
        before,
        "resolved_before_raised",
        "resolved_on",
        "a date on or after raised_on",
        "is before the date the concern was raised",
    )
    status = status.fillna("open").where(chk.has("status") | status.notna(), "open")
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "concern_id": ids,
            "raised_on": raised,
            "category": category.astype("category"),
            "description": chk.text("description", required=False),
            "description_public": public,
            "source": source,
            "meeting_id": chk.text("meeting_id", required=False),
            "status": status,
            "resolved_on": resolved,
            "action_taken": chk.text("action_taken", required=False),
            "lon": lon,
            "lat": lat,
            "section_id": section_id,
            "row": np.arange(1, chk.n + 1),
        }
    )
    return _kept(out, keep), chk.n


# ---------------------------------------------------------------- committees, meetings, surveys


def validate_committees(
    raw: RawTable, report: Report, sections: gpd.GeoDataFrame, columns=None, values=None, rules: RowRules | None = None
) -> tuple[pd.DataFrame, int]:
    """Committees matched to known municipalities; unknown section ids are dropped from their lists and reported."""
    chk = TableCheck("committees", raw, report, columns, values, rules)
    ids = chk.text("committee_id")
    ctype = chk.category("type", unknown="reject")
    name = chk.text("name")
    muni_raw = chk.text("municipality")
    muni, meant = place_names(muni_raw, "municipality", chk.values.get("municipality"))
    known_munis = set(sections["municipality"])
    muni = muni.where(muni.notna(), muni_raw.astype(object).where(muni_raw.isin(known_munis)))
    ambiguous = muni_raw.notna() & muni.isna() & muni_raw.map(lambda n: len(meant.get(n, ())) > 1, na_action="ignore")
    ambiguous = ambiguous.fillna(False).astype(bool)
    for name in sorted(set(muni_raw[ambiguous & pd.Series(chk.accepted(), index=muni_raw.index)])):
        chk.reject(
            (ambiguous & (muni_raw == name)).fillna(False).to_numpy(),
            "ambiguous_name",
            "municipality",
            " or ".join(meant[name]),
            f"could be {' or '.join(meant[name])}; say which with --value committees.municipality={name}:NAME",
        )
    chk.reject(
        (muni_raw.notna() & muni.isna()).to_numpy(),
        "unknown_name",
        "municipality",
        "a municipality of Kosovo or of the loaded sections",
        "is not a known municipality",
    )
    established = chk.date("established_on", keep_time=False)
    active = chk.boolean("active", default=True)
    members = chk.number("members", integer=True, lo=0)
    _check_duplicates(chk, ids, "committee_id", severity_error=False)
    known = set(sections["section_id"])
    lists = _lists(chk.cells("sections"))
    clean = []
    for i, ids_here in enumerate(lists):
        unknown = [s for s in ids_here if s not in known]
        if unknown and not chk.rejected[i]:
            chk.problem(
                "unknown_section",
                i,
                "sections",
                LIST_SEPARATOR.join(unknown),
                "ids of loaded sections",
                f"section ids {unknown} are not loaded sections; the committee is kept without them.",
            )
        clean.append([s for s in ids_here if s in known])
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "committee_id": ids,
            "type": ctype,
            "name": name,
            "municipality": muni.astype("string"),
            "sections": clean,
            "established_on": established,
            "active": active,
            "members": members.astype("Int64"),
            "row": np.arange(1, chk.n + 1),
        }
    )
    return _kept(out, keep), chk.n


def validate_meetings(
    raw: RawTable,
    report: Report,
    committees: pd.DataFrame | None,
    columns=None,
    values=None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """Meetings of known committees."""
    chk = TableCheck("meetings", raw, report, columns, values, rules)
    ids = chk.text("meeting_id")
    committee = chk.text("committee_id")
    held = chk.date("held_on", keep_time=False)
    attendance = chk.number("attendance", integer=True, lo=0)
    raised = chk.number("concerns_raised", integer=True, lo=0)
    known = set(committees["committee_id"]) if committees is not None else set()
    chk.reject(
        (committee.notna() & ~committee.isin(known)).to_numpy(),
        "unknown_committee",
        "committee_id",
        "the id of a loaded committee",
        "is not a loaded committee",
    )
    _check_duplicates(chk, ids, "meeting_id", severity_error=False)
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "meeting_id": ids,
            "committee_id": committee,
            "held_on": held,
            "attendance": attendance.astype("Int64"),
            "concerns_raised": raised.astype("Int64"),
            "row": np.arange(1, chk.n + 1),
        }
    )
    return _kept(out, keep), chk.n


def _reject_unknown(chk: TableCheck, ids: pd.Series, known: set[str] | None, field: str, what: str) -> None:
    """Reject rows whose ``field`` names no known record (``known`` ``None``: not checked)."""
    if known is None:
        return
    chk.reject(
        (ids.notna() & ~ids.isin(known)).to_numpy(),
        f"unknown_{what}",
        field,
        f"the id of a stored {what}",
        f"is not a stored {what}",
    )


def validate_actions(
    raw: RawTable,
    report: Report,
    concerns: set[str] | None = None,
    meetings: set[str] | None = None,
    columns=None,
    values=None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """Actions agreed at meetings, each linked to a known concern (and meeting, when given). ``concerns`` and
    ``meetings``: the known ids (``None``: not checked). A due date may lie in the future."""
    chk = TableCheck("actions", raw, report, columns, values, rules)
    ids = chk.text("action_id")
    concern = chk.text("concern_id")
    meeting = chk.text("meeting_id")
    what = chk.text("what")
    owner = chk.category("owner", unknown="reject")
    past = chk.rules
    chk.rules = dataclasses.replace(past, date_max=None)  # a due date may lie in the future
    due = chk.date("due_on", keep_time=False)
    chk.rules = past
    done = chk.date("done_on", keep_time=False)
    _reject_unknown(chk, concern, concerns, "concern_id", "concern")
    _reject_unknown(chk, meeting, meetings, "meeting_id", "meeting")
    _check_duplicates(chk, ids, "action_id", severity_error=False)
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "action_id": ids,
            "concern_id": concern,
            "meeting_id": meeting,
            "what": what,
            "owner": owner,
            "due_on": due,
            "done_on": done,
            "row": np.arange(1, chk.n + 1),
        }
    )
    return _kept(out, keep), chk.n


def validate_attendance(
    raw: RawTable,
    report: Report,
    meetings: set[str] | None = None,
    columns=None,
    values=None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """Attendance of known meetings: the total and the optional counts by group
    (:data:`geo.schema.ATTENDANCE_GROUPS`), none larger than the total."""
    chk = TableCheck("attendance", raw, report, columns, values, rules)
    ids = chk.text("meeting_id")
    total = chk.number("total", integer=True, lo=0)
    groups = {g: chk.number(g, integer=True, lo=0) for g in ATTENDANCE_GROUPS}
    for g, n in groups.items():
        chk.reject(
            (n.notna() & total.notna() & (n > total)).to_numpy(dtype=bool),
            "out_of_range",
            g,
            "at most the total",
            "is larger than the total",
        )
    _reject_unknown(chk, ids, meetings, "meeting_id", "meeting")
    _check_duplicates(chk, ids, "meeting_id", severity_error=False)
    keep = chk.accepted()
    data = {"meeting_id": ids, "total": total.astype("Int64")}
    data |= {g: n.astype("Int64") for g, n in groups.items()}
    out = pd.DataFrame(data | {"row": np.arange(1, chk.n + 1)})
    return _kept(out, keep), chk.n


def validate_events(
    raw: RawTable,
    report: Report,
    columns=None,
    values=None,
    rules: RowRules | None = None,
) -> tuple[pd.DataFrame, int]:
    """The history of changes, as ``db export`` writes it (``before``/``after`` JSON objects or empty)."""
    chk = TableCheck("events", raw, report, columns, values, rules)
    ids = chk.text("event_id")
    at = chk.date("at", keep_time=True)
    actor = chk.text("actor")
    kind = chk.category("record_kind", unknown="reject")
    record = chk.text("record_id")
    change = chk.category("change", unknown="reject")
    texts = {name: chk.text(name) for name in ("before", "after")}
    for name, values_ in texts.items():

        def bad(v) -> bool:
            try:
                return not isinstance(json.loads(v), dict)
            except ValueError:
                return True

        wrong = values_.notna() & values_.map(lambda v: bad(v) if isinstance(v, str) else False).astype(bool)
        chk.reject(wrong.to_numpy(dtype=bool), "bad_value", name, "a JSON object", "is not a JSON object")
    _check_duplicates(chk, ids, "event_id", severity_error=False)
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "event_id": ids,
            "at": at,
            "actor": actor,
            "record_kind": kind,
            "record_id": record,
            "change": change,
            "before": texts["before"],
            "after": texts["after"],
            "row": np.arange(1, chk.n + 1),
        }
    )
    return _kept(out, keep), chk.n


_PERIOD = re.compile(r"^\s*(?P<year>\d{4})(?:\s*[-/ ]?\s*[QqTtKk](?P<q>[1-4]))?\s*$")
_PERIOD_Q_FIRST = re.compile(r"^\s*[QqTtKk](?P<q>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})\s*$")


def parse_period(value: object) -> tuple[str, pd.Timestamp, pd.Timestamp] | None:
    """``("2024", start, end)`` or ``("2024-Q1", start, end)`` for a year or year-quarter; ``None`` if neither.

    Accepts 2024, 2024.0, 2024-Q1, 2024Q1, 2024 Q1, Q1 2024 (T/K for the quarter letter in sq/sr too).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    if re.fullmatch(r"\d{4}\.0", text):
        text = text[:4]
    m = _PERIOD.match(text) or _PERIOD_Q_FIRST.match(text)
    if not m:
        return None
    year = int(m.group("year"))
    if not 1990 <= year <= 2100:
        return None
    q = m.group("q")
    if q is None:
        return str(year), pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    qi = int(q)
    start = pd.Timestamp(year, 3 * qi - 2, 1)
    end = (start + pd.offsets.QuarterEnd(0)).normalize()
    return f"{year}-Q{qi}", start, end


def validate_surveys(
    raw: RawTable, report: Report, columns=None, values=None, rules: RowRules | None = None
) -> tuple[pd.DataFrame, int]:
    """Survey results matched to a municipality or a region."""
    chk = TableCheck("surveys", raw, report, columns, values, rules)
    area = chk.text("area")
    period_raw = chk.cells("period")
    parsed = period_raw.map(parse_period)
    chk.reject(
        (parsed.isna() & _as_text(period_raw.astype("string")).notna()).to_numpy(),
        "bad_period",
        "period",
        "a year (2024) or a year-quarter (2024-Q1)",
        "is not a year or a year-quarter",
    )
    chk.reject(
        _as_text(period_raw.astype("string")).isna().to_numpy(),
        "missing_value",
        "period",
        "a value for period",
        "is empty",
    )
    trust = chk.number("trust_pct", lo=0, hi=100)
    satisfaction = chk.number("satisfaction_pct", lo=0, hi=100)
    respondents = chk.number("respondents", integer=True, lo=0)
    muni = _lookup(area, places.match_municipality)
    region = _lookup(area, places.match_region)
    kind = pd.Series(np.where(muni.notna(), "municipality", np.where(region.notna(), "region", None)), index=area.index)
    meant = _lookup(area, lambda a: places.municipality_candidates(a) or places.region_candidates(a))
    for name in sorted({a for a, m in zip(area, meant, strict=True) if m is not None and len(m) > 1}):
        chk.reject(
            (kind.isna() & (area == name)).fillna(False).to_numpy(),
            "ambiguous_name",
            "area",
            " or ".join(meant[area == name].iloc[0]),
            f"could be {' or '.join(meant[area == name].iloc[0])}; write the municipality or region in full",
        )
    chk.reject(
        (area.notna() & kind.isna()).to_numpy(),
        "unknown_name",
        "area",
        "a municipality or a police region (DRP) of Kosovo",
        "is not a known municipality or region",
    )
    keep = chk.accepted()
    out = pd.DataFrame(
        {
            "area": area,
            "area_kind": kind,
            "area_name": muni.where(muni.notna(), region),
            "period": parsed.map(lambda p: p[0] if p else None),
            "period_start": parsed.map(lambda p: p[1] if p else pd.NaT),
            "period_end": parsed.map(lambda p: p[2] if p else pd.NaT),
            "trust_pct": trust,
            "satisfaction_pct": satisfaction,
            "respondents": respondents.astype("Int64"),
            "row": np.arange(1, chk.n + 1),
        }
    )
    out = out[keep].reset_index(drop=True)
    out["period_start"] = pd.to_datetime(out["period_start"])
    out["period_end"] = pd.to_datetime(out["period_end"])
    return out, chk.n
