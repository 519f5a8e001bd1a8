"""Synthetic national-scale datasets for the benchmark (seeded; nothing here is police data).

Sections
    Kosovo's 38 demo municipalities (:func:`geo.demo._municipality_polygons`),
    each split into Voronoi cells around seeded points (more of them, and denser
    near the seat, where more people live), ``n_sections`` in all. The cells are
    cut from one noded line arrangement, densified to :data:`VERTEX_SPACING_M`
    and bent by a smooth, seeded displacement field (a homeomorphism: Lipschitz
    constant below 1), so the boundaries wiggle like real ones while neighbours
    still share exactly the same vertices. About 90 vertices per kilometre of
    boundary, as in cadastral boundary files.

Incidents
    Points around the sections' seeds (a Gaussian per section, sized by the
    section), sections drawn by population; 0.3 % anywhere in the bounding box
    (some outside every section) and 0.1 % exactly on section vertices (the
    boundary rule decides them). Three years of timestamps, the demo's
    category mix; ``count`` is 1.

Files written into ``directory``: ``sections.parquet`` (GeoParquet) and
``sections.geojson``; ``incidents.parquet`` (plain columns ``incident_id,
occurred_at, category, lat, lon, count``) and, when asked, ``incidents.geojson``
(points) and ``incidents.csv``; ``options.json`` so the dashboard can use the
folder as its own data (``DASHBOARD_DATA_DIR``).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from geo import demo, places, schema

SEED = 5
#: Boundary vertices are at most this far apart (m) before the displacement field bends them.
VERTEX_SPACING_M = 60.0
#: The displacement field: (amplitude m, wavelength m) per harmonic; sum of amplitude·2π/wavelength < 0.6.
HARMONICS = ((100.0, 3000.0), (25.0, 800.0), (5.0, 250.0))
PERIOD_START = pd.Timestamp("2023-11-01")
PERIOD_DAYS = 1096  # to 2026-10-31
#: Shares of incidents by category (the demo's yearly targets plus traffic tickets as points).
CATEGORY_WEIGHTS = {**demo.INCIDENT_TARGETS, "traffic_ticket": 12000}

_TO_WGS84 = Transformer.from_crs(schema.METRIC_CRS, schema.WGS84, always_xy=True)


def _allocate(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Integers ``>= minimum`` proportional to ``weights`` that sum to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum)
    rest = total - base.sum()
    share = rest * w / w.sum()
    out = base + np.floor(share).astype(int)
    short = total - out.sum()
    out[np.argsort(-(share - np.floor(share)), kind="stable")[:short]] += 1
    return out


def _field(rng: np.random.Generator):
    """A smooth displacement field ``f(xy) -> xy + d(xy)`` (metres), seeded."""
    terms = []
    for amp, wavelength in HARMONICS:
        for _ in range(2):  # two waves per harmonic in random directions
            ang = rng.uniform(0, np.pi)
            k = 2 * np.pi / wavelength * np.array([np.cos(ang), np.sin(ang)])
            terms.append((amp / np.sqrt(2), k, rng.uniform(0, 2 * np.pi, 2)))

    def bend(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for amp, k, phase in terms:
            t = xy @ k
            out[:, 0] += amp * np.sin(t + phase[0])
            out[:, 1] += amp * np.cos(t + phase[1])
        return out

    return bend


def build_sections(n_sections: int, seed: int = SEED) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """``n_sections`` sections (WGS84) tiling Kosovo and their seed points (EPSG:9141, bent).

    Columns: ``section_id, section_name, municipality, region, population``.
    """
    rng = np.random.default_rng(seed)
    ms = places.municipalities()
    mun_polys = demo._municipality_polygons()
    seats = demo._seats_metric()
    outline = demo._outline_metric()
    per_mun = _allocate(n_sections, np.array([m.population for m in ms], dtype=float))
    seeds, mun_of, lines = [], [], [p.exterior for p in mun_polys]
    for i, (m, poly) in enumerate(zip(ms, mun_polys, strict=True)):
        n = int(per_mun[i])
        inner = poly.buffer(-100.0)
        n_town = int(round((n - 1) * 0.5))
        k = 8
        s = seats[i][None, :].copy()
        if n_town:
            cand = demo._gaussian_in(inner, n_town * k, seats[i], demo._town_sigma(m.population), rng)
            s = np.vstack([s, demo._spaced(cand, s, k)])
        if n - len(s):
            cand = demo._uniform_in(inner, (n - len(s)) * k, rng)
            s = np.vstack([s, demo._spaced(cand, s, k)])
        seeds.append(s)
        mun_of.append(np.full(len(s), i))
        if len(s) > 1:
            vor = shapely.voronoi_polygons(shapely.MultiPoint(s), extend_to=poly.envelope.buffer(1000.0))
            lines.append(shapely.intersection(shapely.union_all(shapely.boundary(shapely.get_parts(vor))), poly))
    seeds_a = np.vstack(seeds)
    mun_a = np.concatenate(mun_of)
    faces = demo._faces(lines, outline, densify=VERTEX_SPACING_M)
    pts = shapely.point_on_surface(faces)
    tree = shapely.STRtree(list(mun_polys))
    face_idx, mun_idx = tree.query(pts, predicate="within")
    face_mun = np.full(len(faces), -1)
    face_mun[face_idx] = mun_idx
    lost = np.flatnonzero(face_mun < 0)
    if len(lost):
        face_mun[lost] = tree.nearest(pts[lost])
    xy = shapely.get_coordinates(pts)
    owner = np.zeros(len(faces), dtype=int)
    for i in range(len(ms)):
        sel = np.flatnonzero(face_mun == i)
        cand = np.flatnonzero(mun_a == i)
        d = ((xy[sel, None, :] - seeds_a[None, cand, :]) ** 2).sum(-1)
        owner[sel] = cand[np.argmin(d, axis=1)]
    polys = np.empty(len(seeds_a), dtype=object)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(seeds_a) + 1))
    for j in range(len(seeds_a)):
        group = faces[order[starts[j] : starts[j + 1]]]
        polys[j] = group[0] if len(group) == 1 else shapely.coverage_union_all(group)
    keep = np.array([p is not None and not p.is_empty for p in polys])
    polys, seeds_a, mun_a = polys[keep], seeds_a[keep], mun_a[keep]
    bend = _field(rng)
    polys = shapely.transform(polys, bend)
    seeds_a = bend(seeds_a)
    polys = shapely.transform(polys, lambda c: np.column_stack(_TO_WGS84.transform(c[:, 0], c[:, 1])))
    codes = [demo.MUNICIPALITY_CODES[ms[i].name] for i in mun_a]
    number = np.zeros(len(mun_a), dtype=int)
    for i in range(len(ms)):
        sel = np.flatnonzero(mun_a == i)
        number[sel] = np.arange(1, len(sel) + 1)
    population = np.zeros(len(mun_a), dtype=int)
    for i, m in enumerate(ms):
        sel = np.flatnonzero(mun_a == i)
        if len(sel):
            population[sel] = _allocate(m.population, rng.gamma(3.0, 1.0, len(sel)), minimum=50)
    gdf = gpd.GeoDataFrame(
        {
            "section_id": [f"{c}-{n:03d}" for c, n in zip(codes, number, strict=True)],
            "section_name": [f"{ms[i].name} {n}" for i, n in zip(mun_a, number, strict=True)],
            "municipality": [ms[i].name for i in mun_a],
            "region": [ms[i].region for i in mun_a],
            "population": population,
        },
        geometry=list(polys),
        crs=schema.WGS84,
    )
    return gdf, seeds_a


def build_incidents(sections: gpd.GeoDataFrame, seeds: np.ndarray, n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` incidents: ``incident_id, occurred_at, category, lat, lon, count`` sorted by time."""
    rng = np.random.default_rng(seed + n)
    n_box = int(n * 0.003)
    n_vertex = int(n * 0.001)
    n_main = n - n_box - n_vertex
    metric = sections.to_crs(schema.METRIC_CRS)
    sigma = 0.35 * np.sqrt(metric.area.to_numpy())
    w = sections["population"].to_numpy(dtype=float)
    s = rng.choice(len(sections), size=n_main, p=w / w.sum())
    xy = seeds[s] + rng.normal(0.0, 1.0, (n_main, 2)) * sigma[s, None]
    lon, lat = _TO_WGS84.transform(xy[:, 0], xy[:, 1])
    # keep the main points inside Kosovo (redraw the few that fell across the border near their seed)
    outline = shapely.union_all(sections.geometry.values)
    shapely.prepare(outline)
    out = ~shapely.contains_xy(outline, lon, lat)
    if out.any():
        k = np.flatnonzero(out)
        cx, cy = _TO_WGS84.transform(seeds[s[k], 0], seeds[s[k], 1])
        lon[k], lat[k] = cx, cy
    minx, miny, maxx, maxy = sections.total_bounds
    box_lon = rng.uniform(minx, maxx, n_box)
    box_lat = rng.uniform(miny, maxy, n_box)
    coords = shapely.get_coordinates(sections.geometry.values)
    pick = coords[rng.integers(0, len(coords), n_vertex)]
    lon = np.round(np.concatenate([lon, box_lon]), 6)
    lat = np.round(np.concatenate([lat, box_lat]), 6)
    lon = np.concatenate([lon, pick[:, 0]])
    lat = np.concatenate([lat, pick[:, 1]])
    perm = rng.permutation(n)
    lon, lat = lon[perm], lat[perm]
    day = rng.integers(0, PERIOD_DAYS, n)
    minute = rng.integers(0, 24 * 60, n)
    when = (PERIOD_START.to_datetime64() + day.astype("timedelta64[D]") + minute.astype("timedelta64[m]")).astype(
        "datetime64[ms]"
    )
    order = np.argsort(when, kind="stable")
    cats = list(CATEGORY_WEIGHTS)
    cw = np.array(list(CATEGORY_WEIGHTS.values()), dtype=float)
    category = np.asarray(cats, dtype=object)[rng.choice(len(cats), size=n, p=cw / cw.sum())]
    return pd.DataFrame(
        {
            "incident_id": [f"I-{i:08d}" for i in range(1, n + 1)],
            "occurred_at": when[order],
            "category": pd.Categorical(category[order], categories=cats),
            "lat": lat[order],
            "lon": lon[order],
            "count": np.ones(n, dtype=np.int32),
        }
    )


def write_geojson_points(frame: pd.DataFrame, path: Path) -> None:
    """Incidents as a GeoJSON FeatureCollection of points (the naive baseline's input)."""
    gdf = gpd.GeoDataFrame(
        frame.drop(columns=["lat", "lon"]).assign(occurred_at=frame["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M")),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs=schema.WGS84,
    )
    gdf["category"] = gdf["category"].astype(str)
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio")


def dataset_dir(root: Path, n_sections: int, n_incidents: int) -> Path:
    return Path(root) / f"s{n_sections}_i{n_incidents}"


def ensure(root: Path, n_sections: int, n_incidents: int, geojson: bool = False, csv: bool = False, log=print) -> Path:
    """Generate (once) the dataset with ``n_sections`` sections and ``n_incidents`` incidents; its folder."""
    root = Path(root)
    sec_dir = root / f"sections_{n_sections}"
    sec_dir.mkdir(parents=True, exist_ok=True)
    if not (sec_dir / "sections.parquet").exists():
        log(f"  generating {n_sections} sections …")
        gdf, seeds = build_sections(n_sections)
        gdf.to_file(sec_dir / "sections.geojson", driver="GeoJSON", engine="pyogrio")
        np.save(sec_dir / "seeds.npy", seeds)
        gdf.to_parquet(sec_dir / "sections.parquet")
    out = dataset_dir(root, n_sections, n_incidents)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("sections.parquet", "sections.geojson"):
        if not (out / name).exists():
            (out / name).hardlink_to(sec_dir / name)
    inc = out / "incidents.parquet"
    if not inc.exists():
        log(f"  generating {n_incidents:,} incidents for {n_sections} sections …")
        sections = gpd.read_parquet(sec_dir / "sections.parquet")
        frame = build_incidents(sections, np.load(sec_dir / "seeds.npy"), n_incidents)
        tmp = inc.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd")
        tmp.replace(inc)
    if geojson and not (out / "incidents.geojson").exists():
        log(f"  writing incidents.geojson ({n_incidents:,} points) …")
        tmp = out / "incidents.tmp.geojson"
        write_geojson_points(pd.read_parquet(inc), tmp)
        tmp.replace(out / "incidents.geojson")
    if csv and not (out / "incidents.csv").exists():
        log(f"  writing incidents.csv ({n_incidents:,} rows) …")
        frame = pd.read_parquet(inc)
        frame["occurred_at"] = frame["occurred_at"].dt.strftime("%d.%m.%Y %H:%M")
        tmp = out / "incidents.tmp.csv"
        frame.to_csv(tmp, index=False)
        tmp.replace(out / "incidents.csv")
    opts = out / "options.json"
    if not opts.exists():
        opts.write_text(
            json.dumps({"files": {"sections": "sections.parquet", "incidents": "incidents.parquet"}, "options": {}})
        )
    return out
