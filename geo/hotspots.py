"""Hotspots that hold up: kernel density, Getis-Ord Gi* with FDR, and whether a hotspot map predicts.

All distances are in metres in EPSG:9141 (KOSOVAREF01 / Balkans zone 7).

Gi* comes from PySAL's ``esda.G_Local`` (``star=True``: each unit is part of
its own neighbourhood; binary weights). Confidence levels follow the usual
hot-spot practice: the two-sided p-value of the Gi* z-score, corrected for
multiple testing with Benjamini–Hochberg *at each level* (a unit is "hot spot
99 %" when it survives FDR at α = 0.01, "95 %" at α = 0.05, "90 %" at α = 0.10).
Permutation inference is available as a robustness check; its smallest
possible p-value is 1 / (permutations + 1), so :func:`permutations_for`
chooses enough of them for even a single unit to reach 99 % after FDR.
"""

from __future__ import annotations

import math
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
        permutation p-values (:func:`permutation_p`, seeded) and their labels
        (:func:`permutations_for` gives a count that can confirm every level).

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
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="esda")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="esda")  # zero variance: z is NaN
        g = G_Local(y, graph, transform="B", star=True, permutations=0, n_jobs=1, keep_simulations=False)
    z = np.asarray(g.Zs, dtype=float)
    p = 2 * stats.norm.sf(np.abs(z))
    out["z"] = z
    out["p"] = p
    out["p_fdr"] = fdr_bh(p)
    out["label"] = classify(z, p)
    if permutations:
        p_sim = permutation_p(y, graph, permutations, seed)
        out["p_sim"] = p_sim
        out["label_sim"] = classify(z, p_sim)
    return out


def permutations_for(n_units: int, alpha: float | None = None) -> int:
    """How many permutations let even a single unit reach level ``alpha`` after Benjamini–Hochberg.

    The smallest permutation p is ``1 / (P + 1)``, and after BH across ``n``
    units the strongest unit reaches ``alpha`` only if ``n / (P + 1) ≤ alpha``.
    ``alpha`` defaults to the strictest level shown (0.01, "99 %"). ``P + 1``
    is rounded up to a whole thousand (999 at least): 273 units → 27,999;
    2,000 → 199,999.
    """
    alpha = min(a for a, _hot, _cold in LEVELS) if alpha is None else alpha
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}")
    if n_units < 0:
        raise ValueError(f"n_units must be 0 or more, not {n_units!r}")
    needed = math.ceil(round(n_units / alpha, 6))  # P + 1 ≥ n / alpha (rounded against 273 / 0.01 = 27300.000…04)
    return max(1000, math.ceil(needed / 1000) * 1000) - 1


def _ordered_draws(rng: np.random.Generator, n: int, m: int, rows: int) -> np.ndarray:
    """``rows`` × ``m`` distinct positions in ``range(n)`` per row, each row a uniformly random ordered sample.

    Small samples (``m² ≤ 2n``) draw with replacement and redraw the rows that repeat a position (a uniform
    ordered sample given that all differ); larger ones take the first ``m`` steps of a Fisher–Yates shuffle.
    """
    if m * m <= 2 * n:
        out = rng.integers(0, n, size=(rows, m), dtype=np.int64)
        while m > 1:
            s = np.sort(out, axis=1)
            bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
            if not len(bad):
                break
            out[bad] = rng.integers(0, n, size=(len(bad), m), dtype=np.int64)
        return out
    arr = np.broadcast_to(np.arange(n, dtype=np.int64), (rows, n)).copy()
    idx = np.arange(rows)
    for j in range(m):
        r = rng.integers(j, n, size=rows)
        a, b = arr[idx, j].copy(), arr[idx, r]
        arr[idx, j], arr[idx, r] = b, a
    return arr[:, :m]


#: Positions drawn per chunk of permutations (bounded memory: a few tens of MB whatever the count).
_DRAWS_PER_CHUNK = 2_000_000


def permutation_p(values: np.ndarray, graph, permutations: int = 999, seed: int = 0) -> np.ndarray:
    """Two-sided conditional-permutation p-values of Gi* (binary weights, each unit in its own neighbourhood).

    For each unit its own value stays in place and its ``k`` neighbours'
    values are drawn without replacement from the other units, ``permutations``
    times (seeded). ``p = (1 + #{draws at least as far from the expectation
    as observed}) / (permutations + 1)``: ties count as at least as extreme,
    so the many zeros of sparse counts never look significant, and the
    smallest possible p is ``1 / (permutations + 1)``
    (:func:`permutations_for` gives a count that lets a single unit reach
    every level after FDR). Units without neighbours get 1.

    One set of draws is shared by all units, as PySAL does: each permutation
    is an ordered sample of ``k + 1`` distinct units of all ``n``, and unit
    ``u`` takes the first ``k`` of them that are not ``u`` (a uniform sample of
    the others). The neighbourhood sums of all units then come from one sorted
    array per ``k`` plus a correction for the ~``k/n`` of the draws that hold
    ``u`` itself, so the cost grows with ``permutations × k``, not with
    ``permutations × units × k``; memory stays bounded (draws in chunks).
    """
    y = np.asarray(values, dtype=float)
    n = len(y)
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, not {permutations!r}")
    p = np.ones(n)
    if n < 3 or graph is None:
        return p
    adj = graph.adjacency.reset_index()
    adj.columns = ["focal", "neighbor", "weight"]
    adj = adj[(adj["weight"] > 0) & (adj["focal"] != adj["neighbor"])]
    pos = {uid: i for i, uid in enumerate(graph.unique_ids)}
    focal = adj["focal"].map(pos).to_numpy(dtype=np.int64)
    neigh = adj["neighbor"].map(pos).to_numpy(dtype=np.int64)
    card = np.bincount(focal, minlength=n)
    kmax = int(card.max()) if len(card) else 0
    if kmax == 0:
        return p
    observed = y + np.bincount(focal, weights=y[neigh], minlength=n)
    total = y.sum()
    tol = 1e-9 * max(1.0, abs(total))
    ks = [int(k) for k in np.unique(card[card > 0])]
    # unit u is "far" in a draw whose neighbourhood sum (without u) is s when s ≥ hi[u] or s ≤ lo[u]
    expected_others = card * (total - y) / (n - 1)  # expectation of the neighbours' sum
    margin = np.abs(observed - y - expected_others) - tol
    hi, lo = expected_others + margin, expected_others - margin
    always = margin <= 0  # every draw is at least as far as observed
    far = np.zeros(n, dtype=np.int64)
    m = kmax + 1  # at most n: a unit has at most n - 1 neighbours
    rng = np.random.default_rng(seed)
    chunk = max(1, _DRAWS_PER_CHUNK // (m if m * m <= 2 * n else n))
    groups = [(k, np.flatnonzero(card == k)) for k in ks]
    position = np.arange(m)
    for start in range(0, permutations, chunk):
        rows = min(chunk, permutations - start)
        draws = _ordered_draws(rng, n, m, rows)
        sums = np.cumsum(y[draws], axis=1)  # sums[:, j]: the first j + 1 drawn values
        # every unit's sample is the first k of the draw, unless it is among them ...
        for k, units in groups:
            ordered = np.sort(sums[:, k - 1])
            far[units] += (rows - np.searchsorted(ordered, hi[units], side="left")) + np.searchsorted(
                ordered, lo[units], side="right"
            )
        # ... then it is the first k + 1 but itself: correct those draws
        r, j = np.nonzero(position[None, :] < card[draws])
        u = draws[r, j]
        k = card[u]
        was, now = sums[r, k - 1], sums[r, k] - y[u]
        change = ((now >= hi[u]) | (now <= lo[u])).astype(np.int64) - ((was >= hi[u]) | (was <= lo[u]))
        far += np.bincount(u, weights=change, minlength=n).astype(np.int64)
    far[always] = permutations
    p[card > 0] = (far[card > 0] + 1) / (permutations + 1)
    return p


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


# ---------------------------------------------------------------- units: sections and grid cells

#: Most grid cells an analysis may use (more would be slow and unreadable): choose larger cells or a smaller area.
MAX_CELLS = 20_000
#: Most grid cells the permutation check is offered for: a single cell can reach 99 % after FDR only with
#: more than 100 permutations per cell (:func:`permutations_for`), so its cost grows with the square of the
#: cells; at 5,000 cells (504,999 permutations) it takes seconds with queen neighbours, and up to a minute
#: with a wide distance band.
MAX_CHECK_CELLS = 5_000


def areas_km2(units: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each unit in km², measured in EPSG:9141."""
    metric = units if units.crs is not None and units.crs.equals(METRIC_CRS) else units.to_crs(METRIC_CRS)
    return np.asarray(shapely.area(np.asarray(metric.geometry.values, dtype=object)), dtype=float) / 1e6


def unit_values(counts: np.ndarray, population: np.ndarray | None, measure: str) -> np.ndarray:
    """Counts, or rates per 1,000 residents (``measure="rate"``; every unit needs residents > 0)."""
    counts = np.asarray(counts, dtype=float)
    if measure == "count":
        return counts
    if measure != "rate":
        raise ValueError(f"measure must be 'count' or 'rate', not {measure!r}")
    if population is None:
        raise ValueError("rates per 1,000 residents need the units' population")
    pop = np.asarray(population, dtype=float)
    if not np.all(np.isfinite(pop) & (pop > 0)):
        raise ValueError(
            f"rates per 1,000 residents need a population above 0 for every unit; "
            f"{int((~(np.isfinite(pop) & (pop > 0))).sum())} of {len(pop)} have none"
        )
    return counts / pop * 1000.0


def _hotspot_frame(
    units: gpd.GeoDataFrame,
    ids: pd.Index,
    counts: np.ndarray,
    population: np.ndarray | None,
    measure: str,
    kind: str,
    threshold_m: float | None,
    permutations: int,
    seed: int,
) -> pd.DataFrame:
    values = unit_values(counts, population, measure)
    units = units.reset_index(drop=True)  # the graph's ids are positions, matching ``values``
    if len(units) >= 2:
        graph = neighbours(units, kind, threshold_m)
        card = graph.cardinalities.reindex(range(len(units)), fill_value=0).to_numpy()
        res = getis_ord(values, graph, permutations=permutations, seed=seed)
    else:  # one unit has no neighbourhood to compare with
        card = np.zeros(len(units), dtype=int)
        res = getis_ord(values, None, permutations=permutations, seed=seed)
    res.index = ids
    res.insert(0, "count", np.asarray(counts, dtype=float))
    res.insert(1, "population", np.asarray(population, dtype=float) if population is not None else np.nan)
    res["neighbours"] = np.asarray(card, dtype=int)
    return res


def section_hotspots(
    sections: gpd.GeoDataFrame,
    counts: pd.Series,
    measure: str = "count",
    kind: str = "queen",
    threshold_m: float | None = None,
    permutations: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Gi* hot and cold spots on police sections.

    Parameters
    ----------
    sections
        The sections to analyse (any CRS; neighbours are found in EPSG:9141).
    counts
        Incidents per ``section_id``; sections absent from it have 0.
    measure
        ``count`` or ``rate`` (per 1,000 residents; every section needs a population).
    kind, threshold_m
        Neighbours: ``queen`` contiguity, or ``distance`` band of ``threshold_m`` metres between centroids.
    permutations, seed
        Permutation robustness check (seeded); 0 for none.

    Returns
    -------
    DataFrame indexed by ``section_id``: ``count``, ``population``, ``value``,
    ``z``, ``p``, ``p_fdr``, ``label`` (:data:`LABELS`), ``neighbours``
    (how many each has), and with permutations ``p_sim``, ``label_sim``.
    """
    ids = pd.Index(sections["section_id"], name="section_id")
    c = pd.Series(counts, dtype="float64")
    c.index = c.index.astype(str)
    c = c.reindex(ids, fill_value=0.0).to_numpy()
    pop = (
        pd.to_numeric(pd.Series(sections["population"].to_numpy()), errors="coerce").to_numpy(dtype=float)
        if "population" in sections.columns
        else None
    )
    return _hotspot_frame(sections, ids, c, pop, measure, kind, threshold_m, permutations, seed)


def grid_cells(sections: gpd.GeoDataFrame, cell_m: float, max_cells: int | None = None) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres (EPSG:9141) clipped to the sections; cells outside every section are dropped.

    The grid is anchored at multiples of ``cell_m`` (the same cells whatever
    the area). Each cell gets ``cell_id`` (``"r<row>c<col>"``), ``row``,
    ``col``, ``area_km2`` and ``population``: residents shared out from the
    sections in proportion to the area of the section in the cell (residents
    assumed spread evenly over a section; missing when a section it touches
    has no population). Raises ``ValueError`` above ``max_cells`` cells
    (default :data:`MAX_CELLS`).
    """
    max_cells = MAX_CELLS if max_cells is None else max_cells
    if not cell_m or cell_m <= 0:
        raise ValueError(f"cell_m must be a positive number of metres, not {cell_m!r}")
    metric = sections.to_crs(METRIC_CRS)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    cols = ["cell_id", "row", "col", "area_km2", "population"]
    if not len(geoms):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=METRIC_CRS)
    xmin, ymin, xmax, ymax = metric.total_bounds
    x0, y0 = np.floor(xmin / cell_m) * cell_m, np.floor(ymin / cell_m) * cell_m
    nx, ny = int(np.ceil((xmax - x0) / cell_m)), int(np.ceil((ymax - y0) / cell_m))
    if nx * ny > 4 * max_cells:
        raise ValueError(
            f"{nx * ny:,} cells of {cell_m:g} m would cover this area (at most {max_cells:,} are analysed); "
            "choose larger cells or a smaller area"
        )
    union = shapely.union_all(geoms)
    col, row = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    boxes = shapely.box(x0 + col * cell_m, y0 + row * cell_m, x0 + (col + 1) * cell_m, y0 + (row + 1) * cell_m)
    shapely.prepare(union)
    touches = shapely.intersects(union, boxes)
    inside = shapely.contains_properly(union, boxes)
    clipped = boxes.copy()
    edge = touches & ~inside
    clipped[edge] = shapely.intersection(boxes[edge], union)
    keep = touches & (shapely.area(clipped) > 1.0)  # slivers under 1 m² are rounding, not land
    if keep.sum() > max_cells:
        raise ValueError(
            f"{int(keep.sum()):,} cells of {cell_m:g} m cover this area (at most {max_cells:,}); "
            "choose larger cells or a smaller area"
        )
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"r{r}c{c}" for r, c in zip(row[keep], col[keep], strict=True)],
            "row": row[keep],
            "col": col[keep],
        },
        geometry=clipped[keep],
        crs=METRIC_CRS,
    )
    cells["area_km2"] = shapely.area(np.asarray(cells.geometry.values, dtype=object)) / 1e6
    cells["population"] = _apportion(cells, metric)
    cells.attrs["grid"] = {"x0": float(x0), "y0": float(y0), "cell_m": float(cell_m), "nx": nx, "ny": ny}
    return cells


def _apportion(cells: gpd.GeoDataFrame, metric_sections: gpd.GeoDataFrame) -> np.ndarray:
    """Residents per cell: each section's population shared by the area of the section in each cell."""
    if "population" not in metric_sections.columns:
        return np.full(len(cells), np.nan)
    pop = pd.to_numeric(pd.Series(metric_sections["population"].to_numpy()), errors="coerce").to_numpy(dtype=float)
    sec_geoms = np.asarray(metric_sections.geometry.values, dtype=object)
    sec_area = shapely.area(sec_geoms)
    cell_geoms = np.asarray(cells.geometry.values, dtype=object)
    tree = shapely.STRtree(cell_geoms)
    s_idx, c_idx = tree.query(sec_geoms, predicate="intersects")
    part = shapely.area(shapely.intersection(cell_geoms[c_idx], sec_geoms[s_idx]))
    share = np.divide(part, sec_area[s_idx], out=np.zeros_like(part), where=sec_area[s_idx] > 0)
    out = np.zeros(len(cells))
    np.add.at(out, c_idx, share * np.nan_to_num(pop[s_idx], nan=0.0))
    unknown = np.zeros(len(cells), dtype=bool)
    bad = ~np.isfinite(pop[s_idx]) & (part > 1.0)
    unknown[c_idx[bad]] = True
    out[unknown] = np.nan
    return out


def cell_counts(cells: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Points (metres, EPSG:9141) per cell of :func:`grid_cells`; points in no cell are not counted.

    A point on the edge between two cells belongs to the cell to its north-east
    (cells are half-open squares ``[x, x + cell) × [y, y + cell)``).
    """
    g = cells.attrs["grid"]
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    col = np.floor((x - g["x0"]) / g["cell_m"]).astype(np.int64)
    row = np.floor((y - g["y0"]) / g["cell_m"]).astype(np.int64)
    flat_cells = cells["row"].to_numpy(dtype=np.int64) * g["nx"] + cells["col"].to_numpy(dtype=np.int64)
    lookup = pd.Series(np.arange(len(cells)), index=flat_cells)
    ok = (col >= 0) & (col < g["nx"]) & (row >= 0) & (row < g["ny"])
    pos = lookup.reindex(row[ok] * g["nx"] + col[ok]).to_numpy()
    found = np.isfinite(pos)
    out = np.zeros(len(cells))
    np.add.at(out, pos[found].astype(np.int64), w[ok][found])
    return out


def grid_hotspots(
    cells: gpd.GeoDataFrame,
    counts: np.ndarray,
    measure: str = "count",
    kind: str = "queen",
    threshold_m: float | None = None,
    permutations: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Gi* on grid cells (:func:`grid_cells`); the same columns as :func:`section_hotspots`, indexed by ``cell_id``."""
    ids = pd.Index(cells["cell_id"].astype(str), name="cell_id")
    pop = cells["population"].to_numpy(dtype=float) if "population" in cells else None
    return _hotspot_frame(
        cells, ids, np.asarray(counts, dtype=float), pop, measure, kind, threshold_m, permutations, seed
    )


def label_counts(labels: pd.Series | np.ndarray) -> pd.Series:
    """How many units carry each label, in the order of :data:`LABELS` (zeros included)."""
    return pd.Series(pd.Series(labels).value_counts()).reindex(list(LABELS), fill_value=0).astype("int64")


def smallest_permutation_p(permutations: int) -> float:
    """The smallest p-value ``permutations`` conditional permutations can give: 1 / (permutations + 1)."""
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, not {permutations!r}")
    return 1.0 / (permutations + 1)


# ---------------------------------------------------------------- density per unit


def density_for_area(
    x: np.ndarray,
    y: np.ndarray,
    area: gpd.GeoDataFrame,
    bandwidth_m: float,
    weights: np.ndarray | None = None,
) -> DensityGrid:
    """:func:`density` of points (metres, EPSG:9141) on a grid over ``area`` widened by three bandwidths."""
    metric = area.to_crs(METRIC_CRS)
    xmin, ymin, xmax, ymax = metric.total_bounds if len(metric) else (0.0, 0.0, 1.0, 1.0)
    pad = 3 * bandwidth_m
    return density(x, y, bandwidth_m, (xmin - pad, ymin - pad, xmax + pad, ymax + pad), weights=weights)


def density_by_unit(grid: DensityGrid, units: gpd.GeoDataFrame, how: str = "mean") -> np.ndarray:
    """Score each unit by the density surface: its ``mean`` density (per km²) or the density ``sum``med over it.

    ``sum`` is the surface's expected number of incidents in the unit
    (density × area). A unit too small to hold a grid cell's centre takes the
    density at its representative point.
    """
    if how not in ("mean", "sum"):
        raise ValueError(f"how must be 'mean' or 'sum', not {how!r}")
    metric = units.to_crs(METRIC_CRS)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    if not len(geoms):
        return np.zeros(0)
    cx, cy = grid.cell_centres()
    dens = grid.density.ravel()
    cx, cy = cx.ravel(), cy.ravel()
    xmin, ymin, xmax, ymax = metric.total_bounds
    near = (cx >= xmin) & (cx <= xmax) & (cy >= ymin) & (cy <= ymax)
    pts = shapely.points(cx[near], cy[near])
    tree = shapely.STRtree(geoms)
    p_idx, u_idx = tree.query(pts, predicate="intersects")
    # a centre on a shared edge counts once, for the first unit
    first = ~pd.Series(p_idx).duplicated().to_numpy()
    p_idx, u_idx = p_idx[first], u_idx[first]
    values = dens[near][p_idx]
    total = np.bincount(u_idx, weights=values, minlength=len(geoms))
    n = np.bincount(u_idx, minlength=len(geoms))
    mean = np.divide(total, n, out=np.zeros(len(geoms)), where=n > 0)
    empty = n == 0
    if empty.any():
        rep = shapely.point_on_surface(geoms[empty])
        mean[empty] = grid.value_at(shapely.get_x(rep), shapely.get_y(rep))
    if how == "mean":
        return mean
    return mean * shapely.area(geoms) / 1e6


# ---------------------------------------------------------------- which hotspot map predicts best


PREDICTORS = ("density", "gi_star", "last_period")
#: English names of the predictors (translated for display by geo.i18n, context ``predictor``).
PREDICTOR_TEXT = {
    "density": "Density surface",
    "gi_star": "Gi* hot spots",
    "last_period": "Last period's counts",
}


def gi_score(result: pd.DataFrame) -> np.ndarray:
    """A ranking score from a Gi* result: the z-score of hot spots (any level), 0 for every other unit."""
    hot = result["label"].isin([HOT_99, HOT_95, HOT_90]).to_numpy()
    return np.where(hot, result["z"].to_numpy(dtype=float), 0.0)


def prediction_scores(
    sections: gpd.GeoDataFrame,
    train_counts: pd.Series,
    train_x: np.ndarray,
    train_y: np.ndarray,
    train_weights: np.ndarray | None,
    bandwidth_m: float,
    kind: str = "queen",
    threshold_m: float | None = None,
    how: str = "mean",
) -> dict[str, np.ndarray]:
    """Scores per section (in ``sections`` order) of the three predictors, from the training window only.

    ``density``: the kernel density surface of the training points (metres,
    EPSG:9141) by section (:func:`density_by_unit`, ``how`` = mean or sum);
    ``gi_star``: :func:`gi_score` of Gi* on the training counts;
    ``last_period``: the training counts per km² (so that a large quiet
    section does not use up the area budget before small busy ones).
    """
    ids = pd.Index(sections["section_id"])
    counts = pd.Series(train_counts, dtype="float64")
    counts.index = counts.index.astype(str)
    counts = counts.reindex(ids, fill_value=0.0).to_numpy()
    area = areas_km2(sections)
    grid = density_for_area(train_x, train_y, sections, bandwidth_m, weights=train_weights)
    gi = section_hotspots(sections, pd.Series(counts, index=ids), "count", kind, threshold_m)
    return {
        "density": density_by_unit(grid, sections, how),
        "gi_star": gi_score(gi),
        "last_period": np.divide(counts, area, out=np.zeros_like(counts), where=area > 0),
    }


def compare_predictors(
    scores: dict[str, np.ndarray], test_counts: np.ndarray, area: np.ndarray, share: float
) -> pd.DataFrame:
    """Hit rate and PAI of several predictors, each flagging its top ``share`` of the area.

    Parameters
    ----------
    scores
        Predictor name → one score per unit, computed from the training window
        (higher = more expected). A score of 0 is never flagged, so a
        predictor may flag less than ``share`` (Gi* when few units are hot).
    test_counts
        Incidents per unit in the test window.
    area
        Area per unit (any unit, e.g. km²).
    share
        Share of the total area to flag, in (0, 1].

    Returns
    -------
    DataFrame indexed by predictor: ``units`` flagged, ``area_share``,
    ``captured`` (test incidents in flagged units), ``hit_rate`` (captured ÷
    all) and ``pai`` (hit rate ÷ area share).
    """
    test_counts = np.asarray(test_counts, dtype=float)
    area = np.asarray(area, dtype=float)
    rows = {}
    for name, score in scores.items():
        score = np.asarray(score, dtype=float)
        if score.shape != test_counts.shape:
            raise ValueError(f"scores[{name!r}] has {score.size} values for {test_counts.size} units")
        flagged = top_share_by_area(score, area, share)
        ev = evaluate(flagged, test_counts, area)
        rows[name] = {
            "units": int(flagged.sum()),
            "area_share": ev["area_share"],
            "captured": float(test_counts[flagged].sum()),
            "hit_rate": ev["hit_rate"],
            "pai": ev["pai"],
        }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["units", "area_share", "captured", "hit_rate", "pai"])
    out.index.name = "predictor"
    return out
