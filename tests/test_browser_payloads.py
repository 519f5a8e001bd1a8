"""Every page in headless Chromium on inputs whose every text field is a Jinja2 payload (:mod:`payloads`).

The dashboard runs as a real server with the payload files as the deployment's data; each page is opened by
its URL. Nothing is evaluated (no "Sum 49", the block's text never alone), nothing breaks (no exception box),
the section names appear literally in the map's labels and tooltips, and the folder that the
command-running payload would create never appears.
"""

from __future__ import annotations

import os

import pytest
from payloads import EVAL, MARKER_ENV, NAMES, SECTIONS, UNCLOSED, inert_findings, write_payload_inputs

# helpers of the other browser tests (the browser and page fixtures are in conftest.py)
from test_browser import COUNT_JS, map_frame, on_screen, streamlit_app, tooltip_of

pytestmark = pytest.mark.browser

PAGES = ["", "hotspots", "concerns", "committees", "section", "trust", "print", "data"]
#: Pages that draw the sections' map when no section is chosen.
MAP_PAGES = {"", "hotspots", "concerns"}


@pytest.fixture(scope="module")
def payload_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("payload-app")
    write_payload_inputs(root / "own")
    marker = root / "template-ran"
    old = os.environ.get(MARKER_ENV)
    os.environ[MARKER_ENV] = str(marker)
    try:
        with streamlit_app(root / "own") as url:
            yield url, marker
    finally:
        if old is None:
            os.environ.pop(MARKER_ENV, None)
        else:
            os.environ[MARKER_ENV] = old


def settled(pg) -> None:
    """Wait until the page's script has run: a title is shown and Streamlit's running indicator is gone."""
    pg.locator("h1").first.wait_for(timeout=30_000)
    pg.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=60_000)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_shows_payloads_literally_and_runs_nothing(payload_server, page, path):
    url, marker = payload_server
    page.goto(f"{url}/{path}?lang=sq", wait_until="domcontentloaded")
    settled(page)
    shown = page.inner_text("body")
    if path in MAP_PAGES:
        frame = map_frame(page)
        frame.wait_for_function(f"() => ({COUNT_JS})() === {len(SECTIONS)}", timeout=30_000)
        shown += "\n" + frame.inner_text("body")
    assert page.locator("[data-testid='stException']").count() == 0
    assert "TemplateSyntaxError" not in shown and "Traceback" not in shown
    assert inert_findings(shown, path or "overview", names=False) == []
    assert not marker.exists(), "a payload ran on the server"
    assert page.dialogs == [] and page.blocked == []


def test_the_map_labels_and_tooltips_show_every_name_as_written(payload_server, page):
    url, marker = payload_server
    page.goto(f"{url}/?lang=en", wait_until="domcontentloaded")
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === {len(SECTIONS)}", timeout=30_000)
    labels = frame.evaluate("() => Array.from(document.querySelectorAll('.cp-label')).map(e => e.textContent)")
    assert set(NAMES) <= set(labels), labels
    assert EVAL in tooltip_of(page, frame, SECTIONS[0][0], EVAL)
    assert UNCLOSED in tooltip_of(page, frame, SECTIONS[2][0], UNCLOSED)
    # a click on the section whose id is a payload selects exactly that section
    page.mouse.click(*on_screen(page, frame, SECTIONS[0][0]))
    page.get_by_text(f"Police section: {EVAL}").wait_for(timeout=30_000)
    assert not marker.exists()
