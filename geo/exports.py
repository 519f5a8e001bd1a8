"""Files the Data page offers for download: joined tables as CSV (UTF-8 with BOM) and sections as GeoJSON.

Restricted fields stay out unless the data marks them public: a section's
``officers`` only where ``officers_public`` is true, a concern's
``description`` only where ``description_public`` is true.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.figures import joined_records
from geo.schema import LIST_SEPARATOR

#: Internal bookkeeping columns not exported.
_DROP = ("municipality_raw",)


def _cell(v: object) -> object:
    if isinstance(v, (list, tuple, np.ndarray)):
        return LIST_SEPARATOR.join(str(x) for x in v)
    return v


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in _DROP if c in frame.columns])
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_cell)
    return out


def public_sections(sections: pd.DataFrame) -> pd.DataFrame:
    """Sections with the officers' names and contacts blanked where they are not public."""
    out = sections.copy()
    if "officers" in out.columns:
        public = out["officers_public"].fillna(False).astype(bool) if "officers_public" in out else False
        out["officers"] = [
            v if p else [] for v, p in zip(out["officers"], np.broadcast_to(public, len(out)), strict=True)
        ]
    return out


def public_concerns(concerns: pd.DataFrame) -> pd.DataFrame:
    """Concerns with the citizens' descriptions blanked where they are not public."""
    out = concerns.copy()
    if "description" in out.columns:
        public = (
            out["description_public"].fillna(False).astype(bool)
            if "description_public" in out
            else pd.Series(False, index=out.index)
        )
        out["description"] = out["description"].where(public.to_numpy(dtype=bool), None)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so spreadsheet programs read ë, č, š right); lists joined with ``|``."""
    return _flat(frame).to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S").encode("utf-8-sig")


def sections_geojson(sections: gpd.GeoDataFrame) -> bytes:
    """Sections as GeoJSON (EPSG:4326), restricted fields blanked, lists as JSON arrays."""
    frame = public_sections(sections).drop(columns=[c for c in (*_DROP, "row") if c in sections.columns])
    frame = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    feats = []
    geoms = frame.geometry.to_json()
    geo_features = json.loads(geoms)["features"]
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for rec, feat in zip(props.to_dict("records"), geo_features, strict=True):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            if isinstance(v, (list, tuple)):
                clean[k] = [str(x) for x in v]
            elif v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                clean[k] = None
            elif isinstance(v, (np.integer,)):
                clean[k] = int(v)
            elif isinstance(v, (np.floating,)):
                clean[k] = float(v)
            elif isinstance(v, (np.bool_, bool)):
                clean[k] = bool(v)
            else:
                clean[k] = str(v) if not isinstance(v, (int, float, str)) else v
        feats.append({"type": "Feature", "properties": clean, "geometry": feat["geometry"]})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")


def joined_csv(frame: pd.DataFrame, sections: pd.DataFrame, concerns: bool = False) -> bytes:
    """Incidents or concerns with section name, municipality and region, as :func:`csv_bytes`."""
    frame = public_concerns(frame) if concerns else frame
    return csv_bytes(joined_records(frame, sections))


def problems_csv(report) -> bytes:
    """The validation report, one problem a row."""
    rows = [p.to_dict() for p in report.problems]
    cols = ["severity", "code", "input", "file", "row", "field", "value", "expected", "message"]
    return csv_bytes(pd.DataFrame(rows, columns=cols))
