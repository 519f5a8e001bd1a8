"""One benchmark stage, run alone in a fresh process (``bench/run.py`` starts one per stage and run).

    python bench/stage.py STAGE VARIANT DATA_DIR [--tree DIR]

Prints one JSON object on its last line: ``seconds`` (the timed part only),
``peak_rss_mb`` (the whole process: imports, inputs and the stage) and any
figures of the stage (bytes of a map, counts, shares). ``--tree`` is the copy
of the project whose ``geo`` package and ``dashboard.py`` are measured (the
current one by default), so an older version can be measured the same way.

Self-contained on purpose: it imports only the measured ``geo`` and libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The period and filters the page runs use (the data span 2023-11-01 … 2026-10-31).
FIRST_MONTH = ("2026-10-01", "2026-10-31")
OTHER_MONTH = ("2026-06-01", "2026-06-30")
CATEGORIES = ["theft", "burglary", "robbery"]
MUNICIPALITY = ("Prishtinë", "Prishtinë")  # (region, municipality)
BANDWIDTH_M = 1000.0
PERMUTATIONS = 999


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ``ru_maxrss`` it does not carry over the parent's
    peak through fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def clock() -> float:
    return time.perf_counter()


# ---------------------------------------------------------------- inputs


def paths(data: Path) -> dict[str, Path]:
    return {"sections": data / "sections.parquet", "incidents": data / "incidents.parquet"}


def loaded(data: Path):
    """The joined dataset, the way the dashboard loads it (not timed)."""
    from geo.source import FileSource

    return FileSource(paths(data), label="bench").load()


def period(start: str, end: str):
    import datetime as dt

    from geo import figures

    return figures.Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


# ---------------------------------------------------------------- stages


def stage_read(variant: str, data: Path) -> dict:
    if variant == "naive":
        import geopandas as gpd

        t = clock()
        sections = gpd.read_file(data / "sections.geojson")
        incidents = gpd.read_file(data / "incidents.geojson")
        return {"seconds": clock() - t, "rows": len(incidents), "sections": len(sections)}
    from geo.io import read_boundaries, read_table
    from geo.report import Report

    report = Report()
    t = clock()
    sections = read_boundaries(data / "sections.parquet", "sections", report)
    incidents = read_table(data / "incidents.parquet", "incidents", report)
    return {"seconds": clock() - t, "rows": len(incidents.frame), "sections": len(sections.frame)}


def stage_validate(variant: str, data: Path) -> dict:
    from geo import validation as v
    from geo.io import read_boundaries, read_table
    from geo.report import Report

    report = Report()
    raw_s = read_boundaries(data / "sections.parquet", "sections", report)
    raw_i = read_table(data / "incidents.parquet", "incidents", report)
    t = clock()
    sections = v.validate_sections(raw_s, report)
    t_sections = clock() - t
    frame, n = v.validate_incidents(raw_i, report, sections)
    return {"seconds": clock() - t, "sections_seconds": t_sections, "rows": n, "accepted": len(frame)}


def _points(data: Path):
    import pandas as pd

    from geo import validation as v
    from geo.io import read_boundaries
    from geo.report import Report

    report = Report()
    sections = v.validate_sections(read_boundaries(data / "sections.parquet", "sections", report), report)
    frame = pd.read_parquet(data / "incidents.parquet", columns=["lon", "lat"])
    return sections, frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)


def stage_join(variant: str, data: Path) -> dict:
    import numpy as np

    sections, lon, lat = _points(data)
    if variant == "naive":
        import geopandas as gpd

        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")  # not timed
        t = clock()
        joined = gpd.sjoin(points, sections[["section_id", "geometry"]], how="left", predicate="within")
        return {"seconds": clock() - t, "rows": len(lon), "joined": int(joined["section_id"].notna().sum())}
    from geo.joins import assign_sections

    t = clock()
    pos = assign_sections(lon, lat, sections)
    return {"seconds": clock() - t, "rows": len(lon), "joined": int((np.asarray(pos) >= 0).sum())}


def stage_join_check(variant: str, data: Path) -> dict:
    """Not timed: our join against ``sjoin(predicate="within")`` on points strictly inside one section."""
    import geopandas as gpd
    import numpy as np

    from geo.joins import assign_sections

    sections, lon, lat = _points(data)
    pos = np.asarray(assign_sections(lon, lat, sections))
    points = gpd.GeoDataFrame({"n": np.arange(len(lon))}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    ref = gpd.sjoin(points, sections[["section_id", "geometry"]], how="left", predicate="within")
    within = ref.dropna(subset=["index_right"])
    counts = within["n"].value_counts()
    single = within[within["n"].isin(counts.index[counts == 1])]
    ids = sections["section_id"].astype(str).to_numpy()
    ours = np.where(pos[single["n"].to_numpy()] >= 0, ids[np.clip(pos[single["n"].to_numpy()], 0, None)], None)
    agree = int((ours == single["section_id"].astype(str).to_numpy()).sum())
    # points sjoin puts in no section: ours must find them on a boundary (closed polygon) or nowhere
    none = np.setdiff1d(np.arange(len(lon)), within["n"].to_numpy())
    on_edge = np.asarray(pos[none] >= 0)
    if on_edge.any():
        k = none[on_edge]
        geoms = sections.geometry.values[pos[k]]
        touches = np.asarray(
            [g.boundary.distance(p) == 0 for g, p in zip(geoms, gpd.points_from_xy(lon[k], lat[k]), strict=True)]
        )
    else:
        touches = np.zeros(0, dtype=bool)
    return {
        "seconds": 0.0,
        "strictly_inside": len(single),
        "agree": agree,
        "in_several": int((counts > 1).sum()),
        "boundary_points": int(on_edge.sum()),
        "boundary_points_on_their_section_boundary": int(touches.sum()),
        "outside": int((~on_edge).sum()),
    }


def stage_load(variant: str, data: Path) -> dict:
    """Read, validate and join the files: the dashboard's whole load (``ours``, never from the cache), or
    ``cached``: the same from the columnar cache (filled first when empty)."""
    if variant == "cached":
        try:
            from geo import filecache
        except ImportError:
            return {"seconds": None, "note": "no columnar cache in this version"}
        if filecache.default_dir() is None:
            return {"seconds": None, "note": "the columnar cache is turned off"}
        from geo.source import FileSource

        source = FileSource(paths(data), label="bench")
        source.load()  # fills the cache (a no-op when an earlier run did)
        t = clock()
        ds = source.load()
    else:
        from geo.loader import load_files

        t = clock()
        ds = load_files(paths(data), label="bench")
    return {"seconds": clock() - t, "rows": len(ds.incidents), "problems": len(ds.report.problems)}


def stage_rollup(variant: str, data: Path) -> dict:
    """Incidents per section in a period and categories, then per municipality and region.

    With the cube when the measured version has one (its build timed apart); else a scan of the records.
    """
    import pandas as pd

    from geo import figures
    from geo.joins import rollup

    ds = loaded(data)
    p = period(*FIRST_MONTH)
    ids = pd.Index(ds.sections["section_id"].astype(str))
    has_cube = hasattr(type(ds), "cube")  # (hasattr on the instance would build it)
    t = clock()
    if has_cube:
        cube = ds.cube
    t_build = clock() - t
    t1 = clock()
    if has_cube:
        now = cube.incident_counts(p, tuple(CATEGORIES))
        before = cube.incident_counts(p_prev := p.previous(), tuple(CATEGORIES))
    else:
        now = figures.incident_counts(ds.incidents, p, tuple(CATEGORIES))
        before = figures.incident_counts(ds.incidents, p_prev := p.previous(), tuple(CATEGORIES))
    values = pd.DataFrame({"count": now.reindex(ids, fill_value=0), "previous": before.reindex(ids, fill_value=0)})
    values.index.name = "section_id"
    by_muni = rollup(values, ds.sections, "municipality")
    by_region = rollup(values, ds.sections, "region")
    t_query = clock() - t1
    return {
        "seconds": clock() - t,
        "cube_build_seconds": t_build,
        "query_seconds": t_query,
        "cube": has_cube,
        "previous": str(p_prev),
        "municipalities": len(by_muni),
        "regions": len(by_region),
    }


def stage_gi(variant: str, data: Path) -> dict:
    import numpy as np

    from geo import hotspots

    ds = loaded(data)
    counts = ds.incidents.groupby(ds.incidents["section_id"].astype(str))["count"].sum()
    values = counts.reindex(ds.sections["section_id"].astype(str), fill_value=0).to_numpy(dtype=float)
    t = clock()
    graph = hotspots.neighbours(ds.sections, "queen")
    t_graph = clock() - t
    t1 = clock()
    gi = hotspots.getis_ord(values, graph, permutations=PERMUTATIONS, seed=1)
    t_gi = clock() - t1
    return {
        "seconds": clock() - t,
        "graph_seconds": t_graph,
        "gi_seconds": t_gi,
        "units": len(values),
        "hot": int(np.isin(gi["label_sim"], ["hot_99", "hot_95", "hot_90"]).sum()),
    }


def stage_permutations(variant: str, data: Path) -> dict:
    """The permutation check with enough permutations to confirm at 99 % after FDR (queen graph not timed)."""
    import numpy as np

    from geo import hotspots

    ds = loaded(data)
    counts = ds.incidents.groupby(ds.incidents["section_id"].astype(str))["count"].sum()
    values = counts.reindex(ds.sections["section_id"].astype(str), fill_value=0).to_numpy(dtype=float)
    graph = hotspots.neighbours(ds.sections, "queen")
    permutations = hotspots.permutations_for(len(values))
    t = clock()
    gi = hotspots.getis_ord(values, graph, permutations=permutations, seed=0)
    seconds = clock() - t
    hot = np.isin(gi["label"], ["hot_99", "hot_95", "hot_90"])
    hot_sim = np.isin(gi["label_sim"], ["hot_99", "hot_95", "hot_90"])
    return {
        "seconds": seconds,
        "units": len(values),
        "permutations": permutations,
        "hot": int(hot.sum()),
        "hot_both": int((hot & hot_sim).sum()),
    }


def stage_density(variant: str, data: Path) -> dict:
    import pandas as pd

    from geo import hotspots
    from geo import validation as v
    from geo.io import read_boundaries
    from geo.report import Report

    report = Report()
    sections = v.validate_sections(read_boundaries(data / "sections.parquet", "sections", report), report)
    frame = pd.read_parquet(data / "incidents.parquet", columns=["lon", "lat"])
    bounds = tuple(sections.to_crs(hotspots.METRIC_CRS).total_bounds)
    t = clock()
    x, y = hotspots.to_metric(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    t_proj = clock() - t
    grid = hotspots.density(x, y, BANDWIDTH_M, bounds)
    return {"seconds": clock() - t, "project_seconds": t_proj, "grid": list(grid.density.shape), "points": len(x)}


def stage_map(variant: str, data: Path) -> dict:
    """Build the overview map and render it to HTML; ``bytes``: what the browser gets."""
    from geo import figures, i18n, maps, offline

    ds = loaded(data)
    if variant == "naive":
        import folium
        from folium.plugins import HeatMap

        t = clock()
        m = folium.Map(location=[42.6, 20.9], zoom_start=9, tiles=None)
        folium.GeoJson(ds.sections[["section_id", "section_name", "geometry"]].to_json()).add_to(m)
        pts = ds.incidents[["lat", "lon"]].dropna().to_numpy().tolist()
        HeatMap(pts).add_to(m)
        html = m.get_root().render()
        return {"seconds": clock() - t, "bytes": len(html.encode()), "points": len(pts)}
    _ = i18n.translator("en")
    p = period(*FIRST_MONTH)
    measures = figures.section_measures(ds.sections, ds.incidents, p, ())  # the page's figures: not timed
    t = clock()
    geom = maps.display_geometry(ds.sections)
    t_geom = clock() - t
    t1 = clock()
    fmap = maps.choropleth(geom, measures, "rate", _, assets=offline.leaflet_assets(""), title="Incidents")
    html = fmap.get_root().render()
    return {
        "seconds": clock() - t,
        "geometry_seconds": t_geom,
        "build_render_seconds": clock() - t1,
        "bytes": len(html.encode()),
    }


def _component_bytes(at) -> int:
    """Bytes of the custom components' arguments (the map) in the page AppTest ran."""
    total = 0

    def walk(node):
        nonlocal total
        proto = getattr(node, "proto", None)
        if proto is not None and type(proto).__name__ == "ComponentInstance":
            total += len(proto.json_args.encode()) + sum(
                len(a.value) for a in proto.special_args if a.HasField("bytes")
            )
        for child in (
            getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []
        ):
            walk(child)

    walk(at._tree)
    return total


def stage_app(variant: str, data: Path, started: float) -> dict:
    """The whole page in AppTest: first run from process start, then reruns after filter changes."""
    t_import = time.time()
    public = variant == "public"  # the public view: published figures, its fixed periods and category groups
    if public:
        os.environ["DASHBOARD_PUBLIC"] = "1"
        os.environ["DASHBOARD_PUBLIC_SECRET"] = BENCH_SECRET
    from streamlit.testing.v1 import AppTest

    warnings.simplefilter("ignore")
    at = AppTest.from_file(str(Path.cwd() / "dashboard.py"), default_timeout=600)
    at.run()
    first_done = time.time()
    if at.exception:
        return {"seconds": None, "error": [e.message for e in at.exception][:3]}
    out = {
        "seconds": first_done - started,
        "import_seconds": t_import - started,
        "first_run_seconds": first_done - t_import,
        "first_bytes": _component_bytes(at),
    }
    reruns = {}
    public_changes = (
        ("period", lambda: at.selectbox(key="public_period").set_value(OTHER_MONTH[0][:7])),
        ("category", lambda: at.selectbox(key="public_categories").set_value("crimes")),
        (
            "municipality",
            lambda: (
                at.selectbox(key="region").set_value(MUNICIPALITY[0]).run(),
                at.selectbox(key="municipality").set_value(MUNICIPALITY[1]),
            ),
        ),
    )
    changes = (
        public_changes
        if public
        else (
            (
                "period",
                lambda: (
                    at.date_input(key="period_start").set_value(_d(OTHER_MONTH[0])),
                    at.date_input(key="period_end").set_value(_d(OTHER_MONTH[1])),
                ),
            ),
            ("category", lambda: at.multiselect(key="categories").set_value(CATEGORIES)),
            (
                "municipality",
                lambda: (
                    at.selectbox(key="region").set_value(MUNICIPALITY[0]).run(),
                    at.selectbox(key="municipality").set_value(MUNICIPALITY[1]),
                ),
            ),
        )
    )
    sizes = {}
    for name, change in changes:
        change()
        t = clock()
        at.run()
        reruns[name] = clock() - t
        sizes[name] = _component_bytes(at)
        if at.exception:
            return {**out, "error": [e.message for e in at.exception][:3]}
    out["rerun_seconds"] = reruns
    out["rerun_median_seconds"] = sorted(reruns.values())[1]
    out["bytes"] = max([out["first_bytes"], *sizes.values()])
    return out


def _d(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


#: The perturbation secret of the public stages (a deployment's own is never in the repository).
BENCH_SECRET = "bench-secret-not-a-deployment-0123456789"


def stage_keys(variant: str, data: Path) -> dict:
    """Every incident's perturbation key: the records' identities, then one HMAC-SHA256 each."""
    from geo import public

    if not hasattr(public, "incident_identities"):
        return {"seconds": None, "note": "no record keys in this version"}
    ds = loaded(data)
    inc = ds.incidents
    t = clock()
    identities = public.incident_identities(inc)
    t_ids = clock() - t
    keys = public._keys(identities, BENCH_SECRET, b"incident\x1e")
    return {
        "seconds": clock() - t,
        "identities_seconds": t_ids,
        "hmac_seconds": clock() - t - t_ids,
        "records": len(keys),
        "with_id": int(inc["incident_id"].notna().sum()) if "incident_id" in inc else 0,
    }


def _overview(cube, data, policy, flt, p, categories) -> None:
    """What the Overview asks of a cube on a run: the headline figures and the per-section measures."""
    from geo import figures

    figures.headlines(cube, data.concerns, data.committees, data.sections, flt, p)
    ids = figures.select_sections(data.sections, flt)
    measures = figures.section_measures(ids, cube, p, categories)
    if policy is not None:
        policy.measures(measures)


def stage_public(variant: str, data: Path) -> dict:
    """The public dataset made (record keys, the published cube), then an Overview's questions after each
    filter change (period, category group, municipality), published; the same on the restricted cube."""
    from geo import figures, public

    if not hasattr(public, "PublishedCube"):
        return {"seconds": None, "note": "no published cube in this version"}
    ds = loaded(data)
    policy = public.PublicPolicy(secret=BENCH_SECRET)
    t = clock()
    pub = policy.apply(ds)
    t_apply = clock() - t
    groups = policy.category_groups()
    runs = (
        ("first", figures.Filters(), period(*FIRST_MONTH), groups[""]),
        ("period", figures.Filters(), period(*OTHER_MONTH), groups[""]),
        ("category", figures.Filters(), period(*OTHER_MONTH), groups["crimes"]),
        ("municipality", figures.Filters(*MUNICIPALITY), period(*OTHER_MONTH), groups["crimes"]),
    )
    published, restricted = {}, {}
    for name, flt, p, cats in runs:
        t1 = clock()
        _overview(pub.cube, pub, policy, flt, p, cats)
        published[name] = clock() - t1
    cube = ds.cube  # the restricted one (built here, not timed)
    for name, flt, p, cats in runs:
        t1 = clock()
        _overview(cube, ds, None, flt, p, cats)
        restricted[name] = clock() - t1
    return {
        "seconds": t_apply + sum(published.values()),
        "apply_seconds": t_apply,
        "query_seconds": published,
        "restricted_query_seconds": restricted,
        "public_records": len(pub.incidents),
    }


STAGES = {
    "read": stage_read,
    "validate": stage_validate,
    "join": stage_join,
    "join_check": stage_join_check,
    "load": stage_load,
    "rollup": stage_rollup,
    "gi": stage_gi,
    "permutations": stage_permutations,
    "density": stage_density,
    "map": stage_map,
    "keys": stage_keys,
    "public": stage_public,
}


def main(argv: list[str] | None = None) -> int:
    started = time.time()
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=[*STAGES, "app"])
    ap.add_argument("variant", choices=["ours", "naive", "cached", "public"])
    ap.add_argument("data", type=Path)
    ap.add_argument("--tree", type=Path, default=HERE.parent)
    ap.add_argument("--started", type=float, default=None, help="wall-clock time the parent started this process")
    args = ap.parse_args(argv)
    tree = args.tree.resolve()
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    warnings.simplefilter("ignore")
    data = args.data.resolve()
    if args.stage == "app":
        result = stage_app(args.variant, data, args.started or started)
    else:
        result = STAGES[args.stage](args.variant, data)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
