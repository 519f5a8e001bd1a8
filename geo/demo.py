"""Deterministic generator of the built-in demo dataset (all of it synthetic).

``generate(out_dir, seed)`` writes the six inputs named in
:data:`geo.source.DEMO_FILES`; ``check(directory, seed)`` regenerates them in a
temporary directory and lists every content difference with the files found in
``directory``. The same seed always gives the same content.

Nothing here is police data. Boundaries are approximations, names, officers,
villages, incidents, concerns, committees, meetings and surveys are made up.
Only the national outline (Natural Earth, public domain), the municipal seats
(GeoNames, CC BY 4.0), populations (Kosovo Agency of Statistics, census 2024)
and areas come from ``geo/reference``.

Geometry (computed in EPSG:9141, metres; written in WGS84)
    Municipalities: a power diagram (additively weighted Voronoi diagram with
    squared distances) whose weights are iterated until the cells' areas,
    clipped to the national outline, approach the real ``area_km2``. The sites
    are the seats, pushed apart where two seats are closer than the sum of
    their municipalities' equivalent radii (Mitrovicë, Mitrovica Veriore and
    Zveçan are 1.4-3.3 km apart), and every seat is kept at least 270 m inside
    its own cell. A seat outside the outline (Hani i Elezit, 56 m outside the
    coarse Natural Earth line) is moved 500 m inside it: :func:`demo_seats`.
    Sections: each municipality is split by a Voronoi diagram of seeded points,
    one per about 6,000 residents, denser around the seat. All cells are cut
    from one noded line arrangement (snap-rounded to 1 mm, edges densified to
    500 m so they stay put when reprojected), so neighbours share exactly the
    same edges and the sections tile the outline.

Section ids
    ``<code>-<nn>``: the two-letter municipality code of
    :data:`MUNICIPALITY_CODES` and a two-digit number. ``01`` is the section
    holding the seat ("Qendra"); the others are numbered by increasing
    distance of their seed point from the seat, so low numbers are town
    sections. Example: ``PR-07`` is the 7th section of Prishtinë.

Other ids
    incidents ``I-<year>-<nnnnnn>`` (points) and ``T-<year>-<nnnnnn>`` (daily
    ticket counts per section), numbered by time within each calendar year;
    concerns ``C-<year>-<nnnn>``; committees ``MCPS-<code>``,
    ``LCPS-<code>-<nn>``, ``ACPS-<code>-<nn>``; meetings
    ``M-<committee_id>-<yyyymmdd>``.

Planted incident hotspots (:data:`HOTSPOTS`) give hotspot methods something
real to find; one of them only exists in the last 12 months of the period.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from geo import places, schema
from geo.source import DEMO_FILES

DEFAULT_SEED = 2026

#: First and last day of the demo period (three full years; the last full month is October 2026).
PERIOD_START = pd.Timestamp("2023-11-01")
PERIOD_END = pd.Timestamp("2026-10-31")
#: First day of the last 12 months of the period.
LAST_YEAR_START = pd.Timestamp("2025-11-01")

# fmt: off
#: Two-letter code of each municipality, used in section and committee ids.
MUNICIPALITY_CODES: dict[str, str] = {
    "Deçan": "DE", "Dragash": "DR", "Ferizaj": "FE", "Fushë Kosovë": "FK", "Gjakovë": "GJ", "Gjilan": "GI",
    "Gllogovc": "GL", "Graçanicë": "GR", "Hani i Elezit": "HE", "Istog": "IS", "Junik": "JU", "Kamenicë": "KA",
    "Kaçanik": "KC", "Klinë": "KL", "Kllokot": "KK", "Leposaviq": "LE", "Lipjan": "LI", "Malishevë": "MA",
    "Mamushë": "MM", "Mitrovica Veriore": "MV", "Mitrovicë": "MI", "Novobërdë": "NO", "Obiliq": "OB",
    "Partesh": "PA", "Pejë": "PE", "Podujevë": "PO", "Prishtinë": "PR", "Prizren": "PZ", "Rahovec": "RA",
    "Ranillug": "RN", "Shtime": "SH", "Shtërpcë": "ST", "Skenderaj": "SK", "Suharekë": "SU", "Viti": "VI",
    "Vushtrri": "VU", "Zubin Potok": "ZP", "Zveçan": "ZV",
}
# fmt: on

#: Municipalities whose demo texts (concerns, village names) are in Serbian.
SERBIAN_MUNICIPALITIES = ("Leposaviq", "Mitrovica Veriore", "Zubin Potok", "Zveçan")
#: Municipalities where most generated officer names are Serbian.
_SERBIAN_NAMES = (*SERBIAN_MUNICIPALITIES, "Graçanicë", "Shtërpcë", "Kllokot", "Partesh", "Ranillug")

#: Residents per section (about).
RESIDENTS_PER_SECTION = 6000

# fmt: off
#: Yearly point incidents by category (national, per year).
INCIDENT_TARGETS: dict[str, int] = {
    "accident_fatal": 95, "accident_injury": 6800, "accident_damage": 15500,
    "theft": 3800, "burglary": 1500, "robbery": 140, "assault": 2600, "domestic_violence": 2300,
    "sexual_offence": 150, "drugs": 1200, "public_order": 3000, "other": 9310,
}
#: Traffic tickets per year (aggregated as daily counts per section).
TICKETS_PER_YEAR = 600_000

#: Main roads: straight segments between seats (accidents and tickets concentrate along them).
ROADS: tuple[tuple[str, str], ...] = (
    ("Prishtinë", "Vushtrri"), ("Vushtrri", "Mitrovicë"), ("Prishtinë", "Ferizaj"), ("Ferizaj", "Kaçanik"),
    ("Kaçanik", "Hani i Elezit"), ("Prishtinë", "Gjilan"), ("Prishtinë", "Pejë"), ("Prishtinë", "Suharekë"),
    ("Suharekë", "Prizren"), ("Pejë", "Gjakovë"), ("Gjakovë", "Prizren"), ("Ferizaj", "Gjilan"),
    ("Prishtinë", "Podujevë"),
)
# fmt: on

_METRIC = schema.METRIC_CRS
_OUTLINE_FILE = places.REFERENCE_DIR / "kosovo_outline.geojson"
_TO_METRIC = Transformer.from_crs(schema.WGS84, _METRIC, always_xy=True)
_TO_WGS84 = Transformer.from_crs(_METRIC, schema.WGS84, always_xy=True)
#: Grid (m) the line arrangement is snap-rounded to; makes shared edges identical.
_GRID_M = 0.001
#: Section edges get a vertex at least every this many metres (EPSG:9141), so that a straight
#: edge in WGS84 stays within millimetres of the straight edge in metres.
_DENSIFY_M = 500.0
_DENSIFY_DEG = 0.005
#: Points (incidents, concerns) keep this distance (m) from the national border.
_BORDER_CLEARANCE_M = 50.0
#: Seats are kept this far (m) from the edges between municipalities (at least 90 % of it in the end).
_SEAT_MARGIN_M = 300.0


@dataclass(frozen=True)
class Hotspot:
    """A planted cluster of incidents.

    ``bearing_deg``/``distance_m`` place its centre from the municipality's seat
    (EPSG:9141, metres; bearing clockwise from grid north); ``sigma_m`` is the
    Gaussian spread; ``per_year`` the yearly counts by category (taken out of
    the national totals); ``start`` the first day it appears.
    """

    municipality: str
    bearing_deg: float
    distance_m: float
    sigma_m: float
    per_year: dict[str, int]
    start: pd.Timestamp = PERIOD_START


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot("Prishtinë", 120.0, 1800.0, 180.0, {"theft": 330, "burglary": 90}),
    Hotspot("Prizren", 300.0, 1300.0, 220.0, {"drugs": 110, "theft": 60}),
    Hotspot("Gjilan", 200.0, 3500.0, 260.0, {"burglary": 80, "theft": 40}),
    Hotspot("Ferizaj", 45.0, 2000.0, 180.0, {"theft": 170, "burglary": 60, "drugs": 45}, start=LAST_YEAR_START),
)


# ---------------------------------------------------------------------------------------------------------------
# Reference geometry
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _outline_wgs84() -> shapely.Polygon:
    geom = gpd.read_file(_OUTLINE_FILE, engine="pyogrio").geometry.iloc[0]
    return shapely.Polygon(geom.exterior)


def _to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


@lru_cache(maxsize=1)
def _outline_metric() -> shapely.Polygon:
    """The outline in EPSG:9141, densified first so its edges stay where the WGS84 edges are."""
    return _to_metric(shapely.segmentize(_outline_wgs84(), _DENSIFY_DEG))


@lru_cache(maxsize=1)
def _seats_metric() -> np.ndarray:
    """Seats in EPSG:9141 (m), (38, 2), pulled 500 m inside the outline when outside it."""
    ms = places.municipalities()
    x, y = _TO_METRIC.transform([m.seat_lon for m in ms], [m.seat_lat for m in ms])
    seats = np.column_stack([x, y])
    outline = _outline_metric()
    inner = outline.buffer(-500.0)
    for i, p in enumerate(seats):
        if not outline.contains(shapely.Point(p)):
            seats[i] = shapely.get_coordinates(shapely.shortest_line(inner, shapely.Point(p)))[0]
    return np.round(seats, 2)


def demo_seats() -> dict[str, tuple[float, float]]:
    """Seats used by the demo: ``{municipality: (lon, lat)}``, WGS84 degrees.

    Equal to the reference seats, except seats outside the (coarse) national
    outline, which are moved 500 m inside it.
    """
    seats = _seats_metric()
    lon, lat = _TO_WGS84.transform(seats[:, 0], seats[:, 1])
    return {m.name: (float(a), float(b)) for m, a, b in zip(places.municipalities(), lon, lat, strict=True)}


# ---------------------------------------------------------------------------------------------------------------
# Power diagram of the municipalities
# ---------------------------------------------------------------------------------------------------------------


def _clip(v: np.ndarray, lab: np.ndarray, a: np.ndarray, b: float, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip a convex polygon (vertices ``v``, edge labels ``lab``) to the half-plane ``a·x <= b``.

    The edge label is the site whose bisector made that edge (-1: bounding box).
    """
    s = v @ a - b
    inside = s <= 0
    if inside.all():
        return v, lab
    if not inside.any():
        return v[:0], lab[:0]
    out_v, out_l = [], []
    k = len(v)
    for i in range(k):
        i2 = (i + 1) % k
        if inside[i]:
            out_v.append(v[i])
            out_l.append(lab[i])
            if not inside[i2]:
                t = s[i] / (s[i] - s[i2])
                out_v.append(v[i] + t * (v[i2] - v[i]))
                out_l.append(j)
        elif inside[i2]:
            t = s[i] / (s[i] - s[i2])
            out_v.append(v[i] + t * (v[i2] - v[i]))
            out_l.append(lab[i])
    return np.array(out_v), np.array(out_l)


def _power_cells(sites: np.ndarray, w: np.ndarray, half: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Convex power cells as half-plane intersections inside the box ``[-half, half]²``.

    Cell i = {x : |x - p_i|² - w_i <= |x - p_j|² - w_j for all j}. Returns
    (vertices, edge labels) per cell; coordinates as ``sites``.
    """
    box = np.array([[-half, -half], [half, -half], [half, half], [-half, half]], dtype=float)
    sq = (sites**2).sum(1)
    out = []
    for i in range(len(sites)):
        v, lab = box, np.full(4, -1)
        for j in np.argsort(((sites - sites[i]) ** 2).sum(1), kind="stable"):
            if j == i:
                continue
            v, lab = _clip(v, lab, 2.0 * (sites[j] - sites[i]), sq[j] - sq[i] - w[j] + w[i], int(j))
            if len(v) == 0:
                break
        out.append((v, lab))
    return out


def _evaluate(
    sites: np.ndarray, w: np.ndarray, domain: shapely.Polygon, half: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clipped cells, their areas (m²) and the Jacobian dA_i/dw_j of the areas."""
    n = len(sites)
    raw = _power_cells(sites, w, half)
    polys = [shapely.Polygon(v) if len(v) >= 3 else shapely.Polygon() for v, _ in raw]
    clipped = shapely.intersection(polys, domain)
    areas = shapely.area(clipped)
    jac = np.zeros((n, n))
    segs, pairs = [], []
    for i, (v, lab) in enumerate(raw):
        for k in range(len(v)):
            if lab[k] >= 0:
                segs.append(shapely.LineString([v[k], v[(k + 1) % len(v)]]))
                pairs.append((i, int(lab[k])))
    if segs:
        lengths = shapely.length(shapely.intersection(segs, domain))
        for (i, j), length in zip(pairs, lengths, strict=True):
            h = length / (2.0 * np.linalg.norm(sites[i] - sites[j]))
            jac[i, j] -= h
            jac[i, i] += h
    return clipped, areas, jac


def _limits(seats: np.ndarray, sites: np.ndarray, margin: float) -> np.ndarray:
    """``lim[i, j]``: largest ``w_j - w_i`` that keeps seat i ``margin`` m inside cell i (away from j)."""
    d2 = ((seats[:, None, :] - sites[None, :, :]) ** 2).sum(-1)
    gap = np.linalg.norm(sites[:, None] - sites[None], axis=2)
    lim = d2 - np.diag(d2)[:, None] - 2.0 * margin * gap
    np.fill_diagonal(lim, np.inf)
    return lim


def _project(w: np.ndarray, lim: np.ndarray, target: np.ndarray, sweeps: int = 400) -> tuple[np.ndarray, bool]:
    """Move the weights until ``w_j - w_i <= lim[i, j]``; the larger target area yields more."""
    w = w.copy()
    share = target[None, :] / (target[:, None] + target[None, :])
    for _ in range(sweeps):
        excess = (w[None, :] - w[:, None]) - lim
        if excess.max() <= 1e-3:
            return w, True
        excess = np.maximum(excess, 0.0)
        lower = (excess * share).sum(0)
        raise_ = (excess * (1.0 - share)).sum(1)
        degree = (excess > 0).sum(0) + (excess > 0).sum(1)
        w = w + (raise_ - lower) / np.maximum(degree, 1)
    return w, False


def _spread(seats: np.ndarray, target: np.ndarray, domain: shapely.Polygon, kappa: float, cap: float) -> np.ndarray:
    """Sites: the seats pushed apart where closer than ``kappa`` times the sum of equivalent radii.

    A site stays within ``cap`` times its equivalent radius of its seat and 1 km
    inside the domain.
    """
    r = np.sqrt(target / np.pi)
    sites = seats.copy()
    inner = domain.buffer(-1000.0)
    for _ in range(100):
        d = sites[:, None, :] - sites[None, :, :]
        dist = np.linalg.norm(d, axis=2)
        np.fill_diagonal(dist, np.inf)
        overlap = np.maximum(kappa * (r[:, None] + r[None, :]) - dist, 0.0)
        share = r[:, None] / (r[:, None] + r[None, :])
        sites = sites + 0.5 * ((overlap * share / dist)[:, :, None] * d).sum(1)
        off = sites - seats
        norm = np.linalg.norm(off, axis=1)
        sites = seats + off * np.minimum(1.0, cap * r / np.maximum(norm, 1e-9))[:, None]
        for i in np.flatnonzero(~shapely.contains_xy(inner, sites[:, 0], sites[:, 1])):
            sites[i] = shapely.get_coordinates(shapely.shortest_line(inner, shapely.Point(sites[i])))[0]
    return sites


def _fit_weights(
    seats: np.ndarray,
    sites: np.ndarray,
    target: np.ndarray,
    domain: shapely.Polygon,
    half: float,
    margin: float,
    iters: int = 40,
) -> tuple[np.ndarray, bool]:
    """Gauss-Newton on log(area / target) with the seat constraints; returns weights (m²) and success."""
    n = len(sites)

    def err(a):
        return float(np.sqrt(np.mean(np.log(np.maximum(a, 1.0) / target) ** 2)))

    lim = _limits(seats, sites, margin)
    w, ok = _project(np.zeros(n), lim, target)
    if not ok:
        return w, False
    gauge = np.ones((1, n)) / n / np.sqrt(target.mean())
    for _ in range(iters):
        _, areas, jac = _evaluate(sites, w, domain, half)
        j = jac / np.maximum(areas, 1.0)[:, None]
        dw = np.linalg.lstsq(
            np.vstack([j, gauge]), np.append(np.log(target / np.maximum(areas, 1.0)), 0.0), rcond=None
        )[0]
        e0, step = err(areas), 1.0
        for _ in range(10):
            wn, ok = _project(w + step * dw, lim, target)
            if ok and err(_evaluate(sites, wn, domain, half)[1]) < e0:
                w = wn
                break
            step /= 2
        else:
            break
    return w, True


@lru_cache(maxsize=1)
def _municipality_polygons() -> tuple[shapely.Polygon, ...]:
    """The 38 municipality polygons (EPSG:9141), in ``places.municipalities()`` order.

    Independent of the seed: the same every time.
    """
    outline = _outline_metric()
    origin = np.round(np.array(outline.centroid.coords[0]))
    domain = shapely.transform(outline, lambda xy: xy - origin)
    seats = _seats_metric() - origin
    target = np.array([m.area_km2 for m in places.municipalities()]) * 1e6
    target *= domain.area / target.sum()
    minx, miny, maxx, maxy = domain.bounds
    half = 4.0 * max(abs(minx), abs(miny), abs(maxx), abs(maxy))
    names = [m.name for m in places.municipalities()]
    small = names.index("Mitrovica Veriore")
    # how far seats push the sites apart, and how far a site may move from its seat: tried in turn
    for kappa, cap in ((0.9, 0.8), (0.8, 0.7), (0.8, 0.8), (0.7, 0.6)):
        sites = np.round(_spread(seats, target, domain, kappa, cap), 2)
        w, ok = _fit_weights(seats, sites, target, domain, half, _SEAT_MARGIN_M)
        if not ok:
            continue
        w = np.round(w)
        cells, areas, _ = _evaluate(sites, w, domain, half)
        inside = shapely.contains_xy(shapely.buffer(cells, -0.9 * _SEAT_MARGIN_M), seats[:, 0], seats[:, 1])
        if inside.all() and areas[small] < 25e6:
            break
    else:  # pragma: no cover - only if the reference data change
        raise RuntimeError("could not build municipality polygons that contain their seats")
    # one noded arrangement of all bisector edges and the outline: neighbours share exact edges
    lines = [domain.exterior]
    for i, (v, lab) in enumerate(_power_cells(sites, w, half)):
        for k in range(len(v)):
            if lab[k] > i:
                lines.append(shapely.LineString([v[k], v[(k + 1) % len(v)]]))
    faces = _faces(lines, domain)
    pts = shapely.get_coordinates(shapely.point_on_surface(faces))
    power = ((pts[:, None, :] - sites[None, :, :]) ** 2).sum(-1) - w[None, :]
    owner = np.argmin(power, axis=1)
    polys = _single_parts(faces, owner, len(sites), [shapely.Point(s) for s in seats])
    return tuple(shapely.transform(p, lambda xy: xy + origin) for p in polys)


def _faces(lines: list[shapely.Geometry], domain: shapely.Polygon, densify: float | None = None) -> np.ndarray:
    """Faces of the noded arrangement of ``lines`` that lie inside ``domain``.

    Every edge exists once in the arrangement, so faces share identical
    vertices, also those added by ``densify`` (maximum segment length).
    """
    noded = shapely.union_all(lines, grid_size=_GRID_M)
    if densify:
        noded = shapely.segmentize(noded, densify)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    inside = shapely.contains(domain, shapely.point_on_surface(faces))
    return faces[inside]


def _single_parts(
    faces: np.ndarray, owner: np.ndarray, n: int, anchors: list[shapely.Point], group: np.ndarray | None = None
) -> list[shapely.Polygon]:
    """Union the faces of each owner into one polygon.

    Parts not holding the owner's ``anchor`` are handed to the neighbouring
    owner (of the same ``group`` when possible) that shares the longest edge.
    """
    owner = owner.copy()
    for _ in range(10):
        polys = [shapely.coverage_union_all(faces[owner == i]) for i in range(n)]
        moved = False
        for i, poly in enumerate(polys):
            if isinstance(poly, shapely.Polygon):
                continue
            parts = shapely.get_parts(poly)
            keep = next((k for k, p in enumerate(parts) if p.covers(anchors[i])), int(np.argmax(shapely.area(parts))))
            for k, part in enumerate(parts):
                if k == keep:
                    continue
                shared = shapely.length(shapely.intersection(part.boundary, [p.boundary for p in polys]))
                shared[i] = 0.0
                if group is not None and (shared[group == group[i]] > 0).any():
                    shared[group != group[i]] = 0.0
                sel = shapely.within(shapely.point_on_surface(faces), part) & (owner == i)
                owner[sel] = int(np.argmax(shared))
                moved = True
        if not moved:
            return [shapely.normalize(p) for p in polys]
    raise RuntimeError("could not make every cell a single polygon")  # pragma: no cover


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------


def _town_sigma(population: int) -> float:
    """Spread (m) of the town around the seat: grows with population (Prishtinë about 3.3 km)."""
    return 400.0 + 6.0 * np.sqrt(population)


def _urban_share(population: int) -> float:
    """Share of residents (and town sections) in the town around the seat."""
    return float(np.clip(0.30 + 0.15 * np.log2(population / 10000.0), 0.25, 0.75))


def _uniform_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform in ``poly`` (coordinates as the polygon), by rejection."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = np.zeros((0, 2))
    while len(out) < n:
        k = max(16, int(2.5 * (n - len(out)) * (maxx - minx) * (maxy - miny) / max(poly.area, 1.0)))
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _gaussian_in(
    poly: shapely.Geometry, n: int, centre: np.ndarray, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points from a Gaussian around ``centre`` (sigma in m), kept inside ``poly``."""
    shapely.prepare(poly)
    out = np.zeros((0, 2))
    tries = 0
    while len(out) < n:
        k = max(16, 2 * (n - len(out)))
        xy = centre + rng.normal(0.0, sigma, (k, 2))
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
        tries += 1
        if tries > 50:  # the Gaussian barely overlaps the polygon: fill uniformly
            out = np.vstack([out, _uniform_in(poly, n - len(out), rng)])
    return out[:n]


def _spaced(candidates: np.ndarray, existing: np.ndarray, k: int) -> np.ndarray:
    """Mitchell's best candidate: pick, group by group of ``k`` candidates, the one farthest from the rest."""
    pts = existing.copy()
    for g in range(len(candidates) // k):
        cand = candidates[g * k : (g + 1) * k]
        d = np.sqrt(((cand[:, None, :] - pts[None, :, :]) ** 2).sum(-1)).min(1)
        pts = np.vstack([pts, cand[np.argmax(d)]])
    return pts[len(existing) :]


def _section_seeds(
    m: places.Municipality, poly: shapely.Polygon, seat: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seed points (EPSG:9141) of a municipality's sections and whether each is a town section."""
    n = max(1, int(round(m.population / RESIDENTS_PER_SECTION)))
    seeds = seat[None, :].copy()
    if n == 1:
        return seeds, np.array([True])
    n_town = int(round((n - 1) * _urban_share(m.population)))
    n_rural = n - 1 - n_town
    k = 12
    inner = poly.buffer(-150.0)
    if inner.is_empty:
        inner = poly
    sigma = _town_sigma(m.population)
    town = _spaced(_gaussian_in(inner, n_town * k, seat, sigma, rng), seeds, k) if n_town else np.zeros((0, 2))
    seeds = np.vstack([seeds, town])
    rural = _spaced(_uniform_in(inner, n_rural * k, rng), seeds, k) if n_rural else np.zeros((0, 2))
    return np.vstack([seeds, rural]), np.array([True] * (1 + n_town) + [False] * n_rural)


def _build_sections(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Section polygons (EPSG:9141), grouped by municipality, each group ordered by distance from the seat.

    Columns: ``municipality_index`` (into ``places.municipalities()``), ``town``, geometry.
    """
    ms = places.municipalities()
    mun_polys = _municipality_polygons()
    seats = _seats_metric()
    outline = _outline_metric()
    seeds, town, mun_of = [], [], []
    lines: list[shapely.Geometry] = [p.exterior for p in mun_polys]
    for i, (m, poly) in enumerate(zip(ms, mun_polys, strict=True)):
        s, t = _section_seeds(m, poly, seats[i], rng)
        order = np.argsort(np.linalg.norm(s - seats[i], axis=1), kind="stable")
        s, t = s[order], t[order]
        seeds.append(s)
        town.append(t)
        mun_of.append(np.full(len(s), i))
        if len(s) > 1:
            vor = shapely.voronoi_polygons(shapely.MultiPoint(s), extend_to=poly.envelope.buffer(1000.0))
            edges = shapely.intersection(shapely.union_all(shapely.boundary(shapely.get_parts(vor))), poly)
            lines.append(edges)
    seeds_a = np.vstack(seeds)
    town_a = np.concatenate(town)
    mun_a = np.concatenate(mun_of)
    faces = _faces(lines, outline, densify=_DENSIFY_M)
    pts = shapely.point_on_surface(faces)
    tree = shapely.STRtree(list(mun_polys))
    face_idx, mun_idx = tree.query(pts, predicate="within")
    face_mun = np.full(len(faces), -1)
    face_mun[face_idx] = mun_idx
    if (face_mun < 0).any():  # slivers on a municipal edge: nearest municipality
        lost = np.flatnonzero(face_mun < 0)
        face_mun[lost] = tree.nearest(pts[lost])
    xy = shapely.get_coordinates(pts)
    owner = np.zeros(len(faces), dtype=int)
    for i in range(len(ms)):
        sel = np.flatnonzero(face_mun == i)
        cand = np.flatnonzero(mun_a == i)
        d = ((xy[sel, None, :] - seeds_a[None, cand, :]) ** 2).sum(-1)
        owner[sel] = cand[np.argmin(d, axis=1)]
    polys = _single_parts(faces, owner, len(seeds_a), [shapely.Point(p) for p in seeds_a], group=mun_a)
    return gpd.GeoDataFrame({"municipality_index": mun_a, "town": town_a}, geometry=polys, crs=_METRIC)


# --- names ---------------------------------------------------------------------------------------------------

# fmt: off
_GIVEN_SQ = ("Arben", "Besnik", "Blerim", "Driton", "Fatmir", "Gëzim", "Ilir", "Kushtrim", "Lulzim", "Valon",
             "Agon", "Burim", "Egzon", "Faton", "Armend", "Arta", "Blerta", "Donika", "Drita", "Fitore", "Vjosa",
             "Teuta", "Mimoza", "Shqipe", "Liridona", "Ardita", "Lindita", "Merita", "Valbona", "Zana")
_SURNAME_SQ = ("Berisha", "Gashi", "Krasniqi", "Morina", "Hoxha", "Shala", "Kryeziu", "Bytyqi", "Rexhepi",
               "Hyseni", "Mustafa", "Halimi", "Zeka", "Kastrati", "Rama", "Sylejmani", "Ahmeti", "Ismaili",
               "Jashari", "Thaçi", "Bajrami", "Osmani", "Kelmendi", "Dervishi")
_GIVEN_SR = ("Marko", "Nikola", "Stefan", "Miloš", "Nemanja", "Dragan", "Zoran", "Đorđe", "Jelena", "Milica",
             "Ana", "Dragana", "Ivana", "Marija", "Snežana", "Vesna")
_SURNAME_SR = ("Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić", "Stanković",
               "Pavlović", "Milošević", "Todorović", "Kostić")

_ONSET_SQ = ("B", "Br", "D", "Dr", "Dh", "F", "G", "Gj", "Gr", "H", "J", "K", "Kr", "L", "Ll", "M", "N", "P",
             "Pr", "R", "Rr", "S", "Sh", "St", "T", "Th", "V", "Xh", "Z")
_VOWEL_SQ = ("a", "e", "i", "o", "u", "ë", "a", "e", "i")
_MIDDLE_SQ = ("r", "n", "l", "sh", "v", "k", "m", "t", "ç", "j", "d", "g", "ll", "rr", "nj", "b", "z")
_END_SQ = ("ovc", "ishtë", "ajë", "icë", "an", "ec", "in", "is", "aj", "ë", "nik", "iq", "oc", "anë", "ak", "orë")
_ONSET_SR = ("B", "Br", "D", "Dr", "G", "Gr", "J", "K", "Kr", "L", "M", "N", "P", "Pr", "R", "S", "St", "T",
             "V", "Z", "Ž", "Č", "Š")
_VOWEL_SR = ("a", "e", "i", "o", "u")
_MIDDLE_SR = ("r", "n", "l", "v", "k", "m", "t", "d", "g", "j", "š", "č", "b", "z")
_END_SR = ("ovac", "ica", "ane", "ište", "ovo", "evo", "inci", "ac", "ina", "ići", "ak", "ovce")
# fmt: on


class _Names:
    """Made-up, unique place names built from syllables (Albanian- or Serbian-looking)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def place(self, serbian: bool) -> str:
        onset, vowel, middle, end = (
            (_ONSET_SR, _VOWEL_SR, _MIDDLE_SR, _END_SR) if serbian else (_ONSET_SQ, _VOWEL_SQ, _MIDDLE_SQ, _END_SQ)
        )
        r = self.rng
        while True:
            name = r.choice(onset) + r.choice(vowel)
            if r.random() < 0.6:
                name += r.choice(middle) + r.choice(vowel)
            tail = r.choice(end)
            if r.random() < 0.5 or tail[0] in "aeiouëy":  # no two vowels in a row
                tail = r.choice(middle) + tail
            name += tail
            if 4 <= len(name) <= 12 and name not in self.used:
                self.used.add(name)
                return name


def _officers(rng: np.random.Generator, municipality: str, count: int, start: int, emails: set[str]) -> list[str]:
    """``count`` fictitious officers: "Name Surname (+383 49 000 123, name.surname@example.invalid)"."""
    out = []
    serbian_share = 0.9 if municipality in SERBIAN_MUNICIPALITIES else 0.7 if municipality in _SERBIAN_NAMES else 0.05
    for k in range(count):
        if rng.random() < serbian_share:
            given, surname = rng.choice(_GIVEN_SR), rng.choice(_SURNAME_SR)
        else:
            given, surname = rng.choice(_GIVEN_SQ), rng.choice(_SURNAME_SQ)
        base = f"{places.normalize(given).replace(' ', '')}.{places.normalize(surname).replace(' ', '')}"
        email, n = f"{base}@example.invalid", 2
        while email in emails:
            email, n = f"{base}{n}@example.invalid", n + 1
        emails.add(email)
        number = start + k
        phone = f"+383 49 {number // 1000:03d} {number % 1000:03d}"
        out.append(f"{given} {surname} ({phone}, {email})")
    return out


def _describe_sections(
    f: gpd.GeoDataFrame, rng: np.random.Generator, resident_rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Add ids, names, station, population, officers and villages to the section polygons (EPSG:9141)."""
    ms = places.municipalities()
    ids, names, stations, villages, officers, public, population = [], [], [], [], [], [], []
    namer = _Names(rng)
    emails: set[str] = set()
    n_officers = 0
    for i, m in enumerate(ms):
        rows = np.flatnonzero(f["municipality_index"].to_numpy() == i)
        serbian = m.name in SERBIAN_MUNICIPALITIES
        code = MUNICIPALITY_CODES[m.name]
        # residents: town Gaussian + uniform rest, counted per section (Monte Carlo), then rounded exactly
        geoms = f.geometry.iloc[rows].to_numpy()
        mun_poly = _municipality_polygons()[i]
        n_mc = 4000
        n_town = int(n_mc * _urban_share(m.population))
        pts = np.vstack(
            [
                _gaussian_in(mun_poly, n_town, _seats_metric()[i], _town_sigma(m.population), resident_rng),
                _uniform_in(mun_poly, n_mc - n_town, resident_rng),
            ]
        )
        counts = np.zeros(len(rows))
        tree = shapely.STRtree(geoms)
        p_idx, g_idx = tree.query(shapely.points(pts), predicate="intersects")
        np.add.at(counts, g_idx[np.unique(p_idx, return_index=True)[1]], 1)
        weights = counts + 0.03 * n_mc / len(rows)
        population.extend(_largest_remainder(m.population * weights / weights.sum()))
        for k, r in enumerate(rows):
            sid = f"{code}-{k + 1:02d}"
            is_town = bool(f["town"].iloc[r])
            if is_town:
                hoods = [
                    ("Naselje " if serbian else "Lagjja ") + namer.place(serbian)
                    for _ in range(int(rng.integers(1, 3)))
                ]
                label = ("Centar" if serbian else "Qendra") if k == 0 else hoods[0]
                vill = hoods
            else:
                vill = [namer.place(serbian) for _ in range(int(rng.integers(1, 7)))]
                label = vill[0]
            ids.append(sid)
            names.append(f"{m.name} {k + 1:02d} – {label}")
            stations.append(f"Stacioni Policor {m.name}")
            villages.append(schema.LIST_SEPARATOR.join(vill))
            count = int(rng.integers(2, 4))
            officers.append(schema.LIST_SEPARATOR.join(_officers(rng, m.name, count, 1 + n_officers, emails)))
            n_officers += count
            public.append(bool(rng.random() < 0.6))
    return gpd.GeoDataFrame(
        {
            "section_id": ids,
            "section_name": names,
            "municipality": [ms[i].name for i in f["municipality_index"]],
            "region": [ms[i].region for i in f["municipality_index"]],
            "station": stations,
            "population": np.array(population, dtype=np.int64),
            "officers": officers,
            "officers_public": public,
            "villages": villages,
            "municipality_index": f["municipality_index"].to_numpy(),
            "town": f["town"].to_numpy(),
        },
        geometry=f.geometry.to_numpy(),
        crs=_METRIC,
    )


def _largest_remainder(values: np.ndarray) -> list[int]:
    """Round non-negative values to integers keeping their (integer) sum."""
    floor = np.floor(values).astype(np.int64)
    rest = int(round(values.sum())) - int(floor.sum())
    if rest > 0:
        floor[np.argsort(-(values - floor), kind="stable")[:rest]] += 1
    return floor.tolist()


# ---------------------------------------------------------------------------------------------------------------
# Time profiles
# ---------------------------------------------------------------------------------------------------------------

# fmt: off
# month factors, January..December; weekday factors, Monday..Sunday; hour factors 0..23
_MONTH = {
    "accident": (1.12, 0.92, 0.90, 0.92, 0.98, 1.02, 1.24, 1.30, 1.00, 0.95, 0.90, 1.16),  # diaspora: Jul-Aug, Dec-Jan
    "crime": (0.92, 0.88, 0.95, 0.98, 1.02, 1.05, 1.10, 1.10, 1.02, 1.00, 0.98, 1.00),
    "ticket": (0.95, 0.92, 0.98, 1.00, 1.05, 1.08, 1.14, 1.14, 1.00, 0.98, 0.92, 0.88),
}
_WEEKDAY = {
    "accident": (0.95, 0.93, 0.95, 1.00, 1.16, 1.13, 0.88),
    "crime": (0.97, 0.96, 0.97, 0.99, 1.06, 1.10, 0.95),
    "ticket": (1.10, 1.08, 1.08, 1.06, 1.04, 0.88, 0.76),
}
_HOURS = {
    "accident": (0.9, 0.6, 0.5, 0.4, 0.4, 0.7, 1.5, 2.6, 2.8, 2.2, 2.0, 2.1,
                 2.3, 2.4, 2.7, 3.1, 3.3, 3.2, 2.8, 2.3, 1.9, 1.6, 1.3, 1.1),
    "fatal": (1.6, 1.4, 1.2, 1.0, 0.9, 0.9, 1.2, 1.6, 1.6, 1.4, 1.4, 1.5,
              1.6, 1.7, 1.8, 2.0, 2.1, 2.2, 2.2, 2.1, 2.0, 1.9, 1.8, 1.7),
    "day": (0.5, 0.4, 0.3, 0.3, 0.3, 0.4, 0.7, 1.2, 1.7, 2.0, 2.2, 2.3,
            2.3, 2.3, 2.2, 2.2, 2.1, 2.0, 1.9, 1.7, 1.4, 1.1, 0.8, 0.6),
    "night": (2.0, 1.8, 1.4, 1.0, 0.6, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
              1.0, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.4, 2.3),
    "burglary": (1.4, 1.5, 1.5, 1.3, 1.0, 0.7, 0.7, 0.9, 1.2, 1.4, 1.5, 1.5,
                 1.4, 1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.3),
    "evening": (1.2, 1.0, 0.7, 0.5, 0.4, 0.4, 0.5, 0.7, 0.9, 1.0, 1.0, 1.1,
                1.1, 1.2, 1.3, 1.5, 1.7, 1.9, 2.1, 2.2, 2.2, 2.0, 1.7, 1.4),
}
#: per category: (month/weekday profile, hour profile, yearly trend, location mix town/road/spread)
_PROFILE: dict[str, tuple[str, str, float, tuple[float, float, float]]] = {
    "accident_fatal": ("accident", "fatal", -0.02, (0.25, 0.55, 0.20)),
    "accident_injury": ("accident", "accident", 0.02, (0.45, 0.38, 0.17)),
    "accident_damage": ("accident", "accident", 0.03, (0.55, 0.32, 0.13)),
    "theft": ("crime", "day", -0.01, (0.80, 0.0, 0.20)),
    "burglary": ("crime", "burglary", -0.02, (0.65, 0.0, 0.35)),
    "robbery": ("crime", "night", 0.0, (0.85, 0.0, 0.15)),
    "assault": ("crime", "night", 0.0, (0.70, 0.0, 0.30)),
    "domestic_violence": ("crime", "evening", 0.03, (0.55, 0.0, 0.45)),
    "sexual_offence": ("crime", "night", 0.02, (0.70, 0.0, 0.30)),
    "drugs": ("crime", "night", 0.04, (0.85, 0.0, 0.15)),
    "public_order": ("crime", "night", 0.0, (0.80, 0.0, 0.20)),
    "other": ("crime", "day", 0.0, (0.70, 0.0, 0.30)),
}
# fmt: on


def _days() -> pd.DatetimeIndex:
    return pd.date_range(PERIOD_START, PERIOD_END, freq="D")


def _months() -> pd.DatetimeIndex:
    """First days of the 36 months of the period."""
    return pd.date_range(PERIOD_START, PERIOD_END, freq="MS")


def _monthly_expected(per_year: float, trend: float, kind: str, start: pd.Timestamp = PERIOD_START) -> np.ndarray:
    """Expected count per month: ``per_year`` spread by the month factors, with a yearly ``trend``.

    The middle of the period is at ``per_year``; months before ``start`` get 0.
    """
    months = _months()
    factor = np.asarray(_MONTH[kind])[months.month - 1]
    years = (np.arange(len(months)) - (len(months) - 1) / 2) / 12
    mu = per_year / 12 * factor / np.mean(_MONTH[kind]) * (1.0 + trend) ** years
    return np.where(months >= start, mu, 0.0)


def _monthly_counts(mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Counts per month: each calendar year's total within a few % of its expected total, split multinomially."""
    year = _months().year.to_numpy()
    out = np.zeros(len(mu), dtype=int)
    for y in np.unique(year):
        sel = year == y
        total = mu[sel].sum()
        if total > 0:
            n = int(round(total * np.exp(0.02 * rng.standard_normal())))
            out[sel] = rng.multinomial(n, mu[sel] / total)
    return out


def _draw_days(month_counts: np.ndarray, days: pd.DatetimeIndex, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Day indexes (into ``days``): ``month_counts[m]`` days of month m, weighted by the weekday factors."""
    weights = np.asarray(_WEEKDAY[kind])[days.day_of_week]
    month = (days.year - PERIOD_START.year) * 12 + days.month - PERIOD_START.month
    out = []
    for m, n in enumerate(month_counts):
        idx = np.flatnonzero(month == m)
        if n > 0:
            out.append(np.repeat(idx, rng.multinomial(int(n), weights[idx] / weights[idx].sum())))
    return np.concatenate(out) if out else np.zeros(0, dtype=int)


def _timestamps(day_idx: np.ndarray, days: pd.DatetimeIndex, hours: str, rng: np.random.Generator) -> np.ndarray:
    """Local timestamps (minute resolution) on the given days, hour of day drawn from a profile."""
    p = np.asarray(_HOURS[hours], dtype=float)
    hour = rng.choice(24, size=len(day_idx), p=p / p.sum())
    minute = rng.integers(0, 60, len(day_idx))
    base = days.values.astype("datetime64[m]")[day_idx]
    return base + (hour * 60 + minute).astype("timedelta64[m]")


# ---------------------------------------------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Space:
    """Everything points are drawn from, in EPSG:9141."""

    sections: gpd.GeoDataFrame  # EPSG:9141, contract columns + municipality_index + town
    inner: shapely.Geometry  # the outline shrunk by the border clearance
    section_inner: np.ndarray  # each section ∩ inner
    roads: list[tuple[np.ndarray, np.ndarray]]  # segments (a, b)
    road_length: np.ndarray  # road length (m) inside each section
    _municipality_inner: dict[int, shapely.Geometry] = field(default_factory=dict)

    def town(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Gaussian around seats (municipality ∝ town population), spread growing with population."""
        ms = places.municipalities()
        w = np.array([m.population * _urban_share(m.population) for m in ms])
        municipalities = rng.choice(len(ms), size=n, p=w / w.sum())
        seats = _seats_metric()
        sigma = np.array([_town_sigma(m.population) for m in ms])
        out = np.empty((n, 2))
        todo = np.arange(n)
        while len(todo):
            xy = seats[municipalities[todo]] + rng.normal(0.0, 1.0, (len(todo), 2)) * sigma[municipalities[todo], None]
            ok = shapely.contains_xy(self.inner, xy[:, 0], xy[:, 1])
            out[todo[ok]] = xy[ok]
            todo = todo[~ok]
        return out

    def road(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Along the main roads (straight seat-to-seat segments), 60 m spread across the road."""
        a = np.array([s[0] for s in self.roads])
        b = np.array([s[1] for s in self.roads])
        length = np.linalg.norm(b - a, axis=1)
        out = np.empty((n, 2))
        todo = np.arange(n)
        while len(todo):
            k = rng.choice(len(a), size=len(todo), p=length / length.sum())
            t = rng.random(len(todo))[:, None]
            normal = np.column_stack([-(b - a)[k, 1], (b - a)[k, 0]]) / length[k, None]
            xy = a[k] + t * (b - a)[k] + normal * rng.normal(0.0, 60.0, (len(todo), 1))
            ok = shapely.contains_xy(self.inner, xy[:, 0], xy[:, 1])
            out[todo[ok]] = xy[ok]
            todo = todo[~ok]
        return out

    def spread(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform inside sections drawn ∝ population, in random order."""
        w = self.sections["population"].to_numpy(dtype=float)
        counts = rng.multinomial(n, w / w.sum())
        parts = [_uniform_in(self.section_inner[s], int(counts[s]), rng) for s in np.flatnonzero(counts)]
        out = np.vstack(parts) if parts else np.zeros((0, 2))
        return out[rng.permutation(n)]

    def gaussian(self, n: int, centre: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
        """Gaussian around ``centre`` (sigma in m), inside the border clearance."""
        return _gaussian_in(self.inner, n, centre, sigma, rng)

    def municipality_inner(self, index: int) -> shapely.Geometry:
        """The municipality (union of its sections) inside the border clearance."""
        if index not in self._municipality_inner:
            own = np.flatnonzero(self.sections["municipality_index"].to_numpy() == index)
            self._municipality_inner[index] = shapely.union_all(self.section_inner[own])
        return self._municipality_inner[index]


def _space(sections: gpd.GeoDataFrame) -> _Space:
    inner = _outline_metric().buffer(-_BORDER_CLEARANCE_M)
    section_inner = shapely.intersection(sections.geometry.to_numpy(), inner)
    seats = _seats_metric()
    index = {m.name: i for i, m in enumerate(places.municipalities())}
    roads = [(seats[index[a]], seats[index[b]]) for a, b in ROADS]
    lines = shapely.linestrings([[a, b] for a, b in roads])
    road_length = np.array([shapely.length(shapely.intersection(lines, g)).sum() for g in section_inner])
    return _Space(sections, inner, section_inner, roads, road_length)


def _hotspot_centre(h: Hotspot) -> np.ndarray:
    seat = _seats_metric()[[m.name for m in places.municipalities()].index(h.municipality)]
    angle = np.deg2rad(h.bearing_deg)
    return seat + h.distance_m * np.array([np.sin(angle), np.cos(angle)])


def hotspot_centres() -> list[tuple[float, float]]:
    """Centres of the planted :data:`HOTSPOTS`, in their order: ``(lon, lat)``, WGS84 degrees."""
    out = []
    for h in HOTSPOTS:
        x, y = _hotspot_centre(h)
        lon, lat = _TO_WGS84.transform(x, y)
        out.append((float(lon), float(lat)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------------------------------


def _point_incidents(space: _Space, rng: np.random.Generator) -> pd.DataFrame:
    """Point incidents: planted hotspots, then each category's rest from towns, roads and the population."""
    days = _days()
    frames = []
    planted = {c: np.zeros(len(_months())) for c in INCIDENT_TARGETS}
    for h in HOTSPOTS:
        centre = _hotspot_centre(h)
        for cat, per_year in h.per_year.items():
            kind, hours, _, _ = _PROFILE[cat]
            mu = _monthly_expected(per_year, 0.0, kind, start=h.start)
            planted[cat] += mu
            day_idx = _draw_days(_monthly_counts(mu, rng), days, kind, rng)
            xy = space.gaussian(len(day_idx), centre, h.sigma_m, rng)
            frames.append((cat, _timestamps(day_idx, days, hours, rng), xy))
    for cat, target in INCIDENT_TARGETS.items():
        kind, hours, trend, (town, road, _) = _PROFILE[cat]
        mu = np.maximum(_monthly_expected(target, trend, kind) - planted[cat], 0.0)
        day_idx = _draw_days(_monthly_counts(mu, rng), days, kind, rng)
        n = len(day_idx)
        which = rng.choice(3, size=n, p=np.array([town, road, 1.0 - town - road]))
        xy = np.empty((n, 2))
        xy[which == 0] = space.town(int((which == 0).sum()), rng)
        xy[which == 1] = space.road(int((which == 1).sum()), rng)
        xy[which == 2] = space.spread(int((which == 2).sum()), rng)
        frames.append((cat, _timestamps(day_idx, days, hours, rng), xy))
    cat = np.concatenate([np.full(len(t), c) for c, t, _ in frames])
    when = np.concatenate([t for _, t, _ in frames])
    xy = np.vstack([p for _, _, p in frames])
    lon, lat = _TO_WGS84.transform(xy[:, 0], xy[:, 1])
    df = pd.DataFrame(
        {
            "occurred_at": when.astype("datetime64[ms]"),
            "category": cat,
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    )
    df = df.sort_values(["occurred_at", "category", "lon", "lat"], kind="stable").reset_index(drop=True)
    df["incident_id"] = _yearly_ids("I", df["occurred_at"], 6)
    df["section_id"] = None
    df["count"] = 1
    return df


def _yearly_ids(prefix: str, when: pd.Series, width: int) -> list[str]:
    """``<prefix>-<year>-<n>``, numbered from 1 within each calendar year in the given order."""
    years = when.dt.year.to_numpy()
    seq = pd.Series(years).groupby(years).cumcount().to_numpy() + 1
    return [f"{prefix}-{y}-{k:0{width}d}" for y, k in zip(years, seq, strict=True)]


def _tickets(space: _Space, rng: np.random.Generator) -> pd.DataFrame:
    """Daily ticket counts per section (Poisson), weighted by population and main-road length."""
    days = _days()
    pop = space.sections["population"].to_numpy(dtype=float)
    share = 0.6 * pop / pop.sum() + 0.4 * space.road_length / space.road_length.sum()
    weights = np.asarray(_WEEKDAY["ticket"])[days.day_of_week]
    month = (days.year - PERIOD_START.year) * 12 + days.month - PERIOD_START.month
    mu = _monthly_expected(TICKETS_PER_YEAR, 0.01, "ticket")
    per_day = mu[month] * weights / np.bincount(month, weights=weights)[month]
    counts = rng.poisson(per_day[:, None] * share[None, :])
    d, s = np.nonzero(counts)
    df = pd.DataFrame(
        {
            "occurred_at": days.values.astype("datetime64[ms]")[d],
            "category": "traffic_ticket",
            "lat": np.nan,
            "lon": np.nan,
            "section_id": space.sections["section_id"].to_numpy()[s],
            "count": counts[d, s],
        }
    )
    df["incident_id"] = _yearly_ids("T", df["occurred_at"], 6)
    return df


def _incidents_table(points: pd.DataFrame, tickets: pd.DataFrame) -> pa.Table:
    df = pd.concat([points, tickets], ignore_index=True)
    df = df.sort_values(["occurred_at", "incident_id"], kind="stable").reset_index(drop=True)
    codes = [t.code for t in schema.INCIDENT_CATEGORIES]
    return pa.table(
        {
            "incident_id": pa.array(df["incident_id"].tolist(), pa.string()),
            "occurred_at": pa.array(df["occurred_at"].to_numpy().astype("datetime64[ms]"), pa.timestamp("ms")),
            "category": pa.DictionaryArray.from_arrays(
                pa.array([codes.index(c) for c in df["category"]], pa.int8()), pa.array(codes, pa.string())
            ),
            "lat": pa.array(df["lat"].to_numpy(dtype=float), pa.float64(), from_pandas=True),
            "lon": pa.array(df["lon"].to_numpy(dtype=float), pa.float64(), from_pandas=True),
            "section_id": pa.array([None if v is None or v != v else v for v in df["section_id"]], pa.string()),
            "count": pa.array(df["count"].to_numpy(dtype=np.int32), pa.int32()),
        }
    )


# ---------------------------------------------------------------------------------------------------------------
# Committees and meetings
# ---------------------------------------------------------------------------------------------------------------

_ACPS_TOPICS = ("Siguria në shkolla", "Narkotikët", "Siguria në trafik", "Qentë endacakë", "Vjedhjet",
                "Ndriçimi publik", "Rendi publik")  # fmt: skip


def _random_date(rng: np.random.Generator, start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.Timestamp:
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    return a + pd.Timedelta(days=int(rng.integers(0, (b - a).days + 1)))


def _workday(d: pd.Timestamp) -> pd.Timestamp:
    """A weekend day moved to the Friday before (Saturday) or the Monday after (Sunday)."""
    return d + pd.Timedelta(days={5: -1, 6: 1}.get(d.day_of_week, 0))


def _committees(sections: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    ms = places.municipalities()
    rows = []
    for m in ms:
        rows.append(
            {
                "committee_id": f"MCPS-{MUNICIPALITY_CODES[m.name]}",
                "type": "MCPS",
                "name": f"KKSB {m.name}",
                "municipality": m.name,
                "sections": [],
                "established_on": _random_date(rng, "2009-01-01", "2014-12-31"),
                "members": int(rng.integers(12, 26)),
            }
        )
    # LCPS: 1-3 adjacent sections of one municipality, never two committees on one section
    geoms = sections.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = (a != b) & (sections["municipality_index"].to_numpy()[a] == sections["municipality_index"].to_numpy()[b])
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(geoms[a], geoms[b]))
    neighbours: dict[int, list[int]] = {}
    for i, j in zip(a[shared > 1.0], b[shared > 1.0], strict=True):
        neighbours.setdefault(int(i), []).append(int(j))
    covered: set[int] = set()
    weight = np.sqrt([m.population for m in ms])
    counters: dict[str, int] = {}
    mun_index = sections["municipality_index"].to_numpy()
    while sum(r["type"] == "LCPS" for r in rows) < 30:
        i = int(rng.choice(len(ms), p=weight / weight.sum()))
        free = [s for s in np.flatnonzero(mun_index == i) if s not in covered]
        if not free:
            continue
        group = [int(rng.choice(free))]
        for _ in range(int(rng.integers(0, 3))):
            options = sorted({n for g in group for n in neighbours.get(g, []) if n not in covered and n not in group})
            if options:
                group.append(int(rng.choice(options)))
        covered.update(group)
        code = MUNICIPALITY_CODES[ms[i].name]
        counters[code] = counters.get(code, 0) + 1
        place = sections["villages"].iloc[group[0]].split(schema.LIST_SEPARATOR)[0]
        place = place.removeprefix("Lagjja ").removeprefix("Naselje ")
        rows.append(
            {
                "committee_id": f"LCPS-{code}-{counters[code]:02d}",
                "type": "LCPS",
                "name": f"KLSP {place}",
                "municipality": ms[i].name,
                "sections": sorted(sections["section_id"].iloc[group]),
                "established_on": _random_date(rng, "2012-01-01", "2025-06-30"),
                "members": int(rng.integers(7, 16)),
            }
        )
    pop = np.array([m.population for m in ms], dtype=float)
    acps_counters: dict[str, int] = {}
    for _ in range(12):
        i = int(rng.choice(len(ms), p=pop / pop.sum()))
        code = MUNICIPALITY_CODES[ms[i].name]
        acps_counters[code] = acps_counters.get(code, 0) + 1
        own = np.flatnonzero(mun_index == i)
        group = sorted(
            sections["section_id"].iloc[rng.choice(own, size=min(len(own), int(rng.integers(1, 3))), replace=False)]
        )
        rows.append(
            {
                "committee_id": f"ACPS-{code}-{acps_counters[code]:02d}",
                "type": "ACPS",
                "name": f"EVSP {ms[i].name} – {rng.choice(_ACPS_TOPICS)}",
                "municipality": ms[i].name,
                "sections": group,
                "established_on": _random_date(rng, "2024-01-01", "2026-06-30"),
                "members": int(rng.integers(5, 10)),
            }
        )
    return pd.DataFrame(rows)


def _meetings(committees: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """Meetings of every committee, and each committee's ``active`` flag."""
    months = pd.date_range(PERIOD_START, PERIOD_END, freq="MS")
    # lapsed: 4 MCPS (not the capital's), 5 LCPS stop meeting 6-12 months before the end
    mcps = committees.index[(committees["type"] == "MCPS") & (committees["municipality"] != "Prishtinë")]
    lcps = committees.index[committees["type"] == "LCPS"]
    lapsed = list(rng.choice(mcps, 4, replace=False)) + list(rng.choice(lcps, 5, replace=False))
    stop = pd.Series(PERIOD_END, index=committees.index)
    for k in lapsed:
        stop[k] = PERIOD_END - pd.Timedelta(days=int(rng.integers(185, 330)))
    active = pd.Series(True, index=committees.index)
    for k in lapsed[:2] + lapsed[4:7]:  # some registers still call a lapsed committee active
        active[k] = False
    rows = []
    for k, c in committees.iterrows():
        start = max(PERIOD_START, c["established_on"])
        dates: list[pd.Timestamp] = []
        if c["type"] == "MCPS":
            for month in months:
                if rng.random() < (0.5 if month.month == 8 else 0.85):
                    dates.append(month + pd.Timedelta(days=int(rng.integers(2, 26))))
        elif c["type"] == "LCPS":
            d = start + pd.Timedelta(days=int(rng.integers(0, 45)))
            while d <= stop[k]:
                dates.append(d)
                d = d + pd.Timedelta(days=int(rng.integers(30, 93)))
        else:  # an action team meets a few times about one problem, then disbands
            d = c["established_on"] + pd.Timedelta(days=int(rng.integers(7, 30)))
            for _ in range(int(rng.integers(3, 11))):
                dates.append(d)
                d = d + pd.Timedelta(days=int(rng.integers(30, 91)))
            stop[k] = min(d, PERIOD_END)
            active[k] = bool(d > PERIOD_END)
        held = sorted({w for w in map(_workday, dates) if start <= w <= stop[k]})
        members = int(c["members"])
        for d in held:
            extra = {"MCPS": 2.0, "LCPS": 6.0, "ACPS": 0.5}[c["type"]]
            attendance = int(rng.binomial(members, 0.7) + rng.poisson(extra))
            rows.append(
                {
                    "meeting_id": f"M-{c['committee_id']}-{d:%Y%m%d}",
                    "committee_id": c["committee_id"],
                    "held_on": d,
                    "attendance": max(attendance, 2),
                }
            )
    meetings = pd.DataFrame(rows).sort_values(["held_on", "meeting_id"], kind="stable").reset_index(drop=True)
    return meetings, active


# ---------------------------------------------------------------------------------------------------------------
# Concerns
# ---------------------------------------------------------------------------------------------------------------

# fmt: off
#: Concern category mix: partly like the incidents (road safety), partly not (lighting, stray animals).
_CONCERN_MIX = {
    "road_safety": 0.24, "public_lighting": 0.12, "stray_animals": 0.12, "theft": 0.10, "drugs": 0.09,
    "noise_public_order": 0.09, "school_safety": 0.08, "illegal_construction": 0.06, "domestic_violence": 0.03,
    "other": 0.07,
}
#: Median days to resolve, per concern category.
_RESOLVE_DAYS = {
    "road_safety": 60, "public_lighting": 30, "stray_animals": 45, "theft": 40, "drugs": 70,
    "noise_public_order": 25, "school_safety": 35, "illegal_construction": 120, "domestic_violence": 30, "other": 40,
}
#: Description templates per category: (Albanian, Serbian).
_DESCRIPTIONS = {
    "road_safety": (
        ("Shpejtësi e lartë pranë shkollës", "Mungon trotuari në rrugën kryesore", "Vozitje e rrezikshme natën",
         "Parkim i paligjshëm në qendër", "Mungojnë shenjat e trafikut te kryqëzimi"),
        ("Velika brzina kod škole", "Nema trotoara na glavnom putu", "Opasna vožnja noću",
         "Nepropisno parkiranje u centru", "Nedostaju saobraćajni znakovi na raskrsnici")),
    "drugs": (
        ("Shitje e drogës pranë parkut", "Të rinj që përdorin narkotikë natën", "Shiringa të hedhura pranë shkollës"),
        ("Prodaja droge kod parka", "Mladi koriste narkotike noću", "Bačeni špricevi kod škole")),
    "theft": (
        ("Vjedhje të shpeshta të veturave", "Vjedhje në dyqanet e lagjes", "Vjedhje e kabllove elektrike"),
        ("Česte krađe automobila", "Krađe u prodavnicama u naselju", "Krađa električnih kablova")),
    "public_lighting": (
        ("Rruga pa ndriçim natën", "Llambat publike nuk punojnë prej muajsh",
         "Mungon ndriçimi te stacioni i autobusit"),
        ("Ulica bez rasvete noću", "Javna rasveta ne radi mesecima", "Nema rasvete na autobuskoj stanici")),
    "stray_animals": (
        ("Qen endacakë pranë shkollës", "Tufa qensh në lagje natën", "Kafshë të lira në rrugë"),
        ("Psi lutalice kod škole", "Čopor pasa u naselju noću", "Slobodne životinje na putu")),
    "school_safety": (
        ("Nxënësit kalojnë rrugën pa vendkalim", "Persona të panjohur para shkollës",
         "Dhunë mes nxënësve pas mësimit"),
        ("Učenici prelaze put bez pešačkog prelaza", "Nepoznate osobe ispred škole",
         "Nasilje među učenicima posle nastave")),
    "noise_public_order": (
        ("Zhurmë e lartë nga lokalet pas mesnate", "Grupe të rinjsh që prishin qetësinë", "Gara me vetura natën"),
        ("Glasna muzika iz lokala posle ponoći", "Grupe mladih remete mir", "Trke automobilima noću")),
    "domestic_violence": (
        ("Raste të dhunës në familje në lagje", "Nevojë për informim për dhunën në familje"),
        ("Slučajevi nasilja u porodici u naselju", "Potrebno informisanje o nasilju u porodici")),
    "illegal_construction": (
        ("Ndërtim pa leje në tokë publike", "Ndërtim që bllokon rrugën"),
        ("Bespravna gradnja na javnom zemljištu", "Gradnja koja blokira put")),
    "other": (
        ("Mbeturina të hedhura pranë lumit", "Kërkesë për patrullë më të shpeshtë"),
        ("Smeće bačeno pored reke", "Zahtev za češće patrole")),
}
#: Action templates: (Albanian, Serbian), by category where specific, else general.
_ACTIONS = {
    "road_safety": (("Kontrolle të shpejtësisë dhe patrullë shtesë", "Kërkesë komunës për shenja trafiku"),
                    ("Kontrola brzine i dodatne patrole", "Zahtev opštini za saobraćajne znakove")),
    "public_lighting": (("Kërkesë komunës për riparimin e ndriçimit",), ("Zahtev opštini za popravku rasvete",)),
    "stray_animals": (("Rasti iu kalua shërbimit komunal veterinar",), ("Slučaj prosleđen opštinskoj veterini",)),
    "illegal_construction": (("Rasti iu kalua inspektoratit komunal",), ("Slučaj prosleđen opštinskoj inspekciji",)),
}
_ACTIONS_GENERAL = (("Patrullim i shtuar në zonë", "Takim me banorët", "Rasti u diskutua me komunën"),
                    ("Pojačano patroliranje u zoni", "Sastanak sa stanovnicima", "Slučaj razmotren sa opštinom"))
# fmt: on


def _concern_points(
    space: _Space, category: str, mun: int, lcps_sections: list[int] | None, rng: np.random.Generator
) -> np.ndarray:
    """One point (EPSG:9141) near where that kind of concern would be raised, inside the municipality."""
    sec = space.sections
    own = np.flatnonzero(sec["municipality_index"].to_numpy() == mun)
    if lcps_sections:
        own = np.array(lcps_sections)
        w = sec["population"].to_numpy(dtype=float)[own] + 1.0
        s = int(rng.choice(own, p=w / w.sum()))
        return _uniform_in(space.section_inner[s], 1, rng)[0]
    region = space.municipality_inner(mun)
    if category == "road_safety" and rng.random() < 0.5 and space.road_length[own].sum() > 0:
        for _ in range(200):
            p = space.road(1, rng)[0]
            if region.contains(shapely.Point(p)):
                return p
    if category in ("theft", "drugs", "noise_public_order", "school_safety", "domestic_violence", "road_safety"):
        m = places.municipalities()[mun]
        return _gaussian_in(region, 1, _seats_metric()[mun], _town_sigma(m.population), rng)[0]
    w = np.sqrt(sec["population"].to_numpy(dtype=float)[own]) + 1.0
    s = int(rng.choice(own, p=w / w.sum()))
    return _uniform_in(space.section_inner[s], 1, rng)[0]


def _concerns(
    space: _Space, committees: pd.DataFrame, meetings: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    ms = places.municipalities()
    mun_index = {m.name: i for i, m in enumerate(ms)}
    sec_index = {sid: i for i, sid in enumerate(space.sections["section_id"])}
    by_id = committees.set_index("committee_id")
    cats = list(_CONCERN_MIX)
    mix = np.array(list(_CONCERN_MIX.values()))
    raised = []  # (date, municipality index, source, meeting_id, lcps sections)
    for _, mt in meetings.iterrows():
        c = by_id.loc[mt["committee_id"]]
        lam = {"MCPS": 0.5, "LCPS": 1.6, "ACPS": 0.0}[c["type"]]
        source = {"MCPS": "mcps_meeting", "LCPS": "lcps_meeting"}.get(c["type"])
        lcps = [sec_index[s] for s in c["sections"]] if c["type"] == "LCPS" else None
        for _ in range(int(rng.poisson(lam))):
            raised.append((mt["held_on"], mun_index[c["municipality"]], source, mt["meeting_id"], lcps))
    pop = np.array([m.population for m in ms], dtype=float)
    days = _days()
    day_w = np.where(days.day_of_week < 5, 1.0, 0.4) * np.linspace(0.85, 1.15, len(days))
    sources = ("walk_in", "phone", "online", "survey")
    for _ in range(max(0, 3000 - len(raised)) + int(rng.integers(-40, 41))):
        raised.append(
            (
                days[int(rng.choice(len(days), p=day_w / day_w.sum()))],
                int(rng.choice(len(ms), p=pop / pop.sum())),
                str(rng.choice(sources, p=[0.35, 0.25, 0.25, 0.15])),
                None,
                None,
            )
        )
    raised.sort(key=lambda r: (r[0], r[3] or "", r[1]))
    rows = []
    sections = space.sections
    tree = shapely.STRtree(sections.geometry.to_numpy())
    for when, mun, source, meeting_id, lcps in raised:
        cat = str(rng.choice(cats, p=mix))
        serbian = int(ms[mun].name in SERBIAN_MUNICIPALITIES)
        text = str(rng.choice(_DESCRIPTIONS[cat][serbian]))
        xy = _concern_points(space, cat, mun, lcps, rng)
        if rng.random() < 0.5:
            hit = tree.query(shapely.Point(xy), predicate="intersects")
            if len(hit):
                text += ", " + str(rng.choice(sections["villages"].iloc[int(hit[0])].split(schema.LIST_SEPARATOR)))
        start_days = int(rng.exponential(10.0))
        resolve_days = start_days + int(np.ceil(_RESOLVE_DAYS[cat] * np.exp(0.8 * rng.standard_normal())))
        stuck = rng.random() < 0.12
        if not stuck and when + pd.Timedelta(days=resolve_days) <= PERIOD_END:
            status, resolved_on = "resolved", when + pd.Timedelta(days=resolve_days)
        elif when + pd.Timedelta(days=start_days) <= PERIOD_END and (not stuck or rng.random() < 0.5):
            status, resolved_on = "in_progress", None
        else:
            status, resolved_on = "open", None
        action = ""
        if status != "open":
            action = str(rng.choice(_ACTIONS.get(cat, _ACTIONS_GENERAL)[serbian]))
        lon, lat = _TO_WGS84.transform(xy[0], xy[1])
        rows.append(
            {
                "raised_on": when,
                "category": cat,
                "description": text,
                "description_public": bool(cat != "domestic_violence" and rng.random() < 0.7),
                "source": source,
                "meeting_id": meeting_id or "",
                "status": status,
                "resolved_on": resolved_on,
                "action_taken": action,
                "lat": round(float(lat), 6),
                "lon": round(float(lon), 6),
                "section_id": "",
            }
        )
    df = pd.DataFrame(rows)
    df.insert(0, "concern_id", _yearly_ids("C", df["raised_on"], 4))
    return df


# ---------------------------------------------------------------------------------------------------------------
# Surveys
# ---------------------------------------------------------------------------------------------------------------

#: Baseline trust in the police (%), by region.
_TRUST_BASE = {"Prishtinë": 78.0, "Mitrovicë Jug": 80.0, "Mitrovicë Veri": 46.0, "Pejë": 82.0, "Prizren": 80.0,
               "Ferizaj": 79.0, "Gjilan": 76.0, "Gjakovë": 83.0}  # fmt: skip
#: Municipalities with their own survey rows; none shares its name with a region (as Prishtinë does).
_SURVEY_MUNICIPALITIES = ("Podujevë", "Mitrovica Veriore", "Fushë Kosovë", "Rahovec", "Graçanicë")


def _surveys(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for r in places.REGIONS:  # "DRP Prishtinë": a region, not the municipality of the same name
        for k, year in enumerate(range(2023, 2027)):
            trust = _TRUST_BASE[r.name] + 0.8 * k + rng.normal(0.0, 1.5)
            satisfaction = trust - rng.uniform(3.0, 9.0)
            rows.append((f"DRP {r.name}", str(year), trust, satisfaction, int(rng.integers(600, 1501))))
    for name in _SURVEY_MUNICIPALITIES:
        base = _TRUST_BASE[places.region_of(name)]
        for k, year in enumerate(range(2024, 2027)):
            trust = base + 0.8 * k + rng.normal(0.0, 3.0)
            rows.append((name, str(year), trust, trust - rng.uniform(2.0, 10.0), int(rng.integers(200, 601))))
    df = pd.DataFrame(rows, columns=["area", "period", "trust_pct", "satisfaction_pct", "respondents"])
    for col in ("trust_pct", "satisfaction_pct"):
        df[col] = df[col].clip(0.0, 100.0).round(1)
    return df


# ---------------------------------------------------------------------------------------------------------------
# Writing, generating, checking
# ---------------------------------------------------------------------------------------------------------------

_STREAMS = ("sections", "people", "residents", "incidents", "tickets", "committees", "meetings", "concerns", "surveys")


def _bool_text(values: pd.Series) -> pd.Series:
    return values.map({True: "true", False: "false"})


def _date_text(values: pd.Series) -> pd.Series:
    return values.map(lambda d: "" if d is None or pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d"))


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def generate(out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write the six demo inputs into ``out_dir`` (created if missing).

    Parameters
    ----------
    out_dir
        Directory to write ``geo.source.DEMO_FILES`` (and a README.md) into.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same content.

    Returns
    -------
    dict
        ``{input name: path}`` for sections, incidents, concerns, committees, meetings, surveys.
        Sections are WGS84 polygons; incident and concern coordinates are WGS84 degrees.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    sections = _describe_sections(_build_sections(rngs["sections"]), rngs["people"], rngs["residents"])
    space = _space(sections)
    points = _point_incidents(space, rngs["incidents"])
    tickets = _tickets(space, rngs["tickets"])
    committees = _committees(sections, rngs["committees"])
    meetings, active = _meetings(committees, rngs["meetings"])
    concerns = _concerns(space, committees, meetings, rngs["concerns"])
    surveys = _surveys(rngs["surveys"])

    outline = _outline_wgs84()
    outside = ~shapely.contains_xy(outline, points["lon"].to_numpy(), points["lat"].to_numpy())
    outside_c = ~shapely.contains_xy(outline, concerns["lon"].to_numpy(), concerns["lat"].to_numpy())
    if outside.any() or outside_c.any():  # pragma: no cover - the border clearance prevents it
        raise RuntimeError(f"{outside.sum()} incidents and {outside_c.sum()} concerns outside the outline")

    paths = {name: out_dir / fname for name, fname in DEMO_FILES.items()}
    # sections
    out = sections[list(schema.SECTIONS.field_names)].copy()
    out = gpd.GeoDataFrame(out, geometry=[_to_wgs84(g) for g in sections.geometry], crs=schema.WGS84)
    paths["sections"].unlink(missing_ok=True)
    out.to_file(paths["sections"], driver="GeoJSON", engine="pyogrio")
    # incidents
    pq.write_table(
        _incidents_table(points, tickets),
        paths["incidents"],
        compression="zstd",
        use_dictionary=["category", "section_id"],
    )
    # concerns
    c = concerns.copy()
    c["raised_on"] = _date_text(c["raised_on"])
    c["resolved_on"] = _date_text(c["resolved_on"])
    c["description_public"] = _bool_text(c["description_public"])
    _write_csv(c[list(schema.CONCERNS.field_names[:10]) + ["lat", "lon", "section_id"]], paths["concerns"])
    # committees
    linked = concerns.loc[concerns["meeting_id"] != "", "meeting_id"].value_counts()
    k = committees.copy()
    k["sections"] = k["sections"].map(schema.LIST_SEPARATOR.join)
    k["established_on"] = _date_text(k["established_on"])
    k["active"] = _bool_text(active.reindex(k.index))
    _write_csv(k[list(schema.COMMITTEES.field_names)], paths["committees"])
    # meetings
    mt = meetings.copy()
    mt["concerns_raised"] = mt["meeting_id"].map(linked).fillna(0).astype(int)
    mt["held_on"] = _date_text(mt["held_on"])
    _write_csv(mt[list(schema.MEETINGS.field_names)], paths["meetings"])
    _write_csv(surveys, paths["surveys"])
    _write_readme(
        out_dir,
        seed,
        {
            "sections": len(out),
            "incident points": len(points),
            "ticket rows": len(tickets),
            "tickets": int(tickets["count"].sum()),
            "concerns": len(concerns),
            "committees": len(committees),
            "meetings": len(meetings),
            "survey rows": len(surveys),
        },
    )
    return paths


def _write_readme(out_dir: Path, seed: int, counts: dict[str, int]) -> None:
    hot = "\n".join(
        f"- {h.municipality}: {', '.join(f'{c} {n}/year' for c, n in h.per_year.items())}, "
        f"centre {lat:.4f} N {lon:.4f} E, sigma {h.sigma_m:.0f} m, from {h.start:%Y-%m-%d}"
        for h, (lon, lat) in zip(HOTSPOTS, hotspot_centres(), strict=True)
    )
    table = "\n".join(f"| {k} | {v:,} |" for k, v in counts.items())
    text = f"""# Demo dataset (synthetic)

**Everything here is synthetic: made-up data on approximate boundaries, not police data.**
Section and municipality boundaries are approximations (a weighted Voronoi partition of the
municipal seats, clipped to the national outline), not official boundaries. Officer names,
phone numbers (+383 49 000 ...) and e-mail addresses (@example.invalid) are fictitious, and
so are villages, incidents, concerns, committees, meetings and survey results. The
municipality-to-police-region (DRP) mapping is partly assumed (see `geo/reference`).

Generated by `geo/demo.py` with seed {seed}:

    python -m geo demo --out data/demo --seed {seed}
    python -m geo demo --out data/demo --seed {seed} --check   # are these files current?

| content | count |
|---|---|
{table}

Period: {PERIOD_START:%Y-%m-%d} to {PERIOD_END:%Y-%m-%d} (last full month: {PERIOD_END:%B %Y}).

Planted incident hotspots:

{hot}

Sources of the few real facts used: national outline © Natural Earth (public domain);
municipal seats GeoNames (CC BY 4.0); populations Kosovo Agency of Statistics, census 2024.
"""
    (out_dir / "README.md").write_text(text, encoding="utf-8")


def _read(name: str, path: Path) -> pd.DataFrame:
    if name == "sections":
        return gpd.read_file(path, engine="pyogrio")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _numbers(values: pd.Series) -> np.ndarray | None:
    """The column as floats when every non-empty cell is a number (CSV text included), else ``None``."""
    if pd.api.types.is_bool_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    text = values.astype(str).str.strip()
    filled = text != ""
    numbers = pd.to_numeric(text.where(filled), errors="coerce")
    if numbers[filled].isna().any():
        return None
    return numbers.to_numpy(dtype=float)


def _compare(label: str, expected: pd.DataFrame, found: pd.DataFrame) -> list[str]:
    """Differences between two parsed tables, as sentences."""
    out = []
    if list(expected.columns) != list(found.columns):
        out.append(f"{label}: columns differ: expected {list(expected.columns)}, found {list(found.columns)}")
    if len(expected) != len(found):
        return out + [f"{label}: expected {len(expected)} rows, found {len(found)}"]
    for col in [c for c in expected.columns if c in found.columns]:
        a, b = expected[col], found[col]
        if isinstance(a, gpd.GeoSeries) or isinstance(b, gpd.GeoSeries):
            same = shapely.equals_exact(np.asarray(a.values), np.asarray(b.values), tolerance=1e-9)
        elif a.dtype == b.dtype and a.equals(b):
            continue
        elif (x := _numbers(a)) is not None and (y := _numbers(b)) is not None:
            same = np.isclose(x, y, rtol=1e-12, atol=1e-9) | (np.isnan(x) & np.isnan(y))
        else:
            same = (a.isna().to_numpy() & b.isna().to_numpy()) | (a.astype(str).to_numpy() == b.astype(str).to_numpy())
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            out.append(
                f"{label}: column {col!r} differs in {int((~same).sum())} of {len(a)} rows "
                f"(first at row {i + 1}: expected {a.iloc[i]!r}, found {b.iloc[i]!r})"
            )
    return out


def compare(expected_dir: Path, found_dir: Path) -> list[str]:
    """Content differences between the demo files of two directories (empty list: identical).

    Tables and geometries are compared after parsing: geometry coordinates to
    1e-9 degrees, numbers (also in CSV text) to 1e-9, everything else exactly.
    Quoting, line endings and number formatting do not count.
    """
    out = []
    for name, fname in DEMO_FILES.items():
        a, b = Path(expected_dir) / fname, Path(found_dir) / fname
        if not b.exists():
            out.append(f"{fname}: missing in {found_dir}")
            continue
        try:
            found = _read(name, b)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a difference to report
            out.append(f"{fname}: cannot be read ({exc})")
            continue
        out.extend(_compare(fname, _read(name, a), found))
    return out


def check(directory: Path, seed: int = DEFAULT_SEED) -> list[str]:
    """Regenerate the demo with ``seed`` in a temporary directory and compare it with ``directory``.

    Returns human-readable differences; an empty list means the files in
    ``directory`` are what :func:`generate` writes for this seed.
    """
    with tempfile.TemporaryDirectory(prefix="demo-check-") as tmp:
        generate(Path(tmp), seed)
        return compare(Path(tmp), Path(directory))


def summary(directory: Path) -> dict[str, object]:
    """Counts per file and total size (bytes) of a demo directory; for the command line and docs."""
    directory = Path(directory)
    out: dict[str, object] = {}
    for name, fname in DEMO_FILES.items():
        p = directory / fname
        if p.exists():
            out[name] = {"rows": len(_read(name, p)), "bytes": p.stat().st_size}
    out["total_bytes"] = sum(v["bytes"] for v in out.values() if isinstance(v, dict))
    return out
