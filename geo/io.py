"""Read users' files as they really come: any of the usual formats, CSV dialects and encodings.

Readers return a :class:`RawTable`: the file's own columns untouched (CSV
cells as text) plus the geometry and declared CRS where the format has them.
Turning text into typed, contract-named columns is :mod:`geo.validation`'s job.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.report import Report, shorten
from geo.schema import BOUNDARY_FORMATS, TABLE_FORMATS

#: Encodings tried, in order, when a CSV is not valid UTF-8.
FALLBACK_ENCODINGS = ("cp1250", "cp1252")
#: Letters of Albanian and Serbian (Latin) beyond ASCII: a decoding that yields them is plausible.
_NATIVE_LETTERS = set("ëçčćđšžËÇČĆĐŠŽ")
#: Byte-order marks of the UTF-16 and UTF-32 encodings (UTF-32 first: its little-endian mark starts as UTF-16's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Control characters that do not occur in text (C0 but tab, line feed and carriage return; DEL).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A cell that could not be decoded shows this character where each undefined byte was.
REPLACEMENT = "\ufffd"
#: At most this many cells with undefined bytes are reported one by one (then one summary).
MAX_CHARACTER_PROBLEMS = 100


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
    #: column names the file has more than once: name -> 1-based positions; the repeats are renamed ``name.1`` …
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    #: features whose geometry cannot be used (unreadable, NaN or infinite coordinates): index -> reason
    bad_geometry: dict[int, str] = field(default_factory=dict)
    #: a coordinate system the file declares by a name no CRS database knows (GeoJSON ``crs`` member)
    unknown_crs: str | None = None


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
    UTF-16 and UTF-32 are recognised by their byte-order mark.
    """
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return codec, False
    try:
        data.decode("utf-8")
        return ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"), False
    except UnicodeDecodeError:
        pass
    best, best_score = FALLBACK_ENCODINGS[0], -1
    for enc in FALLBACK_ENCODINGS:
        text = data.decode(enc, errors="replace")
        score = sum(ch in _NATIVE_LETTERS for ch in text) - text.count("\ufffd")
        if score > best_score:
            best, best_score = enc, score
    return best, True


def detect_delimiter(header: str) -> str:
    """The delimiter of a CSV from its header line: ``;``, ``,``, tab or ``|``."""
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decode(data: bytes, input: str, file: str, report: Report, encoding: str | None) -> tuple[str, str, bool]:
    """The file's text, its codec, and whether undefined bytes were replaced (:data:`REPLACEMENT`).

    A file with NUL bytes is not text (a spreadsheet or archive named ``.csv``, or UTF-16 without a
    byte-order mark): a ``binary_file`` error. A guessed code page is decoded with replacement, never
    strictly: one stray byte must not make the whole file unreadable. An encoding the user names is
    decoded strictly (bytes it does not define mean the file is not in it: ``unreadable_file``).
    """
    if encoding:
        # the user named the encoding: bytes it does not define mean the file is not in it
        try:
            return data.decode(encoding), encoding, False
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
    else:
        enc, guessed = detect_encoding(data)
        if b"\x00" in data and enc not in ("utf-16", "utf-32"):
            report.add(
                "binary_file",
                input,
                file,
                f"{file} is not a text file (it holds NUL bytes): a spreadsheet, an archive or a file in UTF-16 "
                f"without a byte-order mark saved under a .csv name? Save it as CSV (UTF-8).",
                expected="a CSV text file",
            )
            raise LoadError(file)
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
    try:
        return data.decode(enc), enc, False
    except UnicodeDecodeError:
        text = data.decode(enc, errors="replace")
    junk = text.count(REPLACEMENT) + len(_CONTROL.findall(text))
    if junk > max(100, len(text) // 100):
        report.add(
            "binary_file",
            input,
            file,
            f"{file} is not a text file in {enc}: {junk:,} of its {len(text):,} characters are undefined bytes or "
            f"control characters. Is it a spreadsheet or an archive saved under a .csv name? Save it as CSV (UTF-8).",
            value=enc,
            expected="a CSV text file",
        )
        raise LoadError(file)
    return text, enc, True


def _header_names(text: str, delim: str) -> list[str] | None:
    """The header's cells as written (pandas renames repeated names), or ``None`` when it cannot be split."""
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delim, skipinitialspace=True))
    except (csv.Error, StopIteration):
        return None


def unique_columns(names: list[str]) -> tuple[list[str], dict[str, list[int]]]:
    """``(names, repeats)``: repeated names renamed ``name.1``, ``name.2`` …; ``repeats`` maps each
    repeated name to its 1-based positions."""
    positions: dict[str, list[int]] = {}
    for k, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(k)
    taken = set(names)
    out = list(names)
    for name, where in positions.items():
        for j, k in enumerate(where[1:], start=1):
            new = f"{name}.{j}"
            while new in taken:
                new += "_"
            taken.add(new)
            out[k - 1] = new
    return out, {n: w for n, w in positions.items() if len(w) > 1}


def _report_replacements(frame: pd.DataFrame, input: str, file: str, enc: str, report: Report) -> None:
    """One ``bad_character`` warning per cell (and header) holding a replaced undefined byte; the rows stay."""
    hint = f"give the file's encoding (--encoding {input}=cp1250, cp1252 or utf-8) or save it as UTF-8"
    for name in frame.columns:
        if REPLACEMENT in str(name):
            report.add(
                "bad_character",
                input,
                file,
                f"{file}: the column name {shorten(name)!r} holds a byte that is not a character in {enc} "
                f"(shown as {REPLACEMENT}); {hint}.",
                field=str(name),
                value=str(name),
                expected=f"text in {enc}",
            )
    found = 0
    for name in frame.columns:
        col = frame[name]
        hit = col.astype("string").str.contains(REPLACEMENT, regex=False).fillna(False).to_numpy(dtype=bool)
        for i in np.flatnonzero(hit):
            found += 1
            if found > MAX_CHARACTER_PROBLEMS:
                continue
            report.add(
                "bad_character",
                input,
                file,
                f"{file}, row {i + 1}: {name} {shorten(col.iloc[i])!r} holds a byte that is not a character in "
                f"{enc} (shown as {REPLACEMENT}); the row is kept as it is. To read it right, {hint}.",
                row=int(i) + 1,
                field=str(name),
                value=str(col.iloc[i]),
                expected=f"text in {enc}",
            )
    if found > MAX_CHARACTER_PROBLEMS:
        report.add(
            "bad_character",
            input,
            file,
            f"{file}: {found - MAX_CHARACTER_PROBLEMS:,} more cells hold bytes that are not characters in {enc}; "
            f"{hint}.",
            value=enc,
            expected=f"text in {enc}",
        )


def read_csv(path: Path, input: str, report: Report, encoding: str | None = None) -> RawTable:
    """Read a CSV with every cell as text; detect encoding and delimiter."""
    file = path.name
    data = path.read_bytes()
    text, enc, replaced = _decode(data, input, file, report, encoding)
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
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds; each means "not a readable CSV"
        report.add("unreadable_file", input, file, f"{file} is not a readable CSV: {type(exc).__name__}: {exc}")
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
    written = _header_names(text, delim)
    names = written if written is not None and len(written) == len(frame.columns) else list(frame.columns)
    frame.columns, duplicates = unique_columns([str(c).strip() for c in names])
    frame = frame.reset_index(drop=True)
    if replaced:
        _report_replacements(frame, input, file, enc, report)
    return RawTable(file, frame, encoding=enc, duplicates=duplicates)


def layers_of(path: Path) -> list[str]:
    """The names of the layers in a GeoPackage, zip of Shapefiles or other multi-layer file (``[]`` if unknown)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # noqa: BLE001 - an unreadable file is reported when it is read
        return []


def _choose_layer(path: Path, input: str, report: Report, layer: str | None) -> str | None:
    """The layer to read: the one named (an ``unknown_layer`` error if absent), else the first, saying so."""
    file = path.name
    layers = layers_of(path)
    if layer:
        if layer not in layers:
            report.add(
                "unknown_layer",
                input,
                file,
                f"{file} has no layer {layer!r}; its layers are {', '.join(map(repr, layers)) or 'none'}.",
                value=layer,
                expected=", ".join(layers),
            )
            raise LoadError(file)
        return layer
    if len(layers) > 1:
        skipped = ", ".join(repr(n) for n in layers[1:])
        report.add(
            "several_layers",
            input,
            file,
            f"{file} holds {len(layers)} layers ({', '.join(map(repr, layers))}); the first, {layers[0]!r}, was "
            f"read and {skipped} skipped. Choose another with --layer {input}=NAME.",
            value=layers[0],
            expected="one layer, or the layer named with --layer",
        )
    return layers[0] if layers else None


def _unusable_geometry(geoms: np.ndarray, path: Path, layer: str | None, spatial: bool) -> dict[int, str]:
    """Features whose geometry cannot be used: unreadable (read as missing) or with NaN/infinite coordinates."""
    bad: dict[int, str] = {}
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if len(missing) and spatial:
        # a missing geometry is either none at all or one GEOS refused (an unclosed ring, a ring of two points)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _meta, _fids, wkb, _fields = pyogrio.raw.read(path, layer=layer, columns=[], read_geometry=True)
        except Exception:  # noqa: BLE001 - then the missing geometries are reported as missing
            wkb = None
        if wkb is not None and len(wkb) == len(geoms):
            for i in missing:
                if wkb[i] is None:
                    continue
                try:
                    shapely.from_wkb(wkb[i])
                    reason = "the geometry cannot be read"
                except Exception as exc:  # noqa: BLE001 - GEOS says why
                    reason = str(exc).removeprefix("IllegalArgumentException: ")
                bad[int(i)] = shorten(reason)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    for i in np.unique(index[~np.isfinite(coords).all(axis=1)]):
        bad[int(i)] = "coordinates that are NaN or infinite"
    return bad


def _declared_crs_unknown(path: Path) -> str | None:
    """The name of the CRS a GeoJSON file declares in its ``crs`` member, when no CRS database knows it.

    GDAL silently reads such a file as WGS84; the numbers may be metres in a national grid.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    m = re.search(rb'"crs"\s*:\s*(?=\{)', data)
    if m is None:
        return None
    try:
        member, _end = json.JSONDecoder().raw_decode(data[m.end() : m.end() + 100_000].decode("utf-8", "replace"))
    except ValueError:
        return "(unreadable crs member)"
    if not isinstance(member, dict):
        return None
    props = member.get("properties") if isinstance(member.get("properties"), dict) else {}
    name = props.get("name") or props.get("href") or props.get("code")
    if not isinstance(name, (str, int)) or not str(name).strip():
        return shorten(json.dumps(member, ensure_ascii=False))
    try:
        CRS.from_user_input(str(name))
    except CRSError:
        return shorten(str(name))
    return None


def _read_spatial(path: Path, input: str, report: Report, layer: str | None = None) -> RawTable:
    file = path.name
    suffix = suffix_of(path)
    parquet = suffix in (".parquet", ".geoparquet")
    chosen = None if parquet else _choose_layer(path, input, report, layer)
    try:
        with warnings.catch_warnings():
            # GDAL's own notes (an unclosed ring, several layers) become problems in the report
            warnings.simplefilter("ignore")
            if parquet:
                gdf = gpd.read_parquet(path)
            else:
                gdf = gpd.read_file(path, engine="pyogrio", layer=chosen, on_invalid="ignore")
    except Exception as exc:  # noqa: BLE001 - GDAL, GEOS and pyarrow raise many kinds; all mean "unreadable"
        report.add("unreadable_file", input, file, f"cannot read {file}: {type(exc).__name__}: {exc}")
        raise LoadError(file) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        # a layer without geometry (e.g. an attribute-only GeoPackage table) reads as a plain DataFrame
        frame = pd.DataFrame(gdf).reset_index(drop=True)
        frame.columns, duplicates = unique_columns([str(c).strip() for c in frame.columns])
        return RawTable(file, frame, duplicates=duplicates)
    geometry = gdf.geometry.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = _unusable_geometry(np.asarray(geometry.values, dtype=object), path, chosen, not parquet)
    if bad:
        geometry = geometry.copy()
        geometry.iloc[sorted(bad)] = None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    frame.columns, duplicates = unique_columns([str(c).strip() for c in frame.columns])
    unknown = _declared_crs_unknown(path) if suffix in (".geojson", ".json") else None
    return RawTable(
        file,
        frame,
        geometry=geometry,
        crs=gdf.crs,
        duplicates=duplicates,
        bad_geometry=bad,
        unknown_crs=unknown,
    )


def read_boundaries(path: Path, input: str, report: Report, layer: str | None = None) -> RawTable:
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
    raw = _read_spatial(path, input, report, layer)
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


def read_table(
    path: Path, input: str, report: Report, encoding: str | None = None, layer: str | None = None
) -> RawTable:
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
        frame = frame.reset_index(drop=True)
        frame.columns, duplicates = unique_columns([str(c).strip() for c in frame.columns])
        raw = RawTable(path.name, frame, duplicates=duplicates)
    else:
        raw = _read_spatial(path, input, report, layer)
    if len(raw.frame) == 0:
        report.add("empty_file", input, path.name, f"{path.name} has no records (at most a header)")
        raise LoadError(path.name)
    return raw
