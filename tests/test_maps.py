"""Maps as data and HTML, without a browser: offline assets, escaping, legend, features, colours."""

from __future__ import annotations

import html as html_lib
import json
import re
import struct
import zlib

import branca
import folium
import numpy as np
import pandas as pd
import pytest
import shapely
from dashboard_fixtures import EVIL, tiny_dataset

from geo import figures, i18n, maps, offline

URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*")


@pytest.fixture(scope="module")
def data():
    return tiny_dataset(evil_name=True)


@pytest.fixture(scope="module")
def geometry(data):
    return maps.display_geometry(data.sections)


@pytest.fixture(scope="module")
def measures(data):
    return figures.section_measures(
        data.sections,
        data.incidents,
        figures.Period(pd.Timestamp("2024-03-01").date(), pd.Timestamp("2024-03-31").date()),
    )


def build(geometry, measures, measure="count", lang="en", **kw) -> folium.Map:
    _ = i18n.translator(lang)
    title = _("Number of incidents") if measure == "count" else measure
    return maps.choropleth(geometry, measures, measure, _, assets=offline.leaflet_assets(), title=title, **kw)


def children(m: folium.Map, kind: type) -> list:
    return [c for c in m._children.values() if isinstance(c, kind)]


def sections_layer(m: folium.Map) -> folium.GeoJson:
    return next(c for c in children(m, folium.GeoJson) if c.layer_name == "sections")


def scripts_and_styles(m: folium.Map) -> list[str]:
    """Every JS/CSS URL the map asks for, collected as streamlit-folium does (plus d3 for branca colour maps)."""
    urls = []

    def walk(el):
        if isinstance(el, branca.colormap.ColorMap):
            urls.append("https://d3js.org/d3.v4.min.js")
        urls.extend(src for _, src in getattr(el, "default_js", []))
        urls.extend(href for _, href in getattr(el, "default_css", []))
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    return urls


@pytest.mark.parametrize("measure", ["rate", "count", "change"])
def test_no_internet_address_anywhere_without_a_basemap(geometry, measures, measure):
    m = build(geometry, measures, measure)
    html = m.get_root().render()
    assert URL.findall(html) == []
    assert "http://" not in html and "https://" not in html  # not even an xmlns or an attribution link
    urls = scripts_and_styles(m)
    assert urls == ["/app/static/vendor/leaflet/leaflet.js", "/app/static/vendor/leaflet/leaflet.css"]
    assert not any("jquery" in u or "bootstrap" in u or "font" in u for u in urls)
    assert "tile_layer" not in html


def test_basemap_only_when_configured_and_its_attribution_escaped(geometry, measures):
    bm = maps.Basemap("https://tiles.example.org/{z}/{x}/{y}.png", attribution='<img src=x onerror="alert(1)">')
    html = build(geometry, measures, basemap=bm).get_root().render()
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html
    assert "<img src=x" not in html
    with pytest.raises(ValueError, match="starts with https://"):
        maps.Basemap("javascript:alert(1)")


def test_assets_follow_the_base_url_path():
    a = offline.leaflet_assets("/police/")
    assert a.js == (("leaflet", "/police/app/static/vendor/leaflet/leaflet.js"),)
    assert a.css == (("leaflet_css", "/police/app/static/vendor/leaflet/leaflet.css"),)
    assert offline.leaflet_assets("").js[0][1] == "/app/static/vendor/leaflet/leaflet.js"


def test_text_from_data_is_escaped(geometry, measures):
    m = build(geometry, measures)
    html = m.get_root().render()
    assert EVIL not in html and "alert(1)</script>" not in html
    tips = [f["properties"]["tip"] for f in sections_layer(m).data["features"]]
    evil_tip = next(t for t in tips if "alert" in t)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil_tip
    assert "<script>" not in evil_tip
    # labels (few sections: section names are drawn) are escaped as well
    assert not children(m, folium.Marker)  # labels are divIcons, never Leaflet's default image marker
    labels = [html_ for _lat, _lon, html_, *_rest in children(m, maps._Labels)[0].labels]
    assert any("&lt;script&gt;" in lbl for lbl in labels)
    assert not any(EVIL in lbl for lbl in labels)
    # the legend title too
    legend = children(m, maps._Legend)[0]
    m2 = maps.choropleth(
        geometry, measures, "count", i18n.translator("en"), assets=offline.leaflet_assets(), title=EVIL
    )
    assert EVIL not in children(m2, maps._Legend)[0].body and legend.body


def test_feature_count_equals_sections_and_payload_is_small(data, geometry, measures):
    m = build(geometry, measures)
    feats = sections_layer(m).data["features"]
    assert len(feats) == len(data.sections) == 7
    assert {f["id"] for f in feats} == set(data.sections["section_id"])
    for f in feats:
        # short fields only: the tooltip's labels are sent once, not once per section
        assert set(f["properties"]) - {"t5", "t6"} == {
            "section_id",
            "tip",
            "t1",
            "t2",
            "t3",
            "t4",
            "t7",
            "t8",
            "c",
            "nd",
            "wh",
        }
        assert all(len(str(v)) < 80 for v in f["properties"].values())
        coords = re.findall(r"-?\d+\.\d+", json.dumps(f["geometry"]))
        assert all(len(c.split(".")[1]) <= maps.DISPLAY_DECIMALS for c in coords)


def test_tooltips_name_section_municipality_region_and_figures(geometry, measures):
    m = build(geometry, measures, lang="sr")
    layer = sections_layer(m)
    props = next(f["properties"] for f in layer.data["features"] if f["id"] == "S6")
    tooltip = next(c for c in layer._children.values() if isinstance(c, folium.GeoJsonTooltip))
    shown = dict(zip(tooltip.fields, tooltip.aliases, strict=True))
    values = {shown[k]: props[k] for k in tooltip.fields}
    assert values["Policijski sektor"] == "Ferizaj Jug"
    assert "Uroševac" in values["Područje"]  # municipality (Serbian) and region (Serbian)
    assert "Incidenti" in shown.values() and values["Stanovnici"] == "7.000"  # figures, local format
    assert "Na 1.000 stanovnika" in shown.values()


def test_legend_present_and_translated(geometry, measures):
    m = build(geometry, measures, "rate", lang="sq")
    legends = children(m, maps._Legend)
    assert len(legends) == 1
    body = legends[0].body
    assert "Pa të dhëna" in body  # S7 has no population: "no data"
    assert "Kufiri i komunës" in body and "Kufiri i rajonit policor" in body
    assert re.search(r"\d,\d\d", body)  # rates with a decimal comma
    html = m.get_root().render()
    assert "cp-legend" in html and "L.control" in html


def colour_of(m: folium.Map) -> dict[str, str]:
    return {f["id"]: f["properties"]["c"] for f in sections_layer(m).data["features"]}


def test_colours_follow_the_measure(geometry, measures):
    colours = colour_of(build(geometry, measures, "count"))
    shades = {c for palette in maps.SEQUENTIAL.values() for c in palette}  # YlGnBu
    assert set(colours.values()) <= shades
    # the busiest section is in the darkest class, the empty ones in the lightest
    counts = measures["count"]
    darkest = colours[counts.idxmax()]
    lightest = colours[counts.idxmin()]
    assert darkest != lightest
    classes = maps.sequential_classes(counts)
    idx = classes.classify(counts)
    assert idx[list(counts.index).index(counts.idxmax())] == len(classes.colors) - 1
    for a in counts.index:
        for b in counts.index:
            if counts[a] > counts[b]:
                assert idx[list(counts.index).index(a)] >= idx[list(counts.index).index(b)]


@pytest.mark.parametrize("measure", ["change", "change_year"])
def test_changes_are_coloured_only_when_meaningful(geometry, measures, measure):
    m = build(geometry, measures, measure)
    colours = colour_of(m)
    flags = measures["flag" if measure == "change" else "flag_year"]
    for sid, flag in flags.items():
        expected = maps.FLAG_COLOURS.get(flag, maps.NO_DATA)
        assert colours[sid] == expected, (sid, flag)
    body = html_lib.unescape(children(m, maps._Legend)[0].body)
    if measure == "change":
        assert colours["S2"] == maps.FLAG_COLOURS["no_change"]  # 16 against 6: +167 %, but p = 0.11
        assert colours["S1"] == maps.FLAG_COLOURS["no_change"]  # 3 against 1: grey, not orange
        assert colours["S4"] == maps.NO_DATA  # 0 against 0: no comparison, hatched, never a change
    else:  # the data does not reach a year back: hatched "no comparison", never a fake increase
        assert set(colours.values()) == {maps.NO_DATA}
    assert "Strong increase (p < 0.003)" in body and "No meaningful change" in body
    assert "No comparison" in body and "|z|" not in body
    assert "false discovery rate" in body and "Benjamini–Hochberg" in body


def test_a_planted_change_is_coloured_and_its_chance_is_in_the_tooltip(geometry, measures):
    planted = measures.copy()
    planted.loc["S3", ["count", "change", "p", "p_fdr", "direction", "flag"]] = [
        40,
        38,
        1e-9,
        1e-8,
        1,
        "strong_increase",
    ]
    m = build(geometry, planted, "change")
    assert colour_of(m)["S3"] == maps.FLAG_COLOURS["strong_increase"]
    feats = {f["id"]: f["properties"] for f in sections_layer(m).data["features"]}
    assert html_lib.unescape(feats["S3"]["t4"]) == "+38 · p < 0.001 (0.000)"
    assert html_lib.unescape(feats["S2"]["t4"]).startswith("+10 · p = 0.11 (0.4")  # adjusted for 7 sections
    tooltip = next(c for c in sections_layer(m)._children.values() if isinstance(c, folium.GeoJsonTooltip))
    assert "Change vs previous period · p (adjusted across the sections shown)" in tooltip.aliases


def test_no_data_is_grey_and_hatched(geometry, measures):
    m = build(geometry, measures, "rate")
    feats = {f["id"]: f["properties"] for f in sections_layer(m).data["features"]}
    assert feats["S7"]["c"] == maps.NO_DATA and feats["S7"]["nd"] is True
    style = sections_layer(m).style_function({"id": "S7", "properties": feats["S7"]})
    assert style["className"] == "cp-nodata"
    assert 'id="cp-hatch"' in m.get_root().render()


def test_outlines_are_drawn_above_the_sections(geometry, measures):
    m = build(geometry, measures)
    names = [c.layer_name for c in children(m, folium.GeoJson)]
    assert names == ["sections", "municipalities", "regions"]
    muni = children(m, folium.GeoJson)[1]
    style = muni.style_function({"properties": {}})
    assert style["fill"] is False and style["weight"] > 1
    assert muni.options.get("interactive") is False  # hovering still reaches the sections beneath


def test_selected_section_is_outlined(geometry, measures):
    m = build(geometry, measures, selected="S2")
    layer = sections_layer(m)
    feats = {f["id"]: f for f in layer.data["features"]}
    assert layer.style_function(feats["S2"])["weight"] > layer.style_function(feats["S1"])["weight"]


def test_display_geometry_is_simplified_as_a_coverage(data):
    wiggly = data.sections.copy()
    # add many tiny zig-zags to every edge: they must go, shared edges must stay shared
    wiggly["geometry"] = [shapely.segmentize(g, 0.0005) for g in wiggly.geometry]
    g = maps.display_geometry(wiggly, tolerance=0.001)
    n_before = shapely.get_num_coordinates(np.asarray(wiggly.geometry.values)).sum()
    n_after = shapely.get_num_coordinates(np.asarray(g.sections.geometry.values)).sum()
    assert n_after < n_before / 3
    assert len(g.sections) == len(data.sections)
    assert bool(shapely.coverage_is_valid(np.asarray(g.sections.geometry.values)))
    assert set(g.municipalities["municipality"]) == {"Prishtinë", "Fushë Kosovë", "Ferizaj"}
    assert set(g.regions["region"]) == {"Prishtinë", "Ferizaj"}
    assert list(g.sections.columns) == ["section_id", "section_name", "municipality", "region", "geometry", "_geojson"]
    # the GeoJSON kept for drawing is the drawn shape itself
    for frame in (g.sections, g.municipalities, g.regions):
        assert all(
            shapely.equals(shapely.from_geojson(json.dumps(d)), geom)
            for d, geom in zip(frame[maps.GEOJSON_COL], frame.geometry, strict=True)
        )
    sub = g.select(region="Ferizaj")
    assert set(sub.sections["section_id"]) == {"S6", "S7"} and len(sub.regions) == 1


def test_classes():
    c = maps.sequential_classes([0, 0, 0, 1, 2, 3, 10])
    assert c.integer and c.bounds[0][0] == 0 and c.bounds[-1][1] == 10
    assert list(c.classify([0, 10, np.nan])) == [0, len(c.colors) - 1, -1]
    zeros = maps.sequential_classes([0, 0, 0, 0, 0.8])  # one busy section among quiet ones
    assert zeros.bounds == ((0.0, 0.0), (0.8, 0.8))
    assert zeros.color([0, 0.8]) == [maps.SEQUENTIAL[3][0], maps.SEQUENTIAL[3][-1]]
    one = maps.sequential_classes([5, 5, 5])
    assert len(one.colors) == 1 and list(one.classify([5])) == [0]
    assert maps.sequential_classes([np.nan]).colors == ()
    d = maps.diverging_classes([-4, -1, 0, 2, 8])
    assert d.bounds[len(d.bounds) // 2] == (0.0, 0.0)
    assert all(lo <= hi for lo, hi in d.bounds)
    flat = maps.diverging_classes([0, 0])
    assert flat.colors == (maps.DIVERGING[3],)
    with pytest.raises(ValueError, match="3 to 7"):
        maps.sequential_classes([1, 2], k=9)
    with pytest.raises(ValueError, match="measure must be one of"):
        maps.choropleth(None, None, "colour", i18n.translator("en"), assets=offline.leaflet_assets())


def test_ensure_leaflet_copies_once_and_repairs(tmp_path):
    target = offline.ensure_leaflet(tmp_path)
    js = target / "leaflet.js"
    assert js.read_bytes()[:200] == (offline.leaflet_source_dir() / "leaflet.js").read_bytes()[:200]
    assert (target / "leaflet.css").exists() and any((target / "images").iterdir())
    stamp = js.stat().st_mtime_ns
    offline.ensure_leaflet(tmp_path)
    assert js.stat().st_mtime_ns == stamp  # nothing rewritten
    js.write_text("broken")
    offline.ensure_leaflet(tmp_path)
    assert js.read_bytes() == (offline.leaflet_source_dir() / "leaflet.js").read_bytes()
    assert offline.leaflet_version().startswith("1.")


def test_ensure_leaflet_from_several_processes_at_once_leaves_whole_files(tmp_path):
    """Two replicas (or the tests' workers) starting on one app folder copy Leaflet at the same moment: each
    copy goes through a temporary file of its own, so every call succeeds and every file is whole."""
    import subprocess
    import sys
    from pathlib import Path

    script = (  # the same 30 empty folders in the same order: the processes copy into each at about once
        "import sys\nfrom pathlib import Path\nfrom geo import offline\n"
        "for k in range(30):\n"
        "    offline.ensure_leaflet(Path(sys.argv[1]) / str(k))\n"
    )
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=root, stderr=subprocess.PIPE)
             for _ in range(4)]  # fmt: skip
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    source = (offline.leaflet_source_dir() / "leaflet.js").read_bytes()
    for k in range(30):
        target = tmp_path / str(k) / offline.LEAFLET_SUBDIR
        assert (target / "leaflet.js").read_bytes() == source
        assert oct((target / "leaflet.js").stat().st_mode & 0o777) == "0o644"
    assert not [f.name for f in tmp_path.rglob("*.tmp")]  # no temporary file left behind


# ---------------------------------------------------------------- density image, section and municipality maps


def density_grid():
    from geo import hotspots

    rng = np.random.default_rng(1)
    x = rng.normal(7_490_000, 400, 300)
    y = rng.normal(4_720_000, 400, 300)
    return hotspots.density(x, y, 500, (7_485_000, 4_715_000, 7_495_000, 4_725_000))


def png_size(url: str) -> tuple[int, int]:
    import base64

    raw = base64.b64decode(url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


def png_alpha(url: str) -> np.ndarray:
    import base64

    raw = base64.b64decode(url.split(",", 1)[1])
    w, h = struct.unpack(">II", raw[16:24])
    data = zlib.decompress(raw[raw.index(b"IDAT") + 4 : raw.index(b"IEND") - 8])
    rows = np.frombuffer(data, dtype=np.uint8).reshape(h, 1 + 4 * w)
    assert (rows[:, 0] == 0).all()  # no PNG filters
    return rows[:, 1:].reshape(h, w, 4)[:, :, 3]


def test_png_bytes_round_trip():
    img = np.zeros((2, 3, 4), dtype=np.uint8)
    img[0, 0] = (255, 0, 0, 255)
    raw = maps.png_bytes(img)
    assert raw.startswith(b"\x89PNG") and struct.unpack(">II", raw[16:24]) == (3, 2)
    with pytest.raises(ValueError, match="shape"):
        maps.png_bytes(np.zeros((2, 3), dtype=np.uint8))


def test_density_overlay_is_one_image_whose_size_does_not_grow_with_incidents():
    from geo import hotspots

    grid = density_grid()
    ov = maps.density_overlay(grid)
    assert ov is not None and ov.url.startswith("data:image/png;base64,")
    assert png_size(ov.url) == ov.size and max(ov.size) <= 720
    (s, w), (n, e) = ov.bounds
    assert 42.5 < s < n < 42.8 and 20.7 < w < e < 21.0  # degrees, west of Prishtinë
    more = hotspots.density(
        np.tile(np.random.default_rng(2).normal(7_490_000, 400, 300), 50),
        np.tile(np.random.default_rng(3).normal(4_720_000, 400, 300), 50),
        500,
        (7_485_000, 4_715_000, 7_495_000, 4_725_000),
    )
    assert maps.density_overlay(more).size == ov.size  # 50 times the points, the same image
    alpha = png_alpha(ov.url)
    assert alpha[0, 0] == 0 and alpha.max() > 200  # transparent where the density is ~0, opaque at the peak


def test_density_overlay_is_transparent_outside_the_mask_and_none_when_empty():
    from geo import hotspots

    grid = density_grid()
    mask = shapely.box(7_489_000, 4_719_000, 7_490_000, 4_720_000)  # a 1 km square
    alpha = png_alpha(maps.density_overlay(grid, mask).url)
    full = png_alpha(maps.density_overlay(grid).url)
    assert 0 < (alpha > 0).sum() < (full > 0).sum() / 2
    empty = hotspots.density(np.array([]), np.array([]), 500, (7_485_000, 4_715_000, 7_495_000, 4_725_000))
    assert maps.density_overlay(empty) is None
    with pytest.raises(ValueError, match="threshold"):
        maps.density_overlay(grid, threshold=1.5)


def test_section_fill_map_escapes_draws_the_overlay_and_stays_offline(geometry):
    _ = i18n.translator("sq")
    n = len(geometry.sections)
    tips = [maps.tip_html(name, "Prishtinë", [("Incidente", "3")]) for name in geometry.sections["section_name"]]
    ov = maps.density_overlay(density_grid())
    legend = maps.category_legend_html("<b>Gi*</b>", [("#b2182b", EVIL)])
    m = maps.section_fill_map(
        geometry, ["#b2182b"] + [None] * (n - 1), tips, legend, _, assets=offline.leaflet_assets(), overlay=ov
    )
    html = m.get_root().render()
    assert EVIL not in html
    assert any("&lt;script&gt;" in f["properties"]["tip"] for f in sections_layer(m).data["features"])
    assert "L.imageOverlay" in html and html.count("data:image/png;base64,") == 1
    assert URL.findall(html) == [] and "https://" not in html
    layer = sections_layer(m)
    feats = {f["id"]: f for f in layer.data["features"]}
    assert layer.style_function(feats["S1"])["fillOpacity"] > 0
    assert layer.style_function(feats["S2"])["fillOpacity"] == 0  # not filled: the density shows through
    with pytest.raises(ValueError, match="one entry per section"):
        maps.section_fill_map(geometry, [], [], "", _, assets=offline.leaflet_assets())


def test_municipality_map_features_are_keyed_by_name(geometry):
    _ = i18n.translator("sr")
    munis = geometry.municipalities
    m = maps.municipality_map(
        munis, ["#ffffcc"] * len(munis), ["x"] * len(munis), "legend", _, assets=offline.leaflet_assets()
    )
    layer = next(c for c in children(m, folium.GeoJson) if c.layer_name == "municipalities")
    assert {f["id"] for f in layer.data["features"]} == set(munis["municipality"])
    labels = [text for _lat, _lon, text, *_rest in children(m, maps._Labels)[0].labels]
    assert any("Uroševac" in text for text in labels)  # labels in the chosen language


def tooltip_rows(m: folium.Map, section_id: str) -> list[tuple[str, str]]:
    layer = sections_layer(m)
    props = next(f["properties"] for f in layer.data["features"] if f["id"] == section_id)
    tooltip = next(c for c in layer._children.values() if isinstance(c, folium.GeoJsonTooltip))
    return [(alias, props[k]) for k, alias in zip(tooltip.fields, tooltip.aliases, strict=True)]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_tooltip_says_which_change_and_names_an_area_once(geometry, measures, lang):
    m = build(geometry, measures.assign(year_earlier=1, change_year=0, z_year=0.0), lang=lang)
    _ = i18n.translator(lang)
    rows = tooltip_rows(m, "S1")  # in Prishtinë, police region Prishtinë
    labels = [k for k, _v in rows]
    assert len(labels) == len(set(labels)), labels  # no two rows with the same label ("Change", "Change")
    assert _("Change vs previous period") in labels and _("Change vs a year earlier") in labels
    area = dict(rows)[_("Area")]
    assert area == html_lib.escape(_.municipality("Prishtinë")), area  # not "Prishtinë · Prishtinë"
    other = dict(tooltip_rows(m, "S6"))[_("Area")]  # Ferizaj in police region Ferizaj: once too
    assert " · " not in other


def test_the_scale_bar_is_metric_only(geometry, measures):
    html = build(geometry, measures).get_root().render()
    assert "L.control.scale({imperial: false})" in html
    assert "imperial: true" not in html and '"imperial"' not in html


def test_public_withheld_and_no_data_have_different_patterns(data, geometry):
    from dashboard_fixtures import public_policy

    policy = public_policy()
    _ = i18n.translator("en")
    open_data = policy.apply(data)
    march = figures.Period(pd.Timestamp("2024-03-01").date(), pd.Timestamp("2024-03-31").date())
    public = policy.measures(figures.section_measures(open_data.sections, open_data.cube, march))
    assert public["count_withheld"].astype(bool).any()  # the tiny data has small counts
    m = maps.choropleth(
        geometry, public, "count", _, assets=offline.leaflet_assets(), title="n", withheld=policy.texts(_)
    )
    layer = sections_layer(m)
    classes = {f["id"]: layer.style_function(f).get("className", "") for f in layer.data["features"]}
    held = set(public.index[public["count_withheld"].astype(bool)])
    assert held and all(classes[sid] == "cp-withheld" for sid in held)
    nodata = {sid for sid, c in classes.items() if c == "cp-nodata"}
    assert not nodata & held
    body = children(m, maps._Legend)[0].body
    # "fewer than 5" is a legend entry of its own, dotted like the sections it stands for
    assert '<span class="cp-swatch cp-withheld-swatch"></span><span>fewer than 5</span>' in body
    assert "Count withheld" not in body and "No data / withheld" not in body  # one key per pattern
    html = m.get_root().render()
    assert 'id="cp-dots"' in html and 'id="cp-hatch"' in html


# ---------------------------------------------------------------- public maps show published values only

Q1 = figures.Period(pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-03-31").date())


@pytest.fixture(scope="module")
def published():
    """The small dataset's true and published measures for the first quarter of 2024, and the policy."""
    from dashboard_fixtures import public_policy, small_dataset

    policy = public_policy()
    restricted = small_dataset()
    open_data = policy.apply(restricted)
    true = figures.section_measures(restricted.sections, restricted.cube, Q1, figures.DEFAULT_CATEGORIES)
    shown = policy.measures(
        figures.section_measures(open_data.sections, open_data.cube, Q1, figures.DEFAULT_CATEGORIES)
    )
    cube = open_data.cube.incident_counts(Q1, figures.DEFAULT_CATEGORIES)
    return policy, restricted, true, shown, cube


def legend_numbers(body: str) -> list[float]:
    """The numbers of the legend's class rows (the swatches with a colour), in order."""
    rows = re.findall(r'<span class="cp-swatch" style="background:#[0-9a-f]{6}"></span><span>([^<]*)</span>', body)
    return [float(x.replace(",", "")) for row in rows for x in row.split(" – ")]


@pytest.mark.parametrize("measure", ["count", "rate"])
def test_a_public_maps_legend_and_tooltips_are_published_values(published, measure):
    policy, restricted, true, shown, cube = published
    _ = i18n.translator("en")
    m = maps.choropleth(
        maps.display_geometry(restricted.sections),
        shown,
        measure,
        _,
        assets=offline.leaflet_assets(),
        title="n",
        withheld=policy.texts(_),
    )
    small = shown["count_withheld"].astype(bool)
    published_counts = cube.reindex(shown.index, fill_value=0)
    # the controls: some counts show as "fewer than 5", and some shown counts are not the true ones
    assert small.any() and (~small).sum() >= 10
    differs = (published_counts != true["count"]) & ~small
    assert differs.sum() >= 3, "the published values must differ from the true counts for this to mean anything"
    for sid in shown.index:
        tip = dict(tooltip_rows(m, sid))
        if small[sid]:
            assert tip["Incidents"] == "fewer than 5" and tip["Per 1,000 residents"] == "–", sid
        else:
            assert tip["Incidents"] == _.number(published_counts[sid]), sid  # the cube's own cell
            rate = published_counts[sid] / true.loc[sid, "population"] * 1000
            assert tip["Per 1,000 residents"] == _.number(rate, decimals=2), sid
    # the legend's classes: of the shown published values, never of the true counts nor of a small one
    values = (published_counts if measure == "count" else published_counts / true["population"] * 1000)[~small]
    expected = maps.sequential_classes(values)
    bounds = legend_numbers(children(m, maps._Legend)[0].body)
    decimals = 0 if measure == "count" else 2
    assert bounds == [round(x, decimals) for lo, hi in expected.bounds for x in ((lo,) if lo == hi else (lo, hi))]
    from_true = maps.sequential_classes((true["count"] if measure == "count" else true["rate"])[~small])
    assert from_true.bounds != expected.bounds  # so a legend drawn from the true counts would fail above
    if measure == "count":
        assert not any(0 < b < policy.min_count for b in bounds)
        assert set(bounds) <= set(published_counts[~small].astype(float))


def test_a_public_map_leaves_small_counts_out_of_its_classes_even_when_given_them(published):
    """A caller that forgets to blank the small counts still gets no class bound or colour from them."""
    policy, restricted, _true, shown, cube = published
    _ = i18n.translator("en")
    careless = shown.assign(count=cube.reindex(shown.index, fill_value=0).astype("float64"))
    small = shown["count_withheld"].astype(bool)
    assert careless.loc[small, "count"].between(1, 4).all() and small.any()
    geometry = maps.display_geometry(restricted.sections)
    m = maps.choropleth(
        geometry, careless, "count", _, assets=offline.leaflet_assets(), title="n", withheld=policy.texts(_)
    )
    bounds = legend_numbers(children(m, maps._Legend)[0].body)
    assert bounds and not any(0 < b < policy.min_count for b in bounds)
    layer = sections_layer(m)
    for f in layer.data["features"]:
        if small[f["id"]]:
            assert f["properties"]["c"] == maps.NO_DATA and layer.style_function(f)["className"] == "cp-withheld"
            assert f["properties"]["t2"] == "fewer than 5"
    # without the public texts (restricted), the same values are coloured as they are
    plain = maps.choropleth(geometry, careless, "count", _, assets=offline.leaflet_assets(), title="n")
    assert any(0 < b < policy.min_count for b in legend_numbers(children(plain, maps._Legend)[0].body))


def test_section_labels_carry_a_short_form_escaped():
    assert maps.short_name("Prishtinë 38 – Rrilin") == "Rrilin"
    assert maps.short_name("Ferizaj Jug") == "" and maps.short_name(" – x") == ""
    _lat, _lon, html_ = maps._label(42.6, 21.1, "Qendra 1 – <b>Evil</b>", "cp-section", "<b>Evil</b>")
    assert 'data-short="&lt;b&gt;Evil&lt;/b&gt;"' in html_ and "<b>" not in html_
