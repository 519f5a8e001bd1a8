"""The public-safe mode leaks nothing: not by string matching, but by distance and by arithmetic.

The issue: "with public mode on, nothing the app or the CLI produces (HTML, JSON, images, files) places an
incident closer than the configured minimum — test by distance from every output coordinate to the input
incidents, not by string matching — and no suppressed count or sensitive category can be recovered from
totals on the same page."

The fixture (``leakcheck.write_fixture``) is a 3 × 3 grid of ~6 km sections around Prishtinë whose every
incident and concern lies ≥ 1.5 km from every section vertex, centroid and representative point, so a
public output can only come within 500 m of one by carrying its location. Section S22 has 3 thefts (a
small count); S13, S22 and S31 have domestic violence and sexual offences; S23's officer has a non-public
phone and e-mail; concerns carry coordinates and non-public descriptions with a marker text.

Every public output of the command line (``brief``, ``map``, ``hotspots``, ``validate``; by ``--public``
and by ``DASHBOARD_PUBLIC=1``) and every page of the dashboard (``DASHBOARD_PUBLIC=1``, everything shown:
texts, tables, metrics, charts' data, the maps' HTML and script, downloads) goes through the same checks:

- coordinates: every pair of numbers that could be a longitude and a latitude near Kosovo, in both orders,
  and every longitude/latitude column pair of a table, is at least 500 m from every incident and concern;
- names: no sensitive category's code or name (sq, sr, en), no non-public description or contact;
- counts: every figure is the public dataset's published value (within ±2 of the public count, so no
  sensitive incident is in it), the same in every output; the small section shows "fewer than 5" and no
  figure made from its count, and no statistic (Gi*) gives it back. Totals are cells of their own with
  their own adjustment, so subtracting the shown counts from a total gives the small count only up to
  the sum of several adjustments;
- what removed records leave behind: gaps in the concerns' ids or the loader's row numbers (with their
  neighbours' dates), a meeting's number of concerns less its public concerns, and the validation totals
  less the public ones.

Controls prove the detectors work: they fire on the restricted incidents export and on rounded
coordinates, and the restricted outputs do show the small count and the sensitive categories.

Images (PNG in data URIs, the brief's map, pyplot figures) carry no text to search. They are checked
differently: the public data they are drawn from has no coordinates at all (``PublicPolicy.apply``
removes them before anything is drawn, asserted below), and the brief's map is drawn from section
polygons and section counts only (``geo.brief.static_map``).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import PAGES, public_policy
from leakcheck import (
    MIN_DISTANCE_M,
    PERIOD,
    POPULATION,
    SENSITIVE,
    SENSITIVE_MEETINGS,
    SMALL_COUNT,
    SMALL_SECTION,
    Candidate,
    bytes_text,
    check_candidates,
    coordinate_leaks,
    legitimate_points,
    nearest_m,
    restricted_texts,
    sensitive_hits,
    split_images,
    table_candidates,
    write_fixture,
)

from geo import figures, i18n
from geo.cli import main
from geo.public import PublicPolicy
from geo.source import FileSource

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
#: True crimes per section in the public version (thefts and burglaries; no sensitive category); S22 small.
PUBLIC_COUNTS = {"S11": 11, "S12": 7, "S13": 8, "S21": 9, "S23": 11, "S31": 12, "S32": 13, "S33": 14}
#: Sensitive incidents in the shown sections (S22's are withheld with its small count).
SENSITIVE_IN = {"S13": 5, "S31": 6}
PRISHTINE = ("S12", "S13", "S22", "S23", "S32", "S33")
#: The sums of the other sections' counts, and the public totals (the small count in, no sensitive one).
TOTAL_ALL = sum(PUBLIC_COUNTS.values())  # 85
TOTAL_PRISHTINE = sum(v for k, v in PUBLIC_COUNTS.items() if k in PRISHTINE)  # 53
PUBLIC_ALL = TOTAL_ALL + 3  # 88 (the small section's 3 is in it)
PUBLIC_PRISHTINE = TOTAL_PRISHTINE + 3  # 56
WITH_SENSITIVE_ALL = PUBLIC_ALL + 5 + 5 + 6  # 104: what a total with the sensitive incidents would show
PER = ["--from", PERIOD[0], "--to", PERIOD[1]]
#: The perturbation table's largest adjustment.
BOUND = 2


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return write_fixture(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(scope="module")
def restricted(fx):
    data = FileSource(fx.paths).load()
    assert data.report.ok
    return data


@pytest.fixture(scope="module")
def published(restricted) -> dict:
    """The public copy's published counts with the suite's secret: ``sections`` (crimes per section, the
    maps' and hot spots' default categories), ``all`` (Kosovo's total), ``prishtine`` (its crimes)."""
    policy = public_policy()
    cube = policy.apply(restricted).cube
    period = figures.Period(*(pd.Timestamp(d).date() for d in PERIOD))
    cats = figures.DEFAULT_CATEGORIES
    per = figures.incident_counts(cube, period, cats).reindex(list(POPULATION), fill_value=0)
    crimes = figures.HEADLINE_CATEGORIES["crimes"]
    return {
        "sections": {k: int(v) for k, v in per.items()},
        "all": cube.total(period, cats),
        "all_crimes": cube.total(period, crimes),
        "prishtine": cube.total(period, crimes, pd.Index(PRISHTINE)),
        "prishtine_all": cube.total(period, cats, pd.Index(PRISHTINE)),
        "policy": policy,
    }


def test_published_counts_are_near_the_public_ones_and_the_small_section_is_small(published):
    """What the checks below rely on: with the suite's secret the small section's published value shows as
    "fewer than 5", and every published count is within the table's bound of the public count (so far from
    any count with the sensitive incidents in it: S13 8 or 13, S31 12 or 18)."""
    policy = published["policy"]
    assert policy.table.bound == BOUND
    assert policy.is_small(published["sections"][SMALL_SECTION])
    for sid, true in PUBLIC_COUNTS.items():
        assert abs(published["sections"][sid] - true) <= BOUND, (sid, published["sections"][sid], true)
    assert abs(published["all"] - PUBLIC_ALL) <= BOUND and abs(published["prishtine"] - PUBLIC_PRISHTINE) <= BOUND
    assert published["sections"] != {**PUBLIC_COUNTS, SMALL_SECTION: SMALL_COUNT}  # adjusted, not exact


def run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """``python -m geo ARGS`` in this process; (exit code, stdout)."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DASHBOARD_PUBLIC", raising=False)
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        with contextlib.redirect_stdout(out):
            try:
                rc = main(args)
            except SystemExit as exc:  # usage errors
                rc = int(exc.code or 0)
    return rc, out.getvalue()


def all_checks(text: str, secrets: np.ndarray, where: str) -> list[str]:
    """Every coordinate, name and private text a public output must not carry, as readable findings."""
    text, _images = split_images(text)
    found = [str(x) for x in coordinate_leaks(text, secrets, where)]
    found += [f"{where}: sensitive category {h}" for h in sensitive_hits(text)]
    found += [f"{where}: restricted text {h}" for h in restricted_texts(text)]
    return found


# ================================================================ the fixture and the detector


def test_every_secret_point_is_far_from_every_legitimate_coordinate(fx, restricted):
    import shapely

    from geo.schema import METRIC_CRS

    # vertices, centroids, representative points and every lon/lat combination of them: ≥ 0.9 km away
    assert nearest_m(legitimate_points(), fx.secret_points).min() > 900
    secs = restricted.sections
    corners = np.vstack([np.asarray(g.exterior.coords) for g in secs.geometry])
    centres = shapely.get_coordinates(shapely.centroid(secs.geometry.to_numpy()))
    reps = shapely.get_coordinates(shapely.point_on_surface(secs.geometry.to_numpy()))
    for name, pts in (("vertex", corners), ("centroid", centres), ("representative point", reps)):
        d = nearest_m(pts, fx.secret_points)
        assert d.min() >= 1500, (name, d.min())
    # and every point of every section boundary is ≥ 0.9 km from every secret point
    metric = secs.to_crs(METRIC_CRS)
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(*fx.secret_points.T), crs="EPSG:4326").to_crs(METRIC_CRS)
    boundary = shapely.union_all(metric.boundary.to_numpy())
    assert min(boundary.distance(p) for p in pts) > 900
    # the loaded data has the small count, the sensitive categories and every incident where it was put
    counts = restricted.incidents.groupby(["section_id", "category"]).size()
    assert counts[(SMALL_SECTION, "theft")] == SMALL_COUNT
    assert {"domestic_violence", "sexual_offence"} <= set(restricted.incidents["category"])
    assert any(p.code == "swapped_coordinates" for p in restricted.report.problems)
    got = restricted.incidents[["lon", "lat"]].to_numpy(dtype=float)
    assert nearest_m(got, fx.incident_points).max() < 1  # the swapped one swapped back


def test_the_public_copy_has_no_coordinates_so_no_image_drawn_from_it_can_place_anything(restricted):
    public = public_policy().apply(restricted)
    for name in ("incidents", "concerns"):
        table = getattr(public, name)
        assert table["lon"].isna().all() and table["lat"].isna().all(), name
    assert not public.incidents["category"].isin(["domestic_violence", "sexual_offence"]).any()


def test_control_the_detector_finds_the_restricted_incidents_export(fx, restricted):
    from geo import exports

    text = exports.joined_csv(restricted.incidents, restricted.sections).decode("utf-8-sig")
    leaks = coordinate_leaks(text, fx.secret_points, "restricted incidents CSV")
    placed = {(round(x.candidate.lon, 6), round(x.candidate.lat, 6)) for x in leaks}
    assert len(placed) >= len(restricted.incidents) - 1, len(placed)  # lat/lon columns are adjacent
    concerns = exports.joined_csv(restricted.concerns, restricted.sections, concerns=True).decode("utf-8-sig")
    assert coordinate_leaks(concerns, fx.secret_points, "restricted concerns CSV")


@pytest.mark.parametrize("decimals", [6, 4, 3, 2])
@pytest.mark.parametrize("style", ["geojson", "leaflet", "pdf-text"])
def test_control_the_detector_finds_rounded_coordinates_in_any_order(fx, decimals, style):
    pts = fx.incident_points[:20]
    if style == "geojson":  # [lon, lat]
        text = json.dumps({"type": "MultiPoint", "coordinates": np.round(pts, decimals).tolist()})
    elif style == "leaflet":  # [lat, lon]
        text = "\n".join(f"L.marker([{lat:.{decimals}f}, {lon:.{decimals}f}]).addTo(map);" for lon, lat in pts)
    else:  # decimal comma, words in between, as a PDF's text in Albanian might read
        text = " ".join(
            f"Vendi {lat:.{decimals}f}".replace(".", ",") + f" / {lon:.{decimals}f}".replace(".", ",")
            for lon, lat in pts
        )
    leaks = coordinate_leaks(text, fx.secret_points, style)
    found = {(round(x.candidate.lon, decimals), round(x.candidate.lat, decimals)) for x in leaks}
    expected = {(round(a, decimals), round(b, decimals)) for a, b in pts}
    assert expected <= found, (style, decimals, expected - found)


def test_control_the_detector_passes_every_legitimate_coordinate(fx):
    pts = legitimate_points()
    for decimals in (6, 5, 3, 2):
        geojson = json.dumps({"coordinates": np.round(pts, decimals).tolist()})
        leaflet = " ".join(f"[{lat:.{decimals}f}, {lon:.{decimals}f}]" for lon, lat in pts)
        assert coordinate_leaks(geojson + leaflet, fx.secret_points) == [], decimals


def test_control_a_point_just_inside_the_minimum_is_found_and_one_outside_is_not(fx):
    lon, lat = fx.incident_points[0]
    near = Candidate(lon + 450 / 81_700, lat, 6, "near")
    far = Candidate(lon + 560 / 81_700, lat, 6, "far")
    assert [x.candidate for x in check_candidates([near, far], fx.secret_points, "")] == [near]
    assert MIN_DISTANCE_M == 500


def test_control_restricted_outputs_show_the_small_count_and_the_sensitive_categories(fx, tmp_path):
    rc, out = run_cli(["hotspots", *fx.cli_inputs(), *PER, "--category", "theft", "--json"])
    assert rc == 0
    units = {u["section_id"]: u for u in json.loads(out)["units"]}
    assert units[SMALL_SECTION]["count"] == SMALL_COUNT
    rc, out = run_cli(["hotspots", *fx.cli_inputs(), *PER, "--json"])
    assert "domestic_violence" in json.loads(out)["categories"]
    assert json.loads(out)["units"][2]["count"] == 13  # S13: 8 thefts and 5 cases of domestic violence
    html = tmp_path / "brief.html"
    assert (
        run_cli(["brief", *fx.cli_inputs(), *PER, "--municipality", "Prishtinë", "--lang", "en", "--out", str(html)])[0]
        == 0
    )
    text = html.read_text(encoding="utf-8")
    assert sensitive_hits(text)  # the concerns table lists domestic violence
    assert brief_figure(text, "Crimes") == TOTAL_PRISHTINE + SMALL_COUNT + 10  # thefts, the small count, DV
    rc, out = run_cli(["validate", *fx.cli_inputs()])
    assert coordinate_leaks(out, fx.secret_points, "restricted validate")  # the swapped coordinates


# ================================================================ the command line

CLI_MODES = {"flag": (["--public"], {}), "env": ([], {"DASHBOARD_PUBLIC": "1"})}  # --public, DASHBOARD_PUBLIC=1
CLI_OUTPUTS = {
    "brief-municipality.pdf": ["brief", "--municipality", "Prishtinë", "--lang", "en"],
    "brief-municipality-en.html": ["brief", "--municipality", "Prishtinë", "--lang", "en"],
    "brief-municipality-sq.html": ["brief", "--municipality", "Prishtina", "--lang", "sq"],
    "brief-municipality-sr.html": ["brief", "--municipality", "Priština", "--lang", "sr"],
    "brief-section.pdf": ["brief", "--section", SMALL_SECTION, "--lang", "sq"],
    "brief-section.html": ["brief", "--section", SMALL_SECTION, "--lang", "en"],
    "map-en.html": ["map", "--lang", "en"],
    "map-sr.html": ["map", "--lang", "sr"],
    "hotspots.csv": ["hotspots"],
    "hotspots.geojson": ["hotspots", "--json"],
}


@pytest.fixture(scope="module")
def cli_outputs(fx, tmp_path_factory):
    """Every public CLI output, per mode: {mode: {name: text}} (stdout as ``name + ' stdout'``)."""
    done: dict[str, dict[str, str]] = {}
    for mode, (flag, env) in CLI_MODES.items():
        folder = tmp_path_factory.mktemp("cli")
        texts = {}
        for name, args in CLI_OUTPUTS.items():
            out = folder / name
            rc, stdout = run_cli([*args, *fx.cli_inputs(), *PER, *flag, "--out", str(out)], env)
            assert rc == 0, (mode, name, stdout)
            texts[name] = bytes_text(out.read_bytes(), name)
            texts[name + " stdout"] = stdout
        rc, stdout = run_cli(["validate", *fx.cli_inputs()], {"DASHBOARD_PUBLIC": "1"})
        texts["validate stdout"] = stdout
        rc, stdout = run_cli(["validate", "--json", *fx.cli_inputs()], {"DASHBOARD_PUBLIC": "1"})
        texts["validate --json stdout"] = stdout
        done[mode] = texts
    return done


@pytest.mark.parametrize("mode", CLI_MODES)
def test_cli_public_outputs_place_nothing_near_an_incident_and_name_nothing_sensitive(fx, cli_outputs, mode):
    findings = []
    for name, text in cli_outputs[mode].items():
        findings += all_checks(text, fx.secret_points, f"{mode} {name}")
    assert not findings, "\n".join(findings)


def test_cli_public_outputs_carry_coordinates_at_all(cli_outputs):
    """The coordinate checks above are not vacuous: the map and the GeoJSON do carry section outlines."""
    from leakcheck import candidates

    texts = cli_outputs["flag"]
    assert len(candidates(texts["map-en.html"])) > 50
    assert len(candidates(texts["hotspots.geojson"])) > 30


def brief_figure(html_text: str, label: str) -> int | str:
    """The "this period" cell of a brief's figure row, as a number when it is one."""
    m = re.search(r"<tr><td>" + re.escape(label) + r"</td><td>([^<]*)</td>", html_text)
    assert m, label
    digits = m.group(1).replace(",", "").replace(".", "")
    return int(digits) if digits.isdigit() else m.group(1)


@pytest.mark.parametrize("mode", CLI_MODES)
def test_cli_brief_and_map_show_the_published_values(cli_outputs, published, mode):
    texts = cli_outputs[mode]
    # the municipality's crimes: its published total (a cell of its own; no sensitive one in it)
    assert brief_figure(texts["brief-municipality-en.html"], "Crimes") == published["prishtine"]
    # the map's sections: their published values, the small one as "fewer than 5"
    feats = map_features(texts["map-en.html"])
    assert_section_counts(feats, published)
    # the small section itself: "fewer than 5", never its count (nor its count with the sensitive ones)
    section = texts["brief-section.html"]
    assert brief_figure(section, "Crimes") == "fewer than 5"
    cells = re.findall(r"<td>([^<]*)</td>", section)
    assert str(SMALL_COUNT) not in cells and str(SMALL_COUNT + 5) not in cells, cells


def map_features(html_text: str) -> dict[str, dict]:
    """The sections' GeoJSON properties in a folium map's HTML or script."""
    dec = json.JSONDecoder()
    feats = {}
    for m in re.finditer(r'"properties":\s*\{', html_text):
        try:
            props, _end = dec.raw_decode(html_text, m.end() - 1)
        except ValueError:
            continue
        if isinstance(props, dict) and "section_id" in props:
            feats[str(props["section_id"])] = props
    return feats


def numbers_in(value: object) -> set[float]:
    """Every number written in a text (thousands separators and decimal commas of sq/sr/en read)."""
    out = set()
    for tok in re.findall(r"\d[\d.,]*", str(value)):
        for cand in (tok.replace(",", ""), tok.replace(".", "").replace(",", ".")):
            with contextlib.suppress(ValueError):
                out.add(float(cand.rstrip(".")))
    return out


def small_section_figures(props: dict, lang: str) -> list[str]:
    """Figures of the small section's map feature that could be its count, its rate or its change."""
    _ = i18n.translator(lang)
    allowed = {_.number(4500), "4500", SMALL_SECTION, *withheld_texts()}  # its population, id, "fewer than 5"
    bad = []
    for k, v in props.items():
        if k in ("section_id", "tip", "c", "nd") or str(v) in allowed:
            continue
        if numbers_in(v):
            bad.append(f"{k}={v!r}")
    return bad


@pytest.mark.parametrize("mode", CLI_MODES)
@pytest.mark.parametrize("lang", ["en", "sr"])
def test_cli_map_small_section_shows_no_figure_and_others_no_sensitive_count(cli_outputs, published, mode, lang):
    feats = map_features(cli_outputs[mode][f"map-{lang}.html"])
    assert set(feats) >= set(PUBLIC_COUNTS) | {SMALL_SECTION}
    assert small_section_figures(feats[SMALL_SECTION], lang) == []
    assert_section_counts(feats, published, lang)


def withheld_texts() -> set[str]:
    """ "fewer than 5" in every language, as the outputs write it."""
    out = set()
    for lang in i18n.LANGS:
        _ = i18n.translator(lang)
        n = PublicPolicy().min_count
        out |= {_("fewer than {n}", n=n), _("fewer than {n}", n=_.number(n))}
    return out


def shown_count(props: dict) -> float | None:
    """The count a section's map feature shows (``t2``), ``None`` when it shows "fewer than 5"."""
    if str(props.get("t2", "")) in withheld_texts():
        return None
    nums = numbers_in(props.get("t2", ""))
    return next(iter(nums)) if len(nums) == 1 else None


def assert_section_counts(feats: dict[str, dict], published: dict, lang: str = "en") -> None:
    """Every section shows its published value (so no sensitive incident is in it: the values are within
    ±2 of the public counts); the small section "fewer than 5"."""
    policy, _ = published["policy"], i18n.translator(lang)
    assert shown_count(feats[SMALL_SECTION]) is None, feats[SMALL_SECTION]
    for sid, value in published["sections"].items():
        assert feats[sid]["t2"] == policy.show(value, _), (sid, feats[sid], value)
    assert sum(shown_count(feats[s]) is not None for s in PUBLIC_COUNTS) == len(PUBLIC_COUNTS)  # nothing else hidden


@pytest.mark.parametrize("mode", CLI_MODES)
def test_cli_hotspots_public_counts(cli_outputs, published, mode):
    doc = json.loads(cli_outputs[mode]["hotspots.geojson stdout"])
    assert doc["public"] is True
    assert not set(doc["categories"]) & {"domestic_violence", "sexual_offence"}
    units = {u["section_id"]: u for u in doc["units"]}
    small = units[SMALL_SECTION]
    assert all(small[k] is None for k in ("count", "rate", "z", "p")), small
    assert small["withheld"] == "small" and small["label"] == "not_significant"
    for sid, u in units.items():  # every other section: its published count, nothing else withheld
        if sid != SMALL_SECTION:
            assert u["count"] == published["sections"][sid] and u["withheld"] == "", u
            assert abs(u["count"] - PUBLIC_COUNTS[sid]) <= BOUND
    assert sum(doc["labels"].values()) == len(units)
    assert doc["classification"] == "PUBLIC"
    table = pd.read_csv(io.StringIO(cli_outputs[mode]["hotspots.csv"]), dtype={"section_id": str})
    row = table[table["section_id"] == SMALL_SECTION].iloc[0]
    assert pd.isna(row["count"]) and pd.isna(row["rate"]) and pd.isna(row["z"]), row.to_dict()
    assert not {"_key", "suppressed"} & set(table.columns) and not any(c.startswith("_raw") for c in table.columns)


def recoverable(sections, published_z: pd.Series, others: dict[str, float]) -> list[int]:
    """The values of the withheld count that, with the ``others``' counts, reproduce the published Gi* z of
    the other sections."""
    from geo import hotspots

    fits = []
    for guess in range(0, PublicPolicy().min_count):
        counts = pd.Series({**others, SMALL_SECTION: guess}, dtype="float64")
        z = hotspots.section_hotspots(sections, counts)["z"].reindex(published_z.index)
        both = published_z.notna() & z.notna()
        if both.any() and np.allclose(published_z[both], z[both], atol=1e-6):
            fits.append(guess)
    return fits


def test_control_gi_z_computed_with_the_small_count_gives_it_back(restricted):
    from geo import hotspots

    counts = pd.Series({**PUBLIC_COUNTS, SMALL_SECTION: SMALL_COUNT}, dtype="float64")
    z = hotspots.section_hotspots(restricted.sections, counts)["z"].drop(SMALL_SECTION)
    assert recoverable(restricted.sections, z, PUBLIC_COUNTS) == [SMALL_COUNT]


@pytest.mark.parametrize("mode", CLI_MODES)
def test_cli_hotspots_statistics_do_not_give_the_small_count_back(restricted, cli_outputs, mode):
    """Gi* of a section sums its neighbours' counts: with every other count shown, the neighbours' z would
    give the small count back. Try every value it could have: no single one may reproduce the output."""
    doc = json.loads(cli_outputs[mode]["hotspots.geojson stdout"])
    units = {u["section_id"]: u for u in doc["units"]}
    published = pd.Series({sid: u["z"] for sid, u in units.items()}, dtype="float64")
    others = {sid: u["count"] for sid, u in units.items() if u["count"] is not None}  # what the output shows
    assert set(others) == set(PUBLIC_COUNTS)
    fits = recoverable(restricted.sections, published, others)
    recovered = [g for g in fits if g > 0]
    assert len(recovered) != 1, f"the neighbours' Gi* z give the withheld count back: {recovered[0]}"
    assert fits == [0]  # the statistic took it as 0: it says nothing about it


def test_cli_hotspots_public_refuses_only_sensitive_categories(fx):
    """An empty category selection means every category: asking only for sensitive ones must not get them."""
    rc, out = run_cli(["hotspots", *fx.cli_inputs(), *PER, "--public", "--category", "domestic_violence", "--json"])
    if rc == 0:
        units = {u["section_id"]: u["count"] for u in json.loads(out)["units"]}
        assert units.get("S13") in (None, 0), f"public hotspots --category domestic_violence counted: {units}"
    else:
        assert rc == 2 and "S13" not in out


def test_cli_hotspots_public_grid_is_refused(fx, tmp_path):
    out = tmp_path / "grid.geojson"
    rc, stdout = run_cli(["hotspots", *fx.cli_inputs(), *PER, "--public", "--unit", "grid", "--out", str(out)])
    assert rc == 2 and not out.exists()


def test_cli_validate_in_public_mode_reports_problems_without_their_values(fx, cli_outputs):
    for name in ("validate stdout", "validate --json stdout"):
        text = cli_outputs["flag"][name]
        assert "swapped_coordinates" in text  # the problem is reported: where it is, not what
        assert all_checks(text, fx.secret_points, name) == []


# ================================================================ the dashboard


class Recorder:
    """Every file the app hands to the browser: media (images, eager downloads) and deferred downloads."""

    def __init__(self):
        self.files: list[tuple[str, bytes]] = []
        self.deferred: list[tuple[str, object]] = []

    def install(self, mp: pytest.MonkeyPatch) -> None:
        from streamlit.runtime.media_file_manager import MediaFileManager
        from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

        orig_load = MemoryMediaFileStorage.load_and_get_id
        orig_deferred = MediaFileManager.add_deferred
        rec = self

        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
            data = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
            rec.files.append((filename or mimetype, data))
            return orig_load(self, path_or_data, mimetype, kind, filename)

        def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
            rec.deferred.append((file_name or str(mimetype), data_callable))
            return orig_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

        mp.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
        mp.setattr(MediaFileManager, "add_deferred", add_deferred)

    def take(self) -> list[tuple[str, bytes]]:
        out = list(self.files)
        for name, fn in self.deferred:
            try:
                data = fn()
            except Exception as exc:  # noqa: BLE001 - a failing download is reported, not hidden
                data = f"DOWNLOAD FAILED: {type(exc).__name__}: {exc}".encode()
            out.append((name, data.encode() if isinstance(data, str) else bytes(data)))
        self.files, self.deferred = [], []
        return out


def proto_texts(msg, out: list[str], frames: list[pd.DataFrame]) -> None:
    """Every string in a protobuf message; Arrow tables (dataframes, charts' data) decoded into ``frames``."""
    from google.protobuf.descriptor import FieldDescriptor as FD

    for fd, value in msg.ListFields():
        repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == FD.LABEL_REPEATED
        values = value if repeated else [value]
        for v in values:
            if fd.type == FD.TYPE_MESSAGE:
                if hasattr(v, "ListFields"):
                    proto_texts(v, out, frames)
                elif hasattr(v, "items"):  # map fields
                    for k, x in v.items():
                        out.append(str(k))
                        if hasattr(x, "ListFields"):
                            proto_texts(x, out, frames)
                        else:
                            out.append(str(x))
            elif fd.type == FD.TYPE_STRING:
                out.append(v)
                if v[:1] in ("{", "["):  # a component's arguments: the map's script as a JSON string
                    with contextlib.suppress(ValueError):
                        json_strings(json.loads(v), out)
            elif fd.type == FD.TYPE_BYTES:
                frame = arrow_frame(v)
                if frame is not None:
                    frames.append(frame)
                else:
                    out.append(v.decode("utf-8", errors="replace"))
            elif fd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
                out.append(repr(v))


def json_strings(doc, out: list[str]) -> None:
    if isinstance(doc, str):
        out.append(doc)
    elif isinstance(doc, dict):
        for k, v in doc.items():
            out.append(str(k))
            json_strings(v, out)
    elif isinstance(doc, list):
        for v in doc:
            json_strings(v, out)
    elif doc is not None:
        out.append(repr(doc))


def arrow_frame(data: bytes) -> pd.DataFrame | None:
    import pyarrow as pa

    try:
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pandas()
    except Exception:  # noqa: BLE001 - not Arrow
        return None


def walk(node):
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from walk(child)


def collect(at, recorder: Recorder) -> dict:
    """Everything one page shows: texts (every element's strings), tables, files."""
    texts: list[str] = []
    frames: list[pd.DataFrame] = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            proto_texts(proto, texts, frames)
    files = recorder.take()
    return {
        "text": "\n".join(texts),
        "frames": frames,
        "files": files,
        "exceptions": [e.message for e in at.exception],
        "metrics": {m.label: m.value for m in at.metric},
    }


@pytest.fixture(scope="module")
def app_pages(fx):
    """Every page of the public dashboard on the fixture (the deployment's own data), all of Kosovo, and the
    overview, section, hotspots and print pages again with the small section selected."""
    from streamlit.testing.v1 import AppTest

    rec = Recorder()
    shown: dict[str, dict] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_PUBLIC", "1")
        mp.setenv("DASHBOARD_DATA_DIR", str(Path(fx.paths["sections"]).parent))
        rec.install(mp)
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
        rec.take()
        for page in PAGES:
            at.switch_page(page).run()
            shown[page] = collect(at, rec)
        with contextlib.suppress(Exception):
            at.switch_page(PAGES[0]).run()
            at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
            at.sidebar.selectbox(key="section").select(SMALL_SECTION).run()
            rec.take()
        selected = at.session_state["section"] if "section" in at.session_state else None
        for page in ("views/overview.py", "views/section.py", "views/hotspots.py", "views/print.py"):
            at.switch_page(page).run()
            shown[f"{page} ({selected or 'no section'} selected)"] = collect(at, rec)
        shown["_selected"] = {"section": selected}
    return shown


PAGE_RUNS = [
    *PAGES,
    *(f"{p} (S22 selected)" for p in ("views/overview.py", "views/section.py", "views/hotspots.py", "views/print.py")),
]


def page_findings(fx, page: dict, name: str) -> list[str]:
    findings = [f"{name}: exception {e}" for e in page["exceptions"]]
    findings += all_checks(page["text"], fx.secret_points, name)
    for i, frame in enumerate(page["frames"]):
        where = f"{name} table {i}"
        findings += [str(x) for x in check_candidates(table_candidates(frame), fx.secret_points, where)]
        findings += all_checks(frame.to_csv(index=False), fx.secret_points, where)
    for fname, data in page["files"]:
        findings += all_checks(bytes_text(data, fname), fx.secret_points, f"{name} file {fname}")
    return findings


@pytest.mark.parametrize("page", PAGE_RUNS)
def test_dashboard_public_page_places_nothing_and_names_nothing(fx, app_pages, page):
    key = page.replace("S22 selected", f"{app_pages['_selected']['section'] or 'no section'} selected")
    assert app_pages["_selected"]["section"] == SMALL_SECTION, "the small section could not be selected"
    findings = page_findings(fx, app_pages[key], page)
    assert not findings, "\n".join(findings[:40]) + (f"\n… {len(findings) - 40} more" if len(findings) > 40 else "")


def section_rows(frame: pd.DataFrame, sid: str) -> pd.DataFrame:
    """The rows of a table that are about section ``sid`` (by id or by name)."""
    mask = pd.Series(False, index=frame.index)
    for c in frame.columns:
        s = frame[c].astype("string")
        mask |= s.isin([sid, f"Sektori {sid}"]).fillna(False)
    return frame[mask]


@pytest.mark.parametrize("page", PAGE_RUNS)
def test_dashboard_public_page_shows_no_count_for_the_small_section(app_pages, page):
    key = page.replace("S22 selected", f"{app_pages['_selected']['section'] or 'no section'} selected")
    shown = app_pages[key]
    bad = []
    for i, frame in enumerate(shown["frames"]):
        rows = section_rows(frame, SMALL_SECTION)
        for _i, row in rows.iterrows():
            for col, v in row.items():
                if str(v) in (SMALL_SECTION, f"Sektori {SMALL_SECTION}") or col in ("population", "Residents"):
                    continue
                if {float(SMALL_COUNT), float(SMALL_COUNT + 5)} & numbers_in(v):
                    bad.append(f"table {i}: {col}={v!r} in the row of {SMALL_SECTION}")
    feats = map_features(shown["text"])
    if SMALL_SECTION in feats:
        bad += [f"map feature {SMALL_SECTION}: {x}" for x in small_section_figures(feats[SMALL_SECTION], "en")]
    assert not bad, "\n".join(bad)


def test_dashboard_public_totals_are_published_cells_with_no_sensitive_incident(app_pages, published):
    """The overview's Crimes figure is Kosovo's published total (a cell of its own, no sensitive category
    in it: within ±2 of the public total, far from the total with them), and its map shows the sections'
    published values, the same as the command line's."""
    overall = app_pages["views/overview.py"]["metrics"]
    assert overall, "the overview shows no figures in public mode"
    crimes = overall.get("Crimes")
    assert crimes is not None and numbers_in(crimes) == {float(published["all_crimes"])}, (
        f"Crimes for all of Kosovo is {crimes!r}; the published total is {published['all_crimes']} "
        f"(the public total {PUBLIC_ALL}; with the sensitive ones: {WITH_SENSITIVE_ALL})"
    )
    selected = app_pages["views/overview.py (S22 selected)"]["metrics"]
    assert float(SMALL_COUNT) not in numbers_in(selected.get("Crimes", "")), selected
    feats = map_features(app_pages["views/overview.py"]["text"])
    assert feats, "the overview map's sections were not found in what st_folium received"
    assert_section_counts(feats, published)


def test_dashboard_public_area_rates_are_published_totals_with_no_sensitive_incident(app_pages, published):
    """An area's rate is its published total over its residents, and no sensitive incident is in it."""
    shown = app_pages["views/section.py (S22 selected)"]["metrics"]
    for label, area, total, public_total in (
        ("Municipality, per 1,000 residents", PRISHTINE, published["prishtine_all"], PUBLIC_PRISHTINE),
        ("Kosovo, per 1,000 residents", list(POPULATION), published["all"], PUBLIC_ALL),
    ):
        assert label in shown, sorted(shown)
        assert abs(total - public_total) <= BOUND
        pop = sum(POPULATION[s] for s in area)
        with_sensitive = public_total + 5 + sum(v for s, v in SENSITIVE_IN.items() if s in area)
        assert shown[label] == f"{total / pop * 1000:.2f}", (label, shown[label], total, pop)
        assert shown[label] != f"{with_sensitive / pop * 1000:.2f}"


def test_dashboard_collection_is_not_vacuous(app_pages):
    """What the checks above read is what the pages show: the map's sections, tables, the data downloads."""
    assert app_pages["_selected"]["section"] == SMALL_SECTION
    assert len(map_features(app_pages["views/overview.py"]["text"])) == 9
    files = dict(app_pages["views/data.py"]["files"])
    sections = next((v for k, v in files.items() if "sections" in k), b"")
    assert sections.count(b"S2") >= 3, sorted(files)  # the sections' GeoJSON download, read
    assert sum(len(p["frames"]) for k, p in app_pages.items() if k != "_selected") >= 5
    assert "Sektori S22" in app_pages["views/section.py (S22 selected)"]["text"]


def test_control_the_app_collector_finds_coordinates_on_the_restricted_data_page(fx):
    """The same collection and checks, on the restricted dashboard: the Data page's table of records outside
    every section and its validation report (the swapped coordinates) do place incidents."""
    from streamlit.testing.v1 import AppTest

    rec = Recorder()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DASHBOARD_PUBLIC", raising=False)
        mp.setenv("DASHBOARD_DATA_DIR", str(Path(fx.paths["sections"]).parent))
        rec.install(mp)
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
        at.switch_page("views/data.py").run()
        page = collect(at, rec)
    findings = page_findings(fx, page, "restricted data page")
    assert any("m from a secret point" in f for f in findings), findings


# ================================================================ what removed records leave behind


def read_export(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def data_page_file(app_pages, kind: str) -> bytes:
    """The public Data page's download of ``kind`` (``concerns``, ``meetings``, …), read."""
    files = [(name, data) for name, data in app_pages["views/data.py"]["files"] if f"-{kind}-" in name]
    assert len(files) == 1, [name for name, _d in app_pages["views/data.py"]["files"]]
    assert files[0][0].endswith("-PUBLIC.csv")
    return files[0][1]


def id_gaps(raw: bytes) -> list[dict]:
    """The attack on a concerns export: every number missing from a sequence of ids or of the loader's row
    numbers, with the dates of its neighbours (the days between which the missing concern was raised)."""
    frame = read_export(raw)
    found = []
    for col in ("concern_id", "row"):
        if col not in frame or not len(frame):
            continue
        nums = pd.to_numeric(frame[col].str.extract(r"(\d+)$")[0], errors="coerce")
        if nums.isna().any():
            continue
        nums = nums.astype(int).sort_values(kind="stable")
        dates = frame.loc[nums.index, "raised_on"].tolist()
        vals = nums.tolist()
        for missing in range(1, vals[0]):
            found.append({"column": col, "number": missing, "after": None, "before": dates[0]})
        for k in range(len(vals) - 1):
            for missing in range(vals[k] + 1, vals[k + 1]):
                found.append({"column": col, "number": missing, "after": dates[k], "before": dates[k + 1]})
    return found


def test_control_gaps_in_concern_ids_and_rows_give_each_sensitive_concern_and_its_date(restricted):
    """The restricted export with the sensitive concerns left out, ids and row numbers kept (what the public
    export was before): each gap is one of them, and its neighbours give its date."""
    from geo import exports

    con = restricted.concerns
    sensitive = con["category"].astype(str) == "domestic_violence"
    raw = exports.joined_csv(con[~sensitive], restricted.sections, concerns=True)
    gaps = id_gaps(raw)
    truth = {int(i[1:]): d for i, d in zip(con.loc[sensitive, "concern_id"], con.loc[sensitive, "raised_on"])}
    assert len(truth) == 2
    for col in ("concern_id", "row"):
        found = {g["number"]: g for g in gaps if g["column"] == col}
        assert set(found) == set(truth), (col, gaps)
        for number, day in truth.items():
            assert found[number]["after"][:10] <= f"{day:%Y-%m-%d}" <= found[number]["before"][:10]


def test_public_concerns_export_has_no_row_numbers_and_ids_without_gaps(app_pages, restricted):
    raw = data_page_file(app_pages, "concerns")
    frame = read_export(raw)
    assert "row" not in frame.columns
    public = restricted.concerns["category"].astype(str) != "domestic_violence"
    assert len(frame) == int(public.sum()) == 6
    assert frame["concern_id"].tolist() == [str(k) for k in range(1, len(frame) + 1)]
    assert id_gaps(raw) == []
    # the published order is made of public fields only: by date, then category
    keys = list(zip(frame["raised_on"], frame["category"], strict=True))
    assert keys == sorted(keys)
    # and no public concern keeps the file's id, which would say where it stood among the sensitive ones
    assert not set(frame["concern_id"]) & set(restricted.concerns["concern_id"])


def meetings_with_hidden_concerns(meetings_raw: bytes, concerns_raw: bytes) -> set[str]:
    """The attack on the meetings export: a meeting's ``concerns_raised`` less its concerns in the concerns
    export points at the meetings where concerns were raised that the export leaves out."""
    meetings, concerns = read_export(meetings_raw), read_export(concerns_raw)
    listed = concerns["meeting_id"].value_counts()
    raised = pd.to_numeric(meetings["concerns_raised"], errors="coerce")
    more = raised - meetings["meeting_id"].map(listed).fillna(0)
    return set(meetings.loc[(more > 0).to_numpy(dtype=bool), "meeting_id"])


def test_control_meetings_concerns_raised_less_the_public_concerns_gives_the_sensitive_meetings(app_pages, restricted):
    from geo import exports

    restricted_meetings = exports.csv_bytes(restricted.meetings)
    public_concerns = data_page_file(app_pages, "concerns")
    assert meetings_with_hidden_concerns(restricted_meetings, public_concerns) == SENSITIVE_MEETINGS


def test_public_meetings_count_only_public_concerns(app_pages, restricted):
    from geo import coverage

    meetings = data_page_file(app_pages, "meetings")
    concerns = data_page_file(app_pages, "concerns")
    assert meetings_with_hidden_concerns(meetings, concerns) == set()
    frame = read_export(meetings)
    assert "row" not in frame.columns
    listed = read_export(concerns)["meeting_id"].value_counts()
    assert dict(zip(frame["meeting_id"], frame["concerns_raised"].astype(int), strict=True)) == listed.to_dict()
    # the committees page: the committee's concerns raised are its meetings' public ones (restricted: all 8)
    as_of = pd.Timestamp(PERIOD[1])
    assert coverage.last_meetings(restricted.committees, restricted.meetings, as_of).set_index("committee_id").loc[
        "K1", "concerns_raised"
    ] == len(restricted.concerns)
    shown = [
        f for f in app_pages["views/committees.py"]["frames"] if "Concerns raised" in f.columns and "Committee" in f
    ]
    assert shown, "the committees page shows no table of concerns raised"
    for f in shown:
        row = f[f["Committee"] == "KLSP Qendra"]
        assert row["Concerns raised"].astype(str).tolist() == [str(int(listed.sum()))], f
    assert "Concerns raised: the public concerns recorded for the meetings." in app_pages["views/committees.py"]["text"]


def validate_totals(text: str) -> dict[str, dict[str, int]]:
    """The counts ``validate`` prints per input (``loaded 105, joined 104, …``)."""
    out = {}
    for m in re.finditer(r"^\s+(\w+)\s+(.*)$", text, flags=re.M):
        pairs = re.findall(r"(\w+) ([\d,]+)", m.group(2))
        if pairs:
            out[m.group(1)] = {k: int(v.replace(",", "")) for k, v in pairs}
    return out


def test_control_validate_totals_less_the_public_total_give_the_sensitive_count(fx):
    rc, out = run_cli(["validate", *fx.cli_inputs()])
    assert rc == 0
    totals = validate_totals(out)
    assert totals["incidents"]["joined"] - PUBLIC_ALL == sum(n for *_s, n in SENSITIVE)  # 104 − 88 = 16
    assert totals["incidents"]["outside"] == 1  # a small count, shown
    assert totals["concerns"]["joined"] == 8  # less the 6 public concerns: the sensitive ones


def test_public_validate_prints_no_incident_or_concern_totals(cli_outputs):
    text = cli_outputs["flag"]["validate stdout"]
    totals = validate_totals(text)
    assert "incidents" not in totals and "concerns" not in totals, totals
    assert totals["sections"]["loaded"] == 9  # what public mode does not protect is still counted
    assert re.search(r"^\s+incidents\s+withheld in public-safe mode", text, flags=re.M), text
    doc = json.loads(cli_outputs["flag"]["validate --json stdout"])
    assert set(doc["counts"]) == {"sections", "committees", "meetings"}
    assert doc["counts_withheld"] == {"incidents": True, "concerns": True}
    # no number anywhere in it is a total of incidents or concerns
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    assert not numbers & {104, 105, 8}, numbers
