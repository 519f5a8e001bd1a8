"""A columnar cache of loaded data: read, validate and join users' files once, start from Parquet afterwards.

Reading a national incident file, checking every row and joining it to the
sections takes seconds; reading the result back from Parquet takes a fraction
of that. :func:`load` keeps the result of :func:`geo.loader.load_files` in a
cache folder, one entry per *content*: the key is a hash of the files'
bytes and names, the loading options and the version of the code that
validates and joins (so a changed file, mapping or loader never meets a stale
entry). An entry holds plain columns: the tables as Parquet (the sections as
GeoParquet), the report as JSON; nothing is pickled.

Small inputs (below :data:`MIN_BYTES` together) are loaded directly: they are
quick anyway. The cache is best effort: an unreadable entry is dropped and
the files are loaded again; a folder that cannot be written is simply not used.

Files uploaded in a session (:func:`geo.uploads_root.is_upload`) are never cached:
the cache outlives the session and is shared, and its entries hold exact
coordinates. They are loaded directly, whatever their size.

Where: the folder named by the setting ``DASHBOARD_CACHE_DIR`` (``[cache] dir``
in the secrets file; ``off`` turns the cache off; :mod:`geo.settings`), otherwise ``$XDG_CACHE_HOME`` or ``~/.cache``,
under ``community-policing-dashboard/filecache``. At most :data:`KEEP` entries
are kept (the least recently used go first).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo import settings as config
from geo import uploads_root
from geo.dataset import Dataset
from geo.loader import LoadOptions, load_files
from geo.report import Problem, Report

CACHE_ENV = "DASHBOARD_CACHE_DIR"
#: Inputs smaller than this together (bytes) are not cached: loading them directly is quick.
MIN_BYTES = 8_000_000
#: Entries kept; older ones (by last use) are removed.
KEEP = 6
#: The tables of a dataset, in the order they are written.
TABLES = ("sections", "incidents", "concerns", "committees", "meetings", "surveys")
#: Modules and data whose content decides what a load gives; any change makes new keys. The modules are
#: exactly this one and all it imports, directly or not (``tests/test_filecache_code_version.py`` checks it).
_CODE = (
    "io.py",
    "validation.py",
    "joins.py",
    "loader.py",
    "schema.py",
    "places.py",
    "report.py",
    "dataset.py",
    "settings.py",
    "cube.py",
    "uploads_root.py",
    "filecache.py",
    "reference/municipalities.csv",
)
_FORMAT = 1


def default_dir(settings: config.Settings | None = None) -> Path | None:
    """The cache folder, or ``None`` when the cache is turned off (``DASHBOARD_CACHE_DIR=off``): from
    ``settings`` (default: the deployment's, read now; :attr:`geo.settings.Settings.cache_dir`)."""
    return (settings if settings is not None else config.Settings.load()).cache_dir


def code_version() -> str:
    """A hash of the loading code and of the libraries whose behaviour shapes the tables."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(f"format {_FORMAT}".encode())
    for name in _CODE:
        path = here / name
        h.update(name.encode())
        if path.exists():
            h.update(path.read_bytes())
    import shapely

    for mod in (pd, np, pa, gpd, shapely):
        h.update(f"{mod.__name__} {mod.__version__}".encode())
    return h.hexdigest()[:16]


def _file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def key(paths: dict[str, Path], options: LoadOptions | None = None) -> str:
    """The cache key of loading ``paths`` with ``options``: file contents and names, options, code version."""
    h = hashlib.sha256(code_version().encode())
    for name in sorted(paths):
        path = Path(paths[name])
        h.update(f"{name}={path.name}:{_file_digest(path)}".encode())
    options = options or LoadOptions()
    h.update(json.dumps(asdict(options), sort_keys=True, ensure_ascii=False).encode())
    # the default latest plausible date is one day after today: a cached load must not outlive its day
    h.update(repr(options.date_range()).encode())
    return h.hexdigest()[:32]


# ---------------------------------------------------------------- tables to Parquet and back


def _kind(s: pd.Series) -> str:
    """How to bring a column back: its dtype, or ``list`` for object columns holding lists."""
    if s.dtype == object and len(s) and s.map(lambda v: isinstance(v, (list, tuple))).any():
        return "list"
    return str(s.dtype)


def _write_table(frame: pd.DataFrame, path: Path) -> dict:
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    kinds = {str(c): _kind(frame[c]) for c in frame.columns if c != geometry}
    categories = {
        str(c): [None if pd.isna(x) else x for x in frame[c].cat.categories.tolist()]
        for c in frame.columns
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
    }
    category_dtypes = {c: str(frame[c].cat.categories.dtype) for c in categories}
    plain = frame.reset_index(drop=True)
    for c, k in kinds.items():
        if k == "list":
            plain[c] = [list(v) if isinstance(v, (list, tuple)) else [] for v in plain[c]]
    if isinstance(frame, gpd.GeoDataFrame):
        plain.to_parquet(path, index=False, compression="zstd")
    else:
        pq.write_table(pa.Table.from_pandas(plain, preserve_index=False), path, compression="zstd")
    return {
        "columns": [str(c) for c in frame.columns],
        "kinds": kinds,
        "categories": categories,
        "category_dtypes": category_dtypes,
        "geometry": geometry,
        "rows": len(frame),
    }


def _restore(col: pa.ChunkedArray, kind: str, meta: dict, name: str) -> pd.Series | np.ndarray:
    if kind == "list":
        return pd.Series([[] if v is None else list(v) for v in col.to_pylist()], dtype=object)
    if kind == "object":
        return pd.Series(col.to_pylist(), dtype=object)
    if kind == "string":
        return pd.Series(pd.array(col.combine_chunks() if col.num_chunks else col, dtype="string"))
    if kind == "category":
        cats = pd.Index(meta["categories"][name], dtype=meta["category_dtypes"][name])
        dtype = pd.CategoricalDtype(cats)
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if pa.types.is_dictionary(arr.type):  # as written: map the file's dictionary onto the categories
            where = cats.get_indexer(pd.Index(arr.dictionary.to_pylist(), dtype=cats.dtype))
            idx = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            codes = np.where(idx >= 0, where[np.clip(idx, 0, None)] if len(where) else -1, -1)
            return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))
        return pd.Series(pd.Categorical(arr.to_pandas(), dtype=dtype))
    values = col.to_pandas()
    return values.astype(kind) if str(values.dtype) != kind else values


def _read_table(path: Path, meta: dict) -> pd.DataFrame:
    table = pq.read_table(path)
    data = {}
    for c in meta["columns"]:
        if c == meta["geometry"]:
            continue
        data[c] = _restore(table.column(c), meta["kinds"][c], meta, c)
    frame = pd.DataFrame(data, index=pd.RangeIndex(meta["rows"]))
    if meta["geometry"]:
        geo = gpd.read_parquet(path, columns=[meta["geometry"]])
        frame = gpd.GeoDataFrame(frame, geometry=geo.geometry.values, crs=geo.crs)
        frame = frame.rename_geometry(meta["geometry"]) if meta["geometry"] != "geometry" else frame
    return frame[meta["columns"]]


# ---------------------------------------------------------------- entries


def _write_entry(directory: Path, k: str, ds: Dataset) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{k}-", dir=directory))
    try:
        tables = {name: _write_table(getattr(ds, name), tmp / f"{name}.parquet") for name in TABLES}
        manifest = {
            "key": k,
            "code": code_version(),
            "tables": tables,
            "problems": [asdict(p) for p in ds.report.problems],
            "counts": ds.report.counts,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, default=str), encoding="utf-8")
        try:
            tmp.rename(directory / k)
        except OSError:  # another process wrote the same entry first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_entry(entry: Path, label: str, is_demo: bool) -> Dataset:
    manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
    tables = {name: _read_table(entry / f"{name}.parquet", manifest["tables"][name]) for name in TABLES}
    report = Report(
        problems=[Problem(**p) for p in manifest["problems"]],
        counts={k: dict(v) for k, v in manifest["counts"].items()},
    )
    now = time.time()
    os.utime(entry / "manifest.json", (now, now))  # last use, for pruning
    return Dataset(**tables, report=report, label=label, is_demo=is_demo)


def prune(directory: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently used entries (and leftovers of interrupted writes)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    entries = []
    for p in directory.iterdir():
        if p.name.startswith(".") and time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)
        elif (p / "manifest.json").is_file():
            entries.append((p / "manifest.json").stat().st_mtime)
            entries[-1] = (entries[-1], p)
    for _, p in sorted(entries, reverse=True)[keep:]:
        shutil.rmtree(p, ignore_errors=True)


def load(
    paths: dict[str, Path],
    options: LoadOptions | None = None,
    label: str = "",
    is_demo: bool = False,
    directory: Path | None = None,
    min_bytes: int | None = None,
) -> Dataset:
    """:func:`geo.loader.load_files` through the cache: the same :class:`Dataset`, from Parquet when cached.

    ``directory``: the cache folder (default :func:`default_dir`); ``min_bytes``:
    inputs smaller than this together are loaded directly (default :data:`MIN_BYTES`).
    """
    min_bytes = MIN_BYTES if min_bytes is None else min_bytes
    options = options or LoadOptions()
    label = label or ", ".join(Path(p).name for p in paths.values())
    folder = Path(directory) if directory is not None else default_dir()
    try:
        size = sum(Path(p).stat().st_size for p in paths.values())
    except OSError:  # a missing file: the loader reports it
        size = -1
    if folder is None or size < min_bytes or any(uploads_root.is_upload(p) for p in paths.values()):
        return load_files(paths, options, label=label, is_demo=is_demo)
    k = key(paths, options)
    entry = folder / k
    if (entry / "manifest.json").is_file():
        try:
            return _read_entry(entry, label, is_demo)
        except Exception:  # noqa: BLE001 - a damaged or foreign entry: drop it and load the files
            shutil.rmtree(entry, ignore_errors=True)
    ds = load_files(paths, options, label=label, is_demo=is_demo)
    try:
        _write_entry(folder, k, ds)
        prune(folder)
    except OSError:
        pass  # a read-only or full disk: the dashboard works without the cache
    return ds
