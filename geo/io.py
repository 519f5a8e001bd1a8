"""Read users' files as they really come: any of the usual formats, CSV dialects and encodings.

Readers return a :class:`RawTable`: the file's own columns untouched (CSV
cells as text) plus the geometry and declared CRS where the format has them.
Turning text into typed, contract-named columns is :mod:`geo.validation`'s job.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.report import Report
from geo.schema import BOUNDARY_FORMATS, TABLE_FORMATS

#: Encodings tried, in order, when a CSV is not valid UTF-8.
FALLBACK_ENCODINGS = ("cp1250", "cp1252")
#: Letters of Albanian and Serbian (Latin) beyond ASCII: a decoding that yields them is plausible.
_NATIVE_LETTERS = set("ëçčćđšžËÇČĆĐŠŽ")


class LoadError(Exception):
    """A whole file cannot be read; already recorded in the report."""


@dataclass
class RawTable:
    """A file's content before validation."""

    file: str  # the name shown in messages
    frame: pd.DataFrame  # the file's own columns; index 0..n-1 (row = index + 1)
    geometry: gpd.GeoSeries | None = None  # for spatial formats
    crs: object = None  # the declared CRS (pyproj CRS) or None
    encoding: str | None = None


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".shp.zip"):
        return ".zip"
    return path.suffix.lower()


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """Guess a CSV's encoding: ``(codec, guessed)``.

    UTF-8 (with or without BOM) when the bytes decode as UTF-8; otherwise the
    Windows code page (1250 Central European or 1252 Western) whose decoding
    yields the most Albanian/Serbian letters. ``guessed`` is true in that case.
    """
    try:
        data.decode("utf-8")
        return ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"), False
    except UnicodeDecodeError:
        pass
    best, best_score = FALLBACK_ENCODINGS[0], -1
    for enc in FALLBACK_ENCODINGS:
        text = data.decode(enc, errors="replace")
        score = sum(ch in _NATIVE_LETTERS for ch in text) - 3 * text.count("\ufffd")
        if score > best_score:
            best, best_score = enc, score
    return best, True


def detect_delimiter(header: str) -> str:
    """The delimiter of a CSV from its header line: ``;``, ``,``, tab or ``|``."""
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, input: str, report: Report, encoding: str | None = None) -> RawTable:
    """Read a CSV with every cell as text; detect encoding and delimiter."""
    file = path.name
    data = path.read_bytes()
    if encoding:
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            report.add(
                "unreadable_file",
                input,
                file,
                f"cannot decode {file} as {encoding}: {exc}",
                field=None,
                value=encoding,
                expected="the file's real encoding, e.g. utf-8, cp1250",
            )
            raise LoadError(file) from exc
        enc = encoding
    else:
        enc, guessed = detect_encoding(data)
        text = data.decode(enc)
        if guessed:
            report.add(
                "encoding_guessed",
                input,
                file,
                f"{file} is not UTF-8; read it as {enc}. If letters such as ë, č or š look wrong, "
                f"give the encoding (--encoding {input}=cp1252 or cp1250) or save the file as UTF-8.",
                value=enc,
                expected="utf-8",
            )
    text = text.removeprefix("\ufeff")
    if not text.strip():
        report.add("empty_file", input, file, f"{file} is empty")
        raise LoadError(file)
    header = text.split("\n", 1)[0]
    delim = detect_delimiter(header)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        report.add("unreadable_file", input, file, f"{file} is not a readable CSV: {exc}")
        raise LoadError(file) from exc
    if not isinstance(frame.index, pd.RangeIndex):
        # every row has more fields than the header: pandas would take the leading fields as an
        # index and shift the rest under the wrong column names
        report.add(
            "unreadable_file",
            input,
            file,
            f"the rows of {file} have more fields than its header ({len(frame.columns)} columns separated by "
            f'{delim!r}). A decimal comma in a comma-separated file? Quote such numbers ("42,66") or separate '
            f"the columns with ';'. A separator at the end of every row? Remove it.",
            expected=f"{len(frame.columns)} fields per row",
        )
        raise LoadError(file)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    return RawTable(file, frame, encoding=enc)


def _read_spatial(path: Path, input: str, report: Report) -> RawTable:
    file = path.name
    suffix = suffix_of(path)
    try:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except (ValueError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        report.add("unreadable_file", input, file, f"cannot read {file}: {exc}")
        raise LoadError(file) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        # a layer without geometry (e.g. an attribute-only GeoPackage table) reads as a plain DataFrame
        return RawTable(file, pd.DataFrame(gdf).reset_index(drop=True))
    geometry = gdf.geometry.reset_index(drop=True)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    return RawTable(file, frame, geometry=geometry, crs=gdf.crs)


def read_boundaries(path: Path, input: str, report: Report) -> RawTable:
    """Read a boundary file: GeoJSON, GeoPackage, (zipped) Shapefile or GeoParquet."""
    path = Path(path)
    if not path.exists():
        report.add("unreadable_file", input, path.name, f"file not found: {path}")
        raise LoadError(path.name)
    suffix = suffix_of(path)
    if suffix not in BOUNDARY_FORMATS:
        report.add(
            "unsupported_format",
            input,
            path.name,
            f"{path.name}: boundaries must be one of {', '.join(BOUNDARY_FORMATS)}",
            value=suffix,
            expected=", ".join(BOUNDARY_FORMATS),
        )
        raise LoadError(path.name)
    if path.stat().st_size == 0:
        report.add("empty_file", input, path.name, f"{path.name} is empty")
        raise LoadError(path.name)
    if suffix in (".parquet", ".geoparquet") and not _has_geo_metadata(path):
        report.add(
            "unreadable_file",
            input,
            path.name,
            f"{path.name} is a Parquet file without GeoParquet geometry metadata",
            expected="GeoParquet (geopandas.to_parquet)",
        )
        raise LoadError(path.name)
    raw = _read_spatial(path, input, report)
    if raw.geometry is None:
        report.add("unreadable_file", input, path.name, f"{path.name} has no geometry column")
        raise LoadError(path.name)
    return raw


def _has_geo_metadata(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - any unreadable parquet is reported by the caller
        return False
    return b"geo" in meta


def read_table(path: Path, input: str, report: Report, encoding: str | None = None) -> RawTable:
    """Read a table: CSV (any common dialect), GeoJSON (point features) or Parquet.

    A table without records (a CSV with only a header, a GeoJSON without features) is an ``empty_file`` error.
    """
    path = Path(path)
    if not path.exists():
        report.add("unreadable_file", input, path.name, f"file not found: {path}")
        raise LoadError(path.name)
    suffix = suffix_of(path)
    if suffix not in TABLE_FORMATS:
        report.add(
            "unsupported_format",
            input,
            path.name,
            f"{path.name}: tables must be one of {', '.join(TABLE_FORMATS)}",
            value=suffix,
            expected=", ".join(TABLE_FORMATS),
        )
        raise LoadError(path.name)
    if path.stat().st_size == 0:
        report.add("empty_file", input, path.name, f"{path.name} is empty")
        raise LoadError(path.name)
    if suffix in (".csv", ".txt"):
        raw = read_csv(path, input, report, encoding)
    elif suffix == ".parquet" and not _has_geo_metadata(path):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; all mean "unreadable"
            report.add("unreadable_file", input, path.name, f"cannot read {path.name}: {exc}")
            raise LoadError(path.name) from exc
        raw = RawTable(path.name, frame.reset_index(drop=True))
    else:
        raw = _read_spatial(path, input, report)
    if len(raw.frame) == 0:
        report.add("empty_file", input, path.name, f"{path.name} has no records (at most a header)")
        raise LoadError(path.name)
    return raw
