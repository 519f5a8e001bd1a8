"""A hash of a :class:`~geo.dataset.Dataset`'s content, to check that nothing modified a shared one.

Per table: column names and dtypes, the index, every value (lists by content, geometry as WKB) and the
CRS; plus the report and label, and (``cube=True``) the incident cube. A column replaced by equal values
hashes the same: what is checked is content, not identity.
"""

from __future__ import annotations

import dataclasses
import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.dataset import Dataset

TABLES = ("sections", "incidents", "concerns", "committees", "meetings", "surveys")


def _column_digest(s: pd.Series) -> bytes:
    if isinstance(s.dtype, gpd.array.GeometryDtype):
        return b"".join(b"%d:" % len(w) + w for w in shapely.to_wkb(np.asarray(s.values, dtype=object)))
    if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
        return repr([list(v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in s]).encode()
    return pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()


def table_digest(frame: pd.DataFrame) -> str:
    """A hash of a table: column names, dtypes, index, every value (lists by content, geometry as WKB), CRS."""
    h = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
    h.update(repr(getattr(frame, "crs", None)).encode() + repr(frame.attrs).encode())
    for c in frame.columns:
        h.update(str(c).encode() + _column_digest(frame[c]))
    return h.hexdigest()


def cube_digest(cube) -> str:
    h = hashlib.sha256(type(cube).__name__.encode())
    for f in dataclasses.fields(cube):
        v = getattr(cube, f.name)
        h.update(f.name.encode())
        if isinstance(v, np.ndarray):  # objects by value (their bytes are addresses)
            h.update(repr(v.tolist()).encode() if v.dtype == object else v.tobytes() + str(v.dtype).encode())
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


def digest(data: Dataset, cube: bool = False) -> dict[str, str]:
    """One hash per table, plus the report, the label and (``cube``) the incident cube."""
    out = {name: table_digest(getattr(data, name)) for name in TABLES}
    out["report"] = repr((data.report.problems, data.report.counts, data.label, data.is_demo))
    if cube:
        out["cube"] = cube_digest(data.cube)
    return out
