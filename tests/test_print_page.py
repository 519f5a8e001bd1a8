"""The "Brief and exports" page in Streamlit's AppTest: the files it offers, their version and their marking.

Downloads are read back from Streamlit's media storage (the bytes the browser would get), not from the
page's session state.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pypdf
import pytest
from dashboard_fixtures import EVIL, TinySource, ok, texts
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from geo import i18n, public, settings
from geo.source import FileSource, demo_source

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
PAGE = "views/print.py"


def demo_ready() -> bool:
    try:
        return bool(len(demo_source().load().sections))
    except Exception:  # noqa: BLE001 - the demo files may not be generated yet
        return False


pytestmark = pytest.mark.skipif(not demo_ready(), reason="the demo dataset (data/demo) is not there or not loadable")


class RecordingStorage(MemoryMediaFileStorage):
    """Streamlit's in-memory media storage that remembers every file after the run's mock runtime is gone."""

    files: dict = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        RecordingStorage.files[file_id] = self._files_by_id[file_id]
        return file_id


#: Deferred downloads (restricted files, whose audit record is written when they are downloaded): file name →
#: (MIME type, the callable the download calls), the latest run's.
DEFERRED: dict = {}


@pytest.fixture(autouse=True)
def recording_media(monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    RecordingStorage.files = {}
    DEFERRED.clear()
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", RecordingStorage)
    orig_deferred = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        DEFERRED[file_name] = (mimetype, data_callable)
        return orig_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)


def run(lang: str = "en", source=None, **state) -> AppTest:
    """The dashboard on the demo data (or ``source``), on the print page; ``state``: sidebar values to set first."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = source or demo_source()
    at.session_state["lang"] = lang
    at.run()
    for key, value in state.items():  # in order: a region's callback clears the municipality and section
        at.sidebar.selectbox(key=key).set_value(value).run()
    at.switch_page(PAGE).run()
    ok(at)
    return at


def widget(at, kind: str, key: str):
    found = [w for w in getattr(at, kind) if w.key == key]
    return found[0] if found else None


def downloads(at) -> list[tuple[str, str, bytes]]:
    """``(file name, MIME type, bytes)`` of every download button on the page."""
    out = []
    for button in at.get("download_button"):
        if button.proto.url:
            f = RecordingStorage.files[Path(button.proto.url).stem]
            out.append((f.filename, f.mimetype, f.content))
        else:  # deferred: made (after its audit record) when pressed, as a press would
            names = [n for n in DEFERRED if n and button.proto.label.endswith(n)]
            assert len(names) == 1, (button.proto.label, list(DEFERRED))
            mime, build = DEFERRED[names[0]]
            out.append((names[0], mime, build()))
    return out


def make(at, what: str) -> tuple[str, str, bytes]:
    """Press "Prepare the brief" (``what="brief"``) or "Prepare the map" and return the one new download."""
    at.button(key=f"print_{what}_button").click().run()
    ok(at)
    files = [d for d in downloads(at) if d[0].startswith(what + "-")]
    assert len(files) == 1, [d[0] for d in downloads(at)]
    return files[0]


def pdf_text(payload: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(payload))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_page_renders_in_every_language(lang):
    _ = i18n.translator(lang)
    at = run(lang)
    assert at.title[0].value == _("Brief and exports")
    assert not at.warning and not at.error
    assert [h.value for h in at.header] == [_("One-page brief"), _("Overview map as one file")]
    # restricted deployment: both versions offered, restricted first
    version = widget(at, "radio", "pr_version")
    assert version.options == [_("Restricted: for police use"), _("Public")] and version.index == 0
    # the files' language defaults to the dashboard's
    assert widget(at, "radio", "pr_lang").value == lang
    # no area chosen in the sidebar: a municipality is chosen on the page, and the brief waits for it
    muni = widget(at, "selectbox", "pr_municipality")
    assert muni is not None and muni.value is None and len(muni.options) == 38
    assert at.button(key="print_brief_button").disabled
    assert not at.button(key="print_map_button").disabled
    assert not downloads(at)


def test_brief_for_a_municipality_chosen_on_the_page_is_a_one_page_pdf():
    at = run("en")
    widget(at, "selectbox", "pr_municipality").set_value("Gjakovë").run()
    assert not at.button(key="print_brief_button").disabled
    name, mime, payload = make(at, "brief")
    assert name == "brief-gjakove-2026-10-en-RESTRICTED.pdf" and mime == "application/pdf"
    pages, text = pdf_text(payload)
    assert pages == 1
    assert "Gjakovë" in text and "RESTRICTED" in text and "PUBLIC" not in text
    assert "October 2026" in text


def test_the_sidebar_area_wins_and_the_language_is_the_pages():
    sr = i18n.translator("sr")
    at = run("en", region="Prishtinë", municipality="Prishtinë")
    assert widget(at, "selectbox", "pr_municipality") is None  # the sidebar's municipality is used
    assert "Prishtinë" in texts(at)
    widget(at, "radio", "pr_lang").set_value("sr").run()
    name, _mime, payload = make(at, "brief")
    assert name == "brief-prishtine-2026-10-sr-RESTRICTED.pdf"
    pages, text = pdf_text(payload)
    assert pages == 1 and sr.municipality("Prishtinë") in text and "Krivična dela" in text
    # a file is offered only for the choices on screen: another language needs a new press
    widget(at, "radio", "pr_lang").set_value("sq").run()
    assert not [d for d in downloads(at) if d[0].startswith("brief-")]


def test_a_section_chosen_in_the_sidebar_wins_over_its_municipality(demo):
    rec = demo.sections[demo.sections["section_id"] == "PR-01"].iloc[0]
    at = run("en", region=rec["region"], municipality=rec["municipality"], section="PR-01")
    widget(at, "radio", "pr_format").set_value("html").run()
    name, mime, payload = make(at, "brief")
    assert name == "brief-pr-01-2026-10-en-RESTRICTED.html" and mime.startswith("text/html")
    page = payload.decode("utf-8")
    assert "section " + rec["section_name"] in page and "RESTRICTED" in page


def test_public_version_on_a_restricted_deployment_leaves_out_sensitive_categories():
    _ = i18n.translator("en")
    sensitive = [_.term("incident_category", "domestic_violence"), _.term("concern_category", "domestic_violence")]
    at = run("en", region="Prishtinë", municipality="Prishtinë")
    widget(at, "radio", "pr_format").set_value("html").run()
    _name, _mime, restricted = make(at, "brief")
    assert any(term in restricted.decode("utf-8") for term in sensitive)  # the restricted brief shows them

    widget(at, "radio", "pr_version").set_value("public").run()
    ok(at)
    assert not [d for d in downloads(at) if d[0].startswith("brief-")]  # the restricted file is not offered
    name, _mime, public = make(at, "brief")
    assert name == "brief-prishtine-2026-10-en-PUBLIC.html"
    page = public.decode("utf-8")
    assert '<div class="marking">PUBLIC</div>' in page and "RESTRICTED" not in page
    assert not any(term in page for term in sensitive)

    widget(at, "radio", "pr_format").set_value("pdf").run()
    name, _mime, payload = make(at, "brief")
    pages, text = pdf_text(payload)
    assert name.endswith("-PUBLIC.pdf") and pages == 1
    assert "PUBLIC" in text and "RESTRICTED" not in text
    assert not any(term in text for term in sensitive)


def test_public_deployment_has_no_restricted_version(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    _ = i18n.translator("sq")
    at = run("sq")
    assert widget(at, "radio", "pr_version") is None
    assert not any("RESTRICTED" in r.value or _("Restricted: for police use") in r.options for r in at.radio)
    assert _("This dashboard is public: every file made here is the public version, marked PUBLIC.") in texts(at)
    widget(at, "selectbox", "pr_municipality").set_value("Prizren").run()
    name, _mime, payload = make(at, "brief")
    assert name == "brief-prizren-2026-10-sq-PUBLIC.pdf"
    pages, text = pdf_text(payload)
    assert pages == 1 and "PUBLIC" in text and "RESTRICTED" not in text and "Prizren" in text
    name, _mime, page = make(at, "map")
    assert name == "map-kosovo-2026-10-sq-PUBLIC.html"
    assert "<title>PUBLIK · PUBLIC".encode() in page and b"RESTRICTED" not in page  # in Albanian and English


# ---------------------------------------------------------------- the map


def test_map_is_one_offline_file_for_the_sidebar_area_and_marked(demo):
    at = run("sr", region="Prishtinë", municipality="Prishtinë")
    name, mime, payload = make(at, "map")
    assert name == "map-prishtine-2026-10-sr-RESTRICTED.html" and mime.startswith("text/html")
    page = payload.decode("utf-8")
    # nothing is fetched: no script or stylesheet from anywhere, let alone from the internet
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", page)
    assert "L.map(" in page or "L.Map" in page
    # marked in the browser tab and in the legend, in the chosen language
    assert re.search(
        r"<title>OGRANIČENO · RESTRICTED · Incidenti na 1\.000 stanovnika, izglađeno · oktobar 2026 · "
        r"sintetički demo podaci, ne podaci policije</title>",  # the demo's every output says it is synthetic
        page,
    )
    assert page.count("RESTRICTED") >= 2
    # only the sidebar municipality's sections
    ids = set(re.findall(r'"section_id": "([^"]+)"', page))
    assert ids == set(demo.sections.loc[demo.sections["municipality"] == "Prishtinë", "section_id"])


def test_public_map_on_a_restricted_deployment_is_marked_public():
    at = run("en")
    widget(at, "radio", "pr_version").set_value("public").run()
    name, _mime, page = make(at, "map")
    assert name == "map-kosovo-2026-10-en-PUBLIC.html"
    assert b"<title>PUBLIC" in page and b"RESTRICTED" not in page


def test_public_map_refuses_categories_that_are_all_withheld():
    _ = i18n.translator("en")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = demo_source()
    at.session_state["lang"] = "en"
    at.run()
    at.sidebar.multiselect(key="categories").set_value(["domestic_violence"]).run()
    at.switch_page(PAGE).run()
    widget(at, "radio", "pr_version").set_value("public").run()
    ok(at)
    assert _("Every incident category chosen in the sidebar is withheld in the public version.") in texts(at)
    assert at.button(key="print_map_button").disabled


def test_public_version_needs_the_deployments_secret(monkeypatch, tmp_path):
    """Without the secret the page says how to set it instead of offering a public version that is not safe."""
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET", raising=False)
    monkeypatch.setattr(settings, "SECRETS_FILE", tmp_path / "none.toml")  # no secrets.toml either
    _ = i18n.translator("en")
    at = run("en")
    assert widget(at, "radio", "pr_version") is None
    assert public.missing_secret_text(_) in [i.value for i in at.info]
    assert not any(_("Public") in r.options for r in at.radio)
    widget(at, "selectbox", "pr_municipality").set_value("Gjakovë").run()
    name, _mime, _payload = make(at, "brief")  # the restricted version is still made
    assert name.endswith("-RESTRICTED.pdf")


def set_period(at, start: dt.date, end: dt.date) -> None:
    at.sidebar.date_input(key="period_start").set_value(start).run()
    at.sidebar.date_input(key="period_end").set_value(end).run()


def test_public_version_is_offered_for_calendar_months_quarters_and_years_only():
    _ = i18n.translator("en")
    notice = _(
        "The public version is for calendar months, quarters and years: choose one as the period in the sidebar."
    )
    at = run("en", region="Prishtinë", municipality="Prishtinë")
    set_period(at, dt.date(2026, 9, 5), dt.date(2026, 10, 4))
    widget(at, "radio", "pr_version").set_value("public").run()
    ok(at)
    assert notice in [w.value for w in at.warning]
    assert at.button(key="print_brief_button").disabled and at.button(key="print_map_button").disabled
    widget(at, "radio", "pr_version").set_value("restricted").run()  # the restricted version takes any period
    assert notice not in [w.value for w in at.warning]
    assert not at.button(key="print_brief_button").disabled
    widget(at, "radio", "pr_version").set_value("public").run()
    set_period(at, dt.date(2026, 7, 1), dt.date(2026, 9, 30))  # a quarter
    assert notice not in [w.value for w in at.warning]
    name, _mime, page = make(at, "map")
    assert name == "map-prishtine-2026-07-01_2026-09-30-en-PUBLIC.html" and b"<title>PUBLIC" in page


def test_public_map_is_for_the_category_groups_the_public_view_offers():
    _ = i18n.translator("en")
    notice = _(
        "The public map is for one incident category or a fixed group (the crimes, all categories, all but "
        "traffic tickets), not for the categories chosen in the sidebar."
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = demo_source()
    at.session_state["lang"] = "en"
    at.run()
    at.sidebar.multiselect(key="categories").set_value(["theft", "drugs"]).run()
    at.switch_page(PAGE).run()
    widget(at, "radio", "pr_version").set_value("public").run()
    ok(at)
    assert notice in [w.value for w in at.warning] and at.button(key="print_map_button").disabled
    at.sidebar.multiselect(key="categories").set_value(["theft"]).run()  # one category is offered
    assert notice not in [w.value for w in at.warning] and not at.button(key="print_map_button").disabled


# ---------------------------------------------------------------- untrusted and broken data


def test_a_hostile_section_name_stays_text_in_the_page_and_the_html_brief():
    at = run("en", TinySource(evil_name=True), region="Prishtinë", municipality="Prishtinë", section="S4")
    assert "\\<script\\>alert\\(1\\)" in texts(at)  # Markdown-escaped on the page
    widget(at, "radio", "pr_format").set_value("html").run()
    name, _mime, payload = make(at, "brief")
    assert name == "brief-s4-2024-03-en-RESTRICTED.html"
    page = payload.decode("utf-8")
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_sections_no_files(tmp_path):
    from test_pages import broken_files  # the same broken upload the other pages are tried on

    _ = i18n.translator("en")
    at = run("en", FileSource(broken_files(tmp_path), label="upload"))
    assert _("No police sections are loaded. Load a sections file on the Data page.") in texts(at)
    assert not [b for b in at.button if (b.key or "").startswith("print_")]
