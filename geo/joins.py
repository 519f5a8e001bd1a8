"""Points to sections, and roll-ups from sections to municipality and region.

Boundary rule (one rule for shared edges and overlaps): a point belongs to
every section whose closed polygon contains it (interior or boundary); when
that is more than one section, it goes to the one with the smallest
``section_id`` (string order). A point in no section is *outside*.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def assign_sections(lon: np.ndarray, lat: np.ndarray, sections: gpd.GeoDataFrame) -> np.ndarray:
    """Position (0-based row in ``sections``) of the section each point falls in, or -1.

    Parameters
    ----------
    lon, lat
        WGS84 degrees; NaN entries get -1.
    sections
        Polygons in EPSG:4326 with a ``section_id`` column.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.full(len(lon), -1, dtype=np.int64)
    if len(sections) == 0 or len(lon) == 0:
        return out
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if len(valid) == 0:
        return out
    points = shapely.points(lon[valid], lat[valid])
    tree = shapely.STRtree(sections.geometry.values)
    pt, poly = tree.query(points, predicate="intersects")
    if len(pt) == 0:
        return out
    # tie-break: smallest section_id among the candidates of a point
    rank = np.empty(len(sections), dtype=np.int64)
    rank[np.argsort(sections["section_id"].astype(str).to_numpy(), kind="stable")] = np.arange(len(sections))
    order = np.lexsort((rank[poly], pt))
    pt, poly = pt[order], poly[order]
    first = np.ones(len(pt), dtype=bool)
    first[1:] = pt[1:] != pt[:-1]
    out[valid[pt[first]]] = poly[first]
    return out


def join_points(frame: pd.DataFrame, sections: gpd.GeoDataFrame) -> pd.DataFrame:
    """Set ``section_id`` from ``lon``/``lat`` for rows that have coordinates.

    Rows without coordinates keep the ``section_id`` they came with. Rows
    with coordinates in no section get a missing ``section_id`` (outside).
    """
    out = frame.copy()
    has_xy = np.isfinite(out["lon"].to_numpy(dtype=float)) & np.isfinite(out["lat"].to_numpy(dtype=float))
    pos = assign_sections(out["lon"].to_numpy(dtype=float), out["lat"].to_numpy(dtype=float), sections)
    ids = sections["section_id"].astype(str).to_numpy()
    located = np.where(pos >= 0, ids[np.clip(pos, 0, None)], None)
    sid = out["section_id"].astype(object).to_numpy()
    sid = np.where(has_xy, located, sid)
    out["section_id"] = pd.array(sid, dtype="string")
    return out


def rollup(
    values: pd.DataFrame, sections: gpd.GeoDataFrame, level: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """Sum per-section values up to ``municipality`` or ``region``, with rates per 1,000 residents.

    Parameters
    ----------
    values
        Indexed by ``section_id`` (or with a ``section_id`` column), numeric columns to sum.
    level
        ``"section"``, ``"municipality"`` or ``"region"``.
    columns
        Columns to sum (default: all numeric).

    Returns
    -------
    DataFrame indexed by the level's name with the sums, ``population``
    (``<NA>`` when any section of the area lacks it) and ``<column>_per_1000``.
    """
    if level not in ("section", "municipality", "region"):
        raise ValueError(f"level must be 'section', 'municipality' or 'region', not {level!r}")
    v = values.set_index("section_id") if "section_id" in values.columns else values
    if columns is None:
        columns = [c for c in v.columns if pd.api.types.is_numeric_dtype(v[c])]
    key = "section_id" if level == "section" else level
    base = pd.DataFrame(sections[["section_id", "municipality", "region", "population"]]).set_index("section_id")
    joined = base.join(v[columns], how="left")
    joined[columns] = joined[columns].fillna(0)
    grouped = joined.reset_index().groupby(key, sort=True)
    out = grouped[columns].sum()
    pop = grouped["population"].agg(lambda p: p.sum() if p.notna().all() else pd.NA).astype("Float64")
    out["population"] = pop
    for c in columns:
        out[f"{c}_per_1000"] = (out[c] / out["population"] * 1000).where(out["population"] > 0)
    return out
