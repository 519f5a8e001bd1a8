"""Points to sections, and roll-ups from sections to municipality and region.

Boundary rule (one rule for shared edges and overlaps): a point belongs to
every section whose closed polygon contains it (interior or boundary); when
that is more than one section, it goes to the one with the smallest
``section_id`` (string order). A point in no section is *outside*.

How (:class:`SectionIndex`): a regular grid over the sections' extent. Cells
that no section boundary touches (most of them) lie wholly inside the same set
of sections, so each connected run of such cells gets its answer from one
exact test of one of its cells; a point in such a cell takes the cell's
answer. Points in cells crossed by a boundary are tested exactly against the
prepared polygons whose bounding boxes hold them. Both paths apply the same
rule, so the result is the same as testing every point exactly; the grid only
decides how much work that takes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from scipy import ndimage

from geo.dataset import SECTION_ID_DTYPE

#: ``assign_sections(method="auto")`` uses the grid from this many points on (and from a third of the
#: sections' vertex count); below, exact tests only.
GRID_MIN_POINTS = 20_000
#: Cells of the grid, about (fewer for fewer points): the finer, the fewer points need an exact test.
GRID_CELLS = 4_000_000
#: Margin, in cell widths, by which a boundary segment's box is widened before marking the cells it
#: touches: far above floating-point error, so a cell called boundary-free surely is.
_PAD = 1e-6
_MIXED = -2  # a cell some section boundary touches
_NONE = -1  # a cell (or point) in no section


def _id_ranks(sections: gpd.GeoDataFrame) -> np.ndarray:
    """Rank of each row's ``section_id`` in string order (0 = smallest); ties by position."""
    ids = sections["section_id"].to_numpy()
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
    return rank


class SectionIndex:
    """Which section each point falls in, under the boundary rule; build once, query many times.

    Parameters
    ----------
    sections
        Polygons in EPSG:4326 with a ``section_id`` column (any row order).
    cells
        About how many grid cells to use; ``0`` for exact tests only (no grid).

    The index keeps its own copies of the geometries (prepared for fast
    tests), so ``sections`` is never modified and may be shared between threads.
    """

    def __init__(self, sections: gpd.GeoDataFrame, cells: int = GRID_CELLS):
        self.n = len(sections)
        geoms = np.asarray(sections.geometry.values, dtype=object) if self.n else np.empty(0, dtype=object)
        # copies: preparing caches a GEOS structure on the geometry object, and the caller's may be shared
        self._geoms = shapely.transform(geoms, lambda c: c) if self.n else geoms
        ok = ~(shapely.is_missing(self._geoms) | shapely.is_empty(self._geoms)) if self.n else np.zeros(0, bool)
        shapely.prepare(self._geoms[ok])
        self._rank = _id_ranks(sections) if self.n else np.zeros(0, dtype=np.int64)
        self._by_rank = np.argsort(self._rank)  # position of the section with rank r
        self._tree = shapely.STRtree(self._geoms)
        self.grid: np.ndarray | None = None
        if cells and ok.any():
            self._build_grid(self._geoms[ok], cells)

    # ---------------------------------------------------------------- exact tests

    def exact(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Positions by exact tests only (finite coordinates expected); -1 for no section."""
        out = np.full(len(lon), _NONE, dtype=np.int64)
        if not len(lon) or not self.n:
            return out
        pt, poly = self._tree.query(shapely.points(lon, lat))  # bounding boxes
        if not len(pt):
            return out
        hit = shapely.intersects_xy(self._geoms[poly], lon[pt], lat[pt])  # closed polygons
        pt, poly = pt[hit], poly[hit]
        best = np.full(len(lon), self.n, dtype=np.int64)
        np.minimum.at(best, pt, self._rank[poly])
        found = best < self.n
        out[found] = self._by_rank[best[found]]
        return out

    # ---------------------------------------------------------------- the grid

    def _build_grid(self, geoms: np.ndarray, cells: int) -> None:
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        # cells about square on the ground (a degree of longitude shrinks with latitude)
        aspect = max(np.cos(np.radians(np.clip((miny + maxy) / 2, -89, 89))), 0.2)
        cy = np.sqrt(w * h / aspect / cells)
        cx = cy / aspect
        nx, ny = int(np.ceil(w / cx)) + 2, int(np.ceil(h / cy)) + 2  # one spare cell on every side
        self._x0, self._y0, self._cx, self._cy = minx - cx, miny - cy, cx, cy
        mixed = np.zeros((ny, nx), dtype=bool)
        rings = shapely.get_rings(shapely.get_parts(geoms))
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        u = (xy[:, 0] - self._x0) / cx
        v = (xy[:, 1] - self._y0) / cy
        u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
        # cut segments longer than a cell into pieces no longer than a cell along either axis
        pieces = np.maximum(np.ceil(np.maximum(np.abs(u1 - u0), np.abs(v1 - v0))), 1).astype(np.int64)
        seg = np.repeat(np.arange(len(u0)), pieces)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0, t1 = k / pieces[seg], (k + 1) / pieces[seg]
        du, dv = (u1 - u0)[seg], (v1 - v0)[seg]
        pu0, pu1 = u0[seg] + du * t0, u0[seg] + du * t1
        pv0, pv1 = v0[seg] + dv * t0, v0[seg] + dv * t1
        j0 = np.floor(np.minimum(pu0, pu1) - _PAD).astype(np.int64)
        j1 = np.floor(np.maximum(pu0, pu1) + _PAD).astype(np.int64)
        i0 = np.floor(np.minimum(pv0, pv1) - _PAD).astype(np.int64)
        i1 = np.floor(np.maximum(pv0, pv1) + _PAD).astype(np.int64)
        for di in range(3):  # a piece's padded box spans at most 3 cells along each axis
            for dj in range(3):
                sel = (i0 + di <= i1) & (j0 + dj <= j1)
                mixed[np.clip(i0[sel] + di, 0, ny - 1), np.clip(j0[sel] + dj, 0, nx - 1)] = True
        # connected runs of boundary-free cells lie inside the same sections: one exact test each
        runs, n_runs = ndimage.label(~mixed)
        flat = runs.ravel()
        cells_in = np.flatnonzero(flat)
        first = self._first_cells(flat, cells_in, n_runs)
        fi, fj = np.divmod(first, nx)
        answer = np.full(n_runs + 1, _MIXED, dtype=np.int64)
        answer[1:] = self.exact(self._x0 + (fj + 0.5) * cx, self._y0 + (fi + 0.5) * cy)
        dtype = np.int16 if self.n < 2**15 else np.int32
        self.grid = answer[runs].astype(dtype)

    @staticmethod
    def _first_cells(flat: np.ndarray, cells_in: np.ndarray, n_runs: int) -> np.ndarray:
        """One cell (flat index) of each run 1..n_runs."""
        labels = flat[cells_in]
        # ndimage.label numbers runs in scan order: a run's first cell is where the running maximum grows
        grows = np.empty(len(labels), dtype=bool)
        if len(labels):
            top = np.maximum.accumulate(labels)
            grows[0] = True
            grows[1:] = top[1:] > top[:-1]
        first = cells_in[grows]
        if len(first) == n_runs and (flat[first] == np.arange(1, n_runs + 1)).all():
            return first
        _, idx = np.unique(labels, return_index=True)  # pragma: no cover - other numbering
        return cells_in[idx]

    # ---------------------------------------------------------------- queries

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Position (0-based row in the sections) of the section each point falls in, or -1.

        ``lon``, ``lat`` in WGS84 degrees; NaN entries get -1.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        out = np.full(len(lon), _NONE, dtype=np.int64)
        if not self.n or not len(lon):
            return out
        valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        x, y = lon[valid], lat[valid]
        if self.grid is None:
            out[valid] = self.exact(x, y)
            return out
        ny, nx = self.grid.shape
        j = np.floor((x - self._x0) / self._cx)
        i = np.floor((y - self._y0) / self._cy)
        in_grid = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)  # outside the grid: outside every section
        res = np.full(len(x), _NONE, dtype=np.int64)
        res[in_grid] = self.grid[i[in_grid].astype(np.int64), j[in_grid].astype(np.int64)]
        near = np.flatnonzero(res == _MIXED)
        res[near] = self.exact(x[near], y[near])
        out[valid] = res
        return out

    def exact_share(self, lon: np.ndarray, lat: np.ndarray) -> float:
        """Share of the (finite) points that need an exact test (they lie in boundary cells)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if self.grid is None or not ok.any():
            return 1.0
        ny, nx = self.grid.shape
        j = np.floor((lon[ok] - self._x0) / self._cx)
        i = np.floor((lat[ok] - self._y0) / self._cy)
        g = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        return float((self.grid[i[g].astype(np.int64), j[g].astype(np.int64)] == _MIXED).sum() / ok.sum())


def assign_sections(lon: np.ndarray, lat: np.ndarray, sections: gpd.GeoDataFrame, method: str = "auto") -> np.ndarray:
    """Position (0-based row in ``sections``) of the section each point falls in, or -1.

    Parameters
    ----------
    lon, lat
        WGS84 degrees; NaN entries get -1.
    sections
        Polygons in EPSG:4326 with a ``section_id`` column.
    method
        ``"grid"`` (grid plus exact tests near boundaries), ``"exact"`` (exact tests
        only) or ``"auto"``: the grid for many points (at least :data:`GRID_MIN_POINTS`
        and a third of the sections' vertices). The answer is the same; only the time differs.
    """
    if method not in ("auto", "grid", "exact"):
        raise ValueError(f"method must be 'auto', 'grid' or 'exact', not {method!r}")
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if len(sections) == 0 or len(lon) == 0:
        return np.full(len(lon), _NONE, dtype=np.int64)
    # the grid pays off once there are more points than about a third of the boundary vertices it must place
    use_grid = method == "grid" or (
        method == "auto"
        and len(lon) >= max(GRID_MIN_POINTS, int(shapely.get_num_coordinates(sections.geometry.values).sum()) // 3)
    )
    cells = min(GRID_CELLS, max(2 * len(lon), 65_536)) if use_grid else 0
    return SectionIndex(sections, cells=cells).locate(lon, lat)


def section_ids(positions: np.ndarray, sections: gpd.GeoDataFrame) -> pd.Series:
    """``section_id`` (:data:`~geo.dataset.SECTION_ID_DTYPE`, NaN for -1) for positions from
    :func:`assign_sections`."""
    ids = pa.array(sections["section_id"].tolist(), type=pa.large_string())
    pos = np.asarray(positions, dtype=np.int64)
    taken = ids.take(pa.array(pos, mask=pos < 0)) if len(ids) else pa.nulls(len(pos), pa.large_string())
    return pd.Series(pd.array(taken, dtype=SECTION_ID_DTYPE))


def join_points(frame: pd.DataFrame, sections: gpd.GeoDataFrame, index: SectionIndex | None = None) -> pd.DataFrame:
    """Set ``section_id`` from ``lon``/``lat`` for rows that have coordinates.

    Rows without coordinates keep the ``section_id`` they came with. Rows
    with coordinates in no section get a missing ``section_id`` (outside).
    ``index``: a :class:`SectionIndex` of ``sections`` to reuse (built when not given).
    """
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never modified
    lon = out["lon"].to_numpy(dtype=float)
    lat = out["lat"].to_numpy(dtype=float)
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    if index is not None:
        pos = index.locate(lon, lat)
    else:
        pos = assign_sections(lon, lat, sections)
    located = section_ids(pos, sections)
    if has_xy.all():
        sid = located
    else:
        # rows located by section keep the id they came with, as text: fixed here, as the sections' at their load
        given = out["section_id"].astype(SECTION_ID_DTYPE).reset_index(drop=True)
        sid = located.where(pd.Series(has_xy), given)
    sid.index = out.index
    out["section_id"] = sid
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
