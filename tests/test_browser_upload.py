"""A real boundary file uploaded on the Data page in Chromium at 1280 × 720: the check's report comes first
and its messages fit the screen (no column of explanations off to the right)."""

from __future__ import annotations

import json

import pytest
from realworld import municipal_boundaries
from test_browser import ARTIFACTS, squares, streamlit_app

pytestmark = pytest.mark.browser

WIDTH = 1280


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("own")
    (data / "sections.geojson").write_text(json.dumps(squares(), ensure_ascii=False), encoding="utf-8")
    (data / "options.json").write_text(json.dumps({"files": {"sections": "sections.geojson"}, "options": {}}))
    with streamlit_app(data) as url:
        yield url


def test_an_uploaded_boundary_file_is_checked_and_reported_readably(server, page, tmp_path):  # noqa: F811
    path = municipal_boundaries(tmp_path / "geoBoundaries-XKX-ADM2.geojson")
    page.set_viewport_size({"width": WIDTH, "height": 720})
    page.goto(f"{server}/data?lang=en", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Use your own files").wait_for(timeout=30_000)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    page.get_by_text(f"Uploaded: {path.name}").wait_for(timeout=30_000)
    page.get_by_role("button", name="Check these files").click()
    page.get_by_role("heading", name="Result of the check").wait_for(timeout=60_000)
    message = page.get_by_text("take the municipality's census 2024 population").first
    message.wait_for(timeout=30_000)
    page.get_by_text("Every record was used.").first.wait_for(timeout=10_000)

    # the check's report is above the loaded data's
    result_y = page.get_by_role("heading", name="Result of the check").bounding_box()["y"]
    loaded_y = page.get_by_role("heading", name="Validation report").bounding_box()["y"]
    assert result_y < loaded_y
    # its message wraps inside the screen, and nothing on the page needs horizontal scrolling
    message.scroll_into_view_if_needed()
    box = message.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert page.locator("[data-testid='stException']").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data-upload-check.png"), full_page=False)
    assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
