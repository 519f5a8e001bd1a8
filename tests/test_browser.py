"""The dashboard in a real headless Chromium, with every request off this machine blocked.

Starts ``streamlit run dashboard.py`` on a free port with a tiny dataset of its
own (``DASHBOARD_DATA_DIR``), waits on conditions (never on the clock) until
Leaflet has drawn every section, hovers and clicks one, and saves screenshots
under ``tests/artifacts/``. Skipped, saying why, without Chromium or Playwright.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
#: How long a browser test waits for a condition: long enough for the tests' parallel load on two cores.
TIMEOUT = 90_000
CHROMIUM = "/usr/bin/chromium"
EVIL = "<script>alert(1)</script>"

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

#: Leaflet layers that carry a GeoJSON feature and are on a map: the drawn section shapes.
COUNT_JS = """() => { if (!window.L) return -1; const maps = new Set(); let n = 0;
  for (const k of Object.keys(window)) { let v; try { v = window[k]; } catch (e) { continue; }
    if (v instanceof window.L.Map) maps.add(v); }
  maps.forEach(m => m.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.tip
                                          && l._map) n++; }));
  return n; }"""
#: Where a section's shape is on screen (inside the iframe), by section id.
CENTRE_JS = """(sid) => { let out = null;
  for (const k of Object.keys(window)) { let v; try { v = window[k]; } catch (e) { continue; }
    if (v instanceof window.L.Map) v.eachLayer(l => {
      if (l.feature && l.feature.id === sid && l.getBounds) {
        const p = v.latLngToContainerPoint(l.getBounds().getCenter());
        const r = v.getContainer().getBoundingClientRect();
        out = {x: r.left + p.x, y: r.top + p.y}; } }); }
  return out; }"""


def squares() -> dict:
    """Seven 0.02° squares: five in Prishtinë, two in Ferizaj; one with a hostile name."""
    specs = [
        ("S1", "Qendra", "Prishtinë", 21.10, 42.62),
        ("S2", "Ulpiana", "Prishtinë", 21.12, 42.62),
        ("S3", "Arbëria", "Prishtinë", 21.10, 42.64),
        ("S4", EVIL, "Prishtinë", 21.12, 42.64),
        ("S5", "Dardania", "Prishtinë", 21.14, 42.62),
        ("S6", "Ferizaj Jug", "Ferizaj", 21.15, 42.36),
        ("S7", "Nerodime", "Ferizaj", 21.17, 42.36),
    ]
    feats = []
    for sid, name, muni, x, y in specs:
        ring = [[x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"section_id": sid, "section_name": name, "municipality": muni, "population": 5000},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


@contextlib.contextmanager
def streamlit_app(data_dir: Path, **settings: str):
    """``streamlit run dashboard.py`` on a free port with ``data_dir`` as the deployment's data and the
    environment's ``settings`` (e.g. ``DASHBOARD_REFRESH_SECONDS="1"``); yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(data_dir), "DASHBOARD_TILES_URL": "", **settings}
    log_path = data_dir.parent / f"streamlit-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):  # up to ~30 s: wait on the health endpoint, or on the process dying
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                try:
                    proc.wait(timeout=0.1)
                    pytest.fail(f"streamlit exited: {log_path.read_text()[-2000:]}")
                except subprocess.TimeoutExpired:
                    pass
            else:
                pytest.fail("streamlit did not become healthy in 30 s")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on seven hand-made sections (one with a hostile name)."""
    data = tmp_path_factory.mktemp("own")
    (data / "sections.geojson").write_text(json.dumps(squares(), ensure_ascii=False), encoding="utf-8")
    rows = ["occurred_at,category,lat,lon"]
    rows += [f"2024-03-{d:02d} 10:00,theft,42.63,21.11" for d in range(1, 20)]
    rows += [f"2024-02-{d:02d} 10:00,theft,42.63,21.13" for d in range(1, 5)]
    (data / "incidents.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (data / "options.json").write_text(
        json.dumps({"files": {"sections": "sections.geojson", "incidents": "incidents.csv"}, "options": {}})
    )
    with streamlit_app(data) as url:
        yield url


def map_frame(page):
    """The streamlit-folium iframe, once Leaflet is loaded in it."""
    handle = page.wait_for_selector("iframe[title*='st_folium']", timeout=TIMEOUT)
    frame = handle.content_frame()
    frame.wait_for_function("() => !!window.L", timeout=TIMEOUT)
    return frame


def on_screen(page, frame, section_id: str) -> tuple[float, float]:
    """Page coordinates of a section's centre, after scrolling the map into view."""
    iframe = page.query_selector("iframe[title*='st_folium']")
    iframe.scroll_into_view_if_needed()
    box = iframe.bounding_box()
    centre = frame.evaluate(CENTRE_JS, section_id)
    return box["x"] + centre["x"], box["y"] + centre["y"]


def test_map_draws_every_section_offline_and_shows_tooltips(server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === 7", timeout=TIMEOUT)
    assert frame.evaluate(COUNT_JS) == 7

    # Leaflet came from this server, not from a CDN
    assert frame.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => s.includes('leaflet'))") == [
        f"{server}/app/static/vendor/leaflet/leaflet.js"
    ]

    # hover the section with the hostile name: its tooltip shows it as text, nothing runs
    point = on_screen(page, frame, "S4")
    page.mouse.move(*point)
    tip = frame.wait_for_selector(".leaflet-tooltip", timeout=10_000)
    assert EVIL in tip.inner_text()
    assert "Prishtinë" in tip.inner_text()
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # a click selects the section in the sidebar
    page.mouse.click(*on_screen(page, frame, "S2"))
    page.get_by_text("Police section: Ulpiana").wait_for(timeout=TIMEOUT)
    chosen = page.locator("[data-testid='stSidebar'] input").evaluate_all("els => els.map(e => e.value)")
    assert ["Prishtinë", "Prishtinë", "Ulpiana"] == [v for v in chosen if v in ("Prishtinë", "Ulpiana")]
    frame = map_frame(page)  # the map is redrawn for the municipality
    frame.wait_for_function(f"() => ({COUNT_JS})() === 5", timeout=TIMEOUT)
    page.screenshot(path=str(ARTIFACTS / "overview-selected.png"), full_page=True)

    assert page.dialogs == [], "a script from the data ran"
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
    assert page.failed == [], f"missing files: {page.failed[:5]}"


def test_data_page_opens_directly(server, page):
    # the first request to a page URL must run the whole app (sidebar, data), not the page alone
    page.goto(f"{server}/data?lang=sq", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Raporti i verifikimit").wait_for(timeout=TIMEOUT)
    page.locator("[data-testid='stSidebar']").get_by_text("Rajoni policor").wait_for(timeout=TIMEOUT)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "data.png"), full_page=True)
    assert page.blocked == []


def test_leaflet_files_are_served_with_script_types(server, page):
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    map_frame(page)  # a first run has copied Leaflet into the served folder (a fresh clone has none)
    with urllib.request.urlopen(f"{server}/app/static/vendor/leaflet/leaflet.js", timeout=5) as r:
        assert r.status == 200 and "javascript" in r.headers["Content-Type"]
    with urllib.request.urlopen(f"{server}/app/static/vendor/leaflet/leaflet.css", timeout=5) as r:
        assert "css" in r.headers["Content-Type"]


def test_demo_map_draws_all_its_sections_offline(tmp_path, page):
    from geo.source import demo_source

    try:
        n_sections = len(demo_source().load().sections)
    except Exception as exc:  # noqa: BLE001 - the demo files may not be generated yet
        pytest.skip(f"the demo dataset is not loadable: {exc}")
    empty = tmp_path / "no-own-data"
    empty.mkdir()
    with streamlit_app(empty) as url:
        page.goto(f"{url}/?lang=sr", wait_until="domcontentloaded")
        frame = map_frame(page)
        frame.wait_for_function(f"() => ({COUNT_JS})() === {n_sections}", timeout=45_000)
        page.get_by_text("Demo podaci — sintetički, približne granice").first.wait_for(timeout=10_000)
        frame.wait_for_selector(".cp-legend", timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "demo-overview-sr.png"), full_page=True)
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
    assert page.failed == [], f"missing files: {page.failed[:5]}"


def test_hotspots_page_draws_sections_and_one_density_image_offline(server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/?lang=en", wait_until="domcontentloaded")
    map_frame(page)  # the first run (Overview) has finished: navigating now keeps the session's language
    page.locator("[data-testid='stSidebarNav']").get_by_text("Hotspots").click()
    page.get_by_role("heading", name="Does the hotspot map predict?").wait_for(timeout=TIMEOUT)
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === 7", timeout=TIMEOUT)
    overlay = frame.wait_for_selector("img.leaflet-image-layer", state="attached", timeout=TIMEOUT)
    assert overlay.get_attribute("src").startswith("data:image/png;base64,")
    assert frame.evaluate("() => document.querySelectorAll('img.leaflet-image-layer').length") == 1
    box = overlay.bounding_box()
    assert box is not None and box["width"] > 10 and box["height"] > 10  # drawn over the map, not collapsed
    frame.wait_for_selector(".cp-legend", timeout=10_000)
    assert "Incidents per km² (density)" in frame.inner_text(".cp-legend")
    page.screenshot(path=str(ARTIFACTS / "hotspots.png"), full_page=True)
    assert page.dialogs == [], "a script from the data ran"
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
    assert page.failed == [], f"missing files: {page.failed[:5]}"


def test_a_million_incidents_still_draw_the_map(tmp_path, page):
    """The demo's sections with one million generated incidents (Parquet, as a deployment would keep them)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from geo.source import DEMO_DIR

    sections = gpd.read_file(DEMO_DIR / "sections.geojson")
    rng = np.random.default_rng(7)
    n = 1_000_000
    pick = rng.integers(len(sections), size=n)
    inner = shapely.point_on_surface(sections.geometry.values)  # a point inside every section
    lon = shapely.get_x(inner)[pick] + rng.normal(0, 0.0005, n)
    lat = shapely.get_y(inner)[pick] + rng.normal(0, 0.0005, n)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    cats = np.array(["theft", "burglary", "assault", "accident_damage", "drugs"])[rng.integers(5, size=n)]
    data = tmp_path / "own"
    data.mkdir()
    sections.to_file(data / "sections.geojson", driver="GeoJSON")
    pd.DataFrame({"occurred_at": days, "category": cats, "lat": lat, "lon": lon}).to_parquet(data / "incidents.parquet")
    (data / "options.json").write_text(
        json.dumps({"files": {"sections": "sections.geojson", "incidents": "incidents.parquet"}, "options": {}})
    )
    # imported beforehand, as a deployment of this size would (python -m geo db import-own): the first start
    # would otherwise import them while the first page waits
    from geo import deployment
    from geo.settings import Settings

    assert deployment.import_own_command(Settings.load({"DASHBOARD_DATA_DIR": str(data)}, secrets_file=None)) == 0
    with streamlit_app(data) as url:
        page.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
        frame = map_frame(page)
        frame.wait_for_function(f"() => ({COUNT_JS})() === {len(sections)}", timeout=90_000)
        frame.wait_for_selector(".cp-legend", timeout=10_000)
        crimes = page.locator("[data-testid='stMetric']").filter(has_text="Crimes").first
        value = int(crimes.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))
        assert 40_000 < value < 80_000  # one month of four crime categories out of a year of a million
        page.screenshot(path=str(ARTIFACTS / "million-overview.png"), full_page=False)
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
    assert page.failed == [], f"missing files: {page.failed[:5]}"


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """The seven squares in February 2024, served in public-safe mode: 19 thefts in S1, 8 in S5, 2 in S2
    (a small count: published as 1 … 4) and 6 cases of domestic violence in S3 (a sensitive category).

    ``url``, and ``published``: the public copy of the same files with the suite's secret (the figures the
    server must show)."""
    from types import SimpleNamespace

    from dashboard_fixtures import public_policy

    from geo.source import FileSource

    data = tmp_path_factory.mktemp("public")
    (data / "sections.geojson").write_text(json.dumps(squares(), ensure_ascii=False), encoding="utf-8")
    rows = ["occurred_at,category,lat,lon"]
    rows += [f"2024-02-{d:02d} 10:00,theft,42.63,21.11" for d in range(1, 20)]
    rows += [f"2024-02-{d:02d} 11:00,theft,42.63,21.15" for d in range(1, 9)]
    rows += [f"2024-02-{d:02d} 12:00,theft,42.63,21.13" for d in range(1, 3)]
    rows += [f"2024-02-{d:02d} 22:00,domestic_violence,42.65,21.11" for d in range(1, 7)]
    rows += ["2024-03-01 10:00,theft,42.63,21.11"]  # so that February is the last full month
    (data / "incidents.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (data / "options.json").write_text(
        json.dumps({"files": {"sections": "sections.geojson", "incidents": "incidents.csv"}, "options": {}})
    )
    files = {"sections": data / "sections.geojson", "incidents": data / "incidents.csv"}
    published = public_policy().apply(FileSource(files).load())
    old = os.environ.get("DASHBOARD_PUBLIC")
    os.environ["DASHBOARD_PUBLIC"] = "1"  # the suite's secret is in the environment (conftest)
    try:
        with streamlit_app(data) as url:
            yield SimpleNamespace(url=url, published=published)
    finally:
        if old is None:
            os.environ.pop("DASHBOARD_PUBLIC", None)
        else:
            os.environ["DASHBOARD_PUBLIC"] = old


def tooltip_of(page, frame, section_id: str, name: str) -> str:
    """The tooltip's text while the mouse is over a section (waits until it names that section)."""
    page.mouse.move(0, 0)
    page.mouse.move(*on_screen(page, frame, section_id))
    frame.wait_for_function(
        "(name) => Array.from(document.querySelectorAll('.leaflet-tooltip')).some(t => t.innerText.includes(name))",
        arg=name,
        timeout=10_000,
    )
    return frame.evaluate(
        "(name) => Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.innerText)"
        ".filter(t => t.includes(name)).join(' ')",
        name,
    )


def test_public_deployment_shows_published_counts_and_no_sensitive_category(public_server, page):
    from geo import figures, i18n

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    data = public_server.published
    policy, _ = data.cube.policy, i18n.translator("en")
    february = figures.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    counts = figures.incident_counts(data.cube, february, figures.DEFAULT_CATEGORIES)
    page.goto(f"{public_server.url}/?lang=en", wait_until="domcontentloaded")
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === 7", timeout=TIMEOUT)
    page.get_by_text("PUBLIC", exact=True).first.wait_for(timeout=10_000)
    assert page.get_by_text("RESTRICTED", exact=True).count() == 0
    assert policy.is_small(counts["S2"]) and "fewer than 5" in tooltip_of(page, frame, "S2", "Ulpiana")  # 2 thefts
    assert policy.show(counts["S1"], _) in tooltip_of(page, frame, "S1", "Qendra")  # 19, adjusted
    dardania = tooltip_of(page, frame, "S5", "Dardania")  # 8, adjusted: nothing is withheld with the small one
    assert policy.show(counts["S5"], _) in dardania and "withheld" not in dardania
    crimes = page.locator("[data-testid='stMetric']").filter(has_text="Crimes").first
    total = data.cube.total(february, figures.HEADLINE_CATEGORIES["crimes"])  # its own cell, no domestic violence
    assert crimes.locator("[data-testid='stMetricValue']").inner_text() == policy.show(total, _)
    assert abs(total - 29) <= policy.table.bound
    page.get_by_text(policy.note(_)).first.wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "public-overview.png"), full_page=True)
    assert "Domestic violence" not in page.content()
    assert page.blocked == [] and page.failed == [] and page.dialogs == []


def test_public_deployment_offers_no_density_and_no_upload(public_server, page):
    page.goto(f"{public_server.url}/?lang=en", wait_until="domcontentloaded")
    map_frame(page)  # the first run has finished: navigate within the app
    page.locator("[data-testid='stSidebarNav']").get_by_text("Hotspots").click()
    page.get_by_text("Public version: hot and cold spots of whole sections, from the published counts").wait_for(
        timeout=TIMEOUT
    )
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === 7", timeout=TIMEOUT)
    assert frame.evaluate("() => document.querySelectorAll('img.leaflet-image-layer').length") == 0
    assert page.get_by_role("checkbox", name="Density surface").count() == 0
    assert page.get_by_role("checkbox", name="Gi* hot and cold spots").count() == 1  # the same page, restricted: both
    page.screenshot(path=str(ARTIFACTS / "public-hotspots.png"), full_page=True)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Data").click()
    page.get_by_text("Uploading is disabled: this deployment is in public-safe mode.").wait_for(timeout=TIMEOUT)
    assert page.locator("[data-testid='stFileUploader']").count() == 0
    assert page.blocked == [] and page.failed == []
