"""Hotspots that hold up: kernel density, Getis-Ord Gi* with FDR, and whether a hotspot map predicts.

All distances are in metres in EPSG:9141 (KOSOVAREF01 / Balkans zone 7).

Gi* comes from PySAL's ``esda.G_Local`` (``star=True``: each unit is part of
its own neighbourhood; binary weights). Confidence levels follow the usual
hot-spot practice: the two-sided p-value of the Gi* z-score, corrected for
multiple testing with Benjamini–Hochberg *at each level* (a unit is "hot spot
99 %" when it survives FDR at α = 0.01, "95 %" at α = 0.05, "90 %" at α = 0.10).
Permutation inference is available as a robustness check; its smallest
possible p-value is 1 / (permutations + 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, stats

from geo.schema import METRIC_CRS, WGS84

#: The fixed label vocabulary, hottest first.
HOT_99, HOT_95, HOT_90 = "hot_99", "hot_95", "hot_90"
COLD_99, COLD_95, COLD_90 = "cold_99", "cold_95", "cold_90"
NOT_SIGNIFICANT = "not_significant"
LABELS = (HOT_99, HOT_95, HOT_90, NOT_SIGNIFICANT, COLD_90, COLD_95, COLD_99)
#: English text per label (translated for display by geo.i18n).
LABEL_TEXT = {
    HOT_99: "Hot spot – 99 %",
    HOT_95: "Hot spot – 95 %",
    HOT_90: "Hot spot – 90 %",
    NOT_SIGNIFICANT: "Not significant",
    COLD_90: "Cold spot – 90 %",
    COLD_95: "Cold spot – 95 %",
    COLD_99: "Cold spot – 99 %",
}
#: One colour table (ColorBrewer RdBu, readable by colour-blind viewers and in greyscale by lightness).
LABEL_COLOURS = {
    HOT_99: "#b2182b",
    HOT_95: "#ef8a62",
    HOT_90: "#fddbc7",
    NOT_SIGNIFICANT: "#f7f7f7",
    COLD_90: "#d1e5f0",
    COLD_95: "#67a9cf",
    COLD_99: "#2166ac",
}
LEVELS = ((0.01, HOT_99, COLD_99), (0.05, HOT_95, COLD_95), (0.10, HOT_90, COLD_90))


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (NaN stays NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def classify(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Hot/cold labels at 99/95/90 % from z-scores and two-sided p-values, with BH-FDR at each level."""
    z = np.asarray(z, dtype=float)
    p_adj = fdr_bh(p)
    labels = np.full(len(z), NOT_SIGNIFICANT, dtype=object)
    for alpha, hot, cold in reversed(LEVELS):  # weakest first, stronger levels overwrite
        sig = np.isfinite(p_adj) & (p_adj <= alpha)
        labels[sig & (z > 0)] = hot
        labels[sig & (z < 0)] = cold
    return labels


def neighbours(units: gpd.GeoDataFrame, kind: str = "queen", threshold_m: float | None = None):
    """Spatial weights between units as a ``libpysal.graph.Graph`` (binary).

    ``kind``: ``queen`` (shared edge or corner), ``rook`` (shared edge) or
    ``distance`` (centroids within ``threshold_m`` metres, EPSG:9141).
    """
    from libpysal.graph import Graph

    if kind not in ("queen", "rook", "distance"):
        raise ValueError(f"kind must be 'queen', 'rook' or 'distance', not {kind!r}")
    metric = units.to_crs(METRIC_CRS)
    metric = metric.set_geometry(shapely.set_precision(metric.geometry.values, 0.01))
    if kind == "distance":
        if not threshold_m or threshold_m <= 0:
            raise ValueError(f"distance weights need a positive threshold_m in metres, not {threshold_m!r}")
        return Graph.build_distance_band(metric.geometry.centroid, threshold_m, binary=True)
    return Graph.build_contiguity(metric, rook=(kind == "rook"), strict=False)


def getis_ord(values: np.ndarray, graph, permutations: int = 0, seed: int = 0) -> pd.DataFrame:
    """Getis-Ord Gi* per unit.

    Parameters
    ----------
    values
        Count or rate per unit (non-negative).
    graph
        Binary ``libpysal.graph.Graph`` from :func:`neighbours`.
    permutations
        0 for analytical inference only; otherwise also conditional
        permutation p-values (seeded) and their labels.

    Returns
    -------
    DataFrame with ``value, z, p`` (two-sided, normal), ``p_fdr`` (BH),
    ``label`` (fixed vocabulary) and, with permutations, ``p_sim`` and
    ``label_sim`` (FDR applied the same way).
    """
    from esda.getisord import G_Local

    y = np.asarray(values, dtype=float)
    n = len(y)
    out = pd.DataFrame({"value": y, "z": np.nan, "p": np.nan, "p_fdr": np.nan, "label": NOT_SIGNIFICANT})
    if n < 3 or not np.isfinite(y).all() or y.sum() <= 0 or np.all(y == y[0]):
        # no variation: nothing can be significant
        out["p"] = 1.0
        out["p_fdr"] = 1.0
        out["z"] = 0.0
        if permutations:
            out["p_sim"] = 1.0
            out["label_sim"] = NOT_SIGNIFICANT
        return out
    with warnings.catch_warnings():
        # esda announces a change of its one-sided permutation p; we double it ourselves below
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="esda")
        g = G_Local(
            y, graph, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1, keep_simulations=False
        )
    z = np.asarray(g.Zs, dtype=float)
    p = 2 * stats.norm.sf(np.abs(z))
    out["z"] = z
    out["p"] = p
    out["p_fdr"] = fdr_bh(p)
    out["label"] = classify(z, p)
    if permutations:
        p_sim = np.asarray(g.p_sim, dtype=float)
        out["p_sim"] = p_sim
        out["label_sim"] = classify(z, np.minimum(1.0, 2 * p_sim))
    return out


# ---------------------------------------------------------------- density surface


@dataclass
class DensityGrid:
    """A kernel density surface on a regular grid in EPSG:9141.

    ``density[i, j]`` is incidents per km² at the centre of row ``i`` (from
    the south) and column ``j`` (from the west); ``x0, y0`` are the grid's
    south-west corner in metres and ``cell_m`` the cell size.
    """

    density: np.ndarray
    x0: float
    y0: float
    cell_m: float
    bandwidth_m: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        ny, nx = self.density.shape
        return self.x0, self.y0, self.x0 + nx * self.cell_m, self.y0 + ny * self.cell_m

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        ny, nx = self.density.shape
        xs = self.x0 + (np.arange(nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def value_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Density at metric coordinates (0 outside the grid)."""
        ny, nx = self.density.shape
        j = np.floor((np.asarray(x) - self.x0) / self.cell_m).astype(int)
        i = np.floor((np.asarray(y) - self.y0) / self.cell_m).astype(int)
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        out = np.zeros(len(j))
        out[ok] = self.density[i[ok], j[ok]]
        return out


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → EPSG:9141 metres."""
    from pyproj import Transformer

    t = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def density(
    x: np.ndarray,
    y: np.ndarray,
    bandwidth_m: float,
    bounds: tuple[float, float, float, float],
    cell_m: float | None = None,
    weights: np.ndarray | None = None,
) -> DensityGrid:
    """Gaussian kernel density of points (metres, EPSG:9141) on a grid over ``bounds``.

    Points are binned on the grid and the bins convolved with a Gaussian of
    standard deviation ``bandwidth_m`` (binned KDE: cost grows with the grid,
    not with the number of points beyond one pass). ``cell_m`` defaults to a
    quarter of the bandwidth, kept to at most ~1,000 cells a side.
    """
    if not bandwidth_m or bandwidth_m <= 0:
        raise ValueError(f"bandwidth_m must be a positive number of metres, not {bandwidth_m!r}")
    xmin, ymin, xmax, ymax = bounds
    if cell_m is None:
        cell_m = max(bandwidth_m / 4, max(xmax - xmin, ymax - ymin) / 1000)
    nx = max(1, int(np.ceil((xmax - xmin) / cell_m)))
    ny = max(1, int(np.ceil((ymax - ymin) / cell_m)))
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    counts, _, _ = np.histogram2d(
        y, x, bins=(ny, nx), range=((ymin, ymin + ny * cell_m), (xmin, xmin + nx * cell_m)), weights=weights
    )
    smoothed = ndimage.gaussian_filter(counts, sigma=bandwidth_m / cell_m, mode="constant", truncate=4.0)
    per_km2 = smoothed / (cell_m * cell_m / 1e6)
    return DensityGrid(per_km2, xmin, ymin, cell_m, bandwidth_m)


# ---------------------------------------------------------------- does it predict?


def pai(captured: float, total: float, area_flagged: float, area_total: float) -> float:
    """Predictive Accuracy Index: (share of incidents captured) ÷ (share of area flagged)."""
    if total <= 0 or area_flagged <= 0 or area_total <= 0:
        return float("nan")
    return (captured / total) / (area_flagged / area_total)


def top_share_by_area(score: np.ndarray, area: np.ndarray, share: float) -> np.ndarray:
    """Flag the highest-scoring units until ``share`` (0–1) of the total area is covered.

    Units are taken in descending score (ties by position), and the unit that
    crosses the threshold is included. Units with a score of 0 are never flagged.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share!r}")
    score = np.asarray(score, dtype=float)
    area = np.asarray(area, dtype=float)
    order = np.argsort(-score, kind="stable")
    cum = np.cumsum(area[order])
    limit = share * area.sum()
    n_take = int(np.searchsorted(cum, limit, side="left")) + 1
    flagged = np.zeros(len(score), dtype=bool)
    flagged[order[:n_take]] = True
    flagged &= score > 0
    return flagged


def evaluate(flagged: np.ndarray, test_counts: np.ndarray, area: np.ndarray) -> dict[str, float]:
    """Hit rate and PAI of a set of flagged units against the counts of the test window."""
    test_counts = np.asarray(test_counts, dtype=float)
    area = np.asarray(area, dtype=float)
    flagged = np.asarray(flagged, dtype=bool)
    total = test_counts.sum()
    captured = test_counts[flagged].sum()
    return {
        "area_share": float(area[flagged].sum() / area.sum()) if area.sum() else float("nan"),
        "hit_rate": float(captured / total) if total else float("nan"),
        "pai": pai(captured, total, area[flagged].sum(), area.sum()),
    }
