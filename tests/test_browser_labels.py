"""Map labels, legend and scale as Chromium draws them: no two labels overlap, the legend covers no section.

The demo's overview map is written as one offline HTML file (the same
``choropleth`` the Overview page draws) and opened in headless Chromium at the
size the Overview's map has at 1280×720 with the sidebar open. Waits on the
labels' own "decided" mark, never on the clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import exports, figures

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

#: The drawn labels (visible ones only), the legend's box and the sections' box on screen.
BOXES_JS = """() => {
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const labels = [...document.querySelectorAll('.cp-label-icon')]
    .filter(el => getComputedStyle(el).visibility !== 'hidden')
    .map(el => ({text: el.textContent, ...box(el.firstElementChild.getBoundingClientRect())}));
  let map = null;
  for (const k of Object.keys(window)) { let v; try { v = window[k]; } catch (e) { continue; }
    if (v instanceof L.Map) map = v; }
  let sections = null;  // the sections' layers only (they carry the figure t2); copies: extend() mutates
  map.eachLayer(l => { if (l.feature && l.getBounds && l.feature.properties && l.feature.properties.t2 !== undefined) {
    const b = l.getBounds();
    sections = sections ? sections.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); } });
  const sw = map.latLngToContainerPoint(sections.getSouthWest());
  const ne = map.latLngToContainerPoint(sections.getNorthEast());
  const c = map.getContainer().getBoundingClientRect();
  return {labels, all: document.querySelectorAll('.cp-label-icon').length,
          legend: box(document.querySelector('.cp-legend').getBoundingClientRect()),
          data: {left: c.left + sw.x, top: c.top + ne.y, right: c.left + ne.x, bottom: c.top + sw.y},
          scale: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.textContent)};
}"""


#: The map has its final view (no zoom animation running, the legend's refit done) and the labels were
#: decided at that zoom.
SETTLED_JS = """() => { if (!window.L || !document.querySelector('.cp-legend')) return false;
  for (const k of Object.keys(window)) { let v; try { v = window[k]; } catch (e) { continue; }
    if (v instanceof L.Map) return !v._animatingZoom && v.getContainer().dataset.cpLabelsZoom === String(v.getZoom()); }
  return false; }"""


def intersect(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.fixture(scope="module")
def demo():
    from geo.source import demo_source

    try:
        return demo_source().load()
    except Exception as exc:  # noqa: BLE001 - the demo files may not be generated yet
        pytest.skip(f"the demo dataset is not loadable: {exc}")


def drawn(browser, tmp_path: Path, html: str, size: tuple[int, int]) -> dict:
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        page.goto(path.as_uri(), wait_until="load")
        # decided at the final view: the legend's refit has run and the labels were decided after it
        page.wait_for_function(SETTLED_JS, timeout=30_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return page.evaluate(BOXES_JS)
    finally:
        page.close()


@pytest.mark.parametrize(
    ("lang", "municipality", "size", "at_least"),
    [
        ("sr", "", (920, 600), 20),  # the country, long Serbian names: most municipalities still named
        ("sq", "", (920, 600), 20),
        ("sq", "Prishtinë", (920, 600), 8),  # a municipality: its sections, where they fit (short forms too)
        ("sr", "Prizren", (920, 600), 3),
    ],
)
def test_drawn_labels_do_not_overlap_and_the_legend_covers_no_section(
    demo, browser, tmp_path, lang, municipality, size, at_least
):
    period = figures.default_period(demo.data_as_of)
    html = exports.overview_map_html(demo, period, lang, municipality=municipality)
    out = drawn(browser, tmp_path, html, size)
    labels = out["labels"]
    assert len(labels) >= at_least, f"only {len(labels)} of {out['all']} labels drawn"
    clashes = [(a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1 :] if intersect(a, b)]
    assert clashes == [], f"labels drawn over each other: {clashes[:5]}"
    assert not intersect(out["legend"], out["data"]), f"the legend covers the sections: {out}"
    assert len(out["scale"]) == 1 and out["scale"][0].strip().endswith("m"), f"metric scale only: {out['scale']}"
