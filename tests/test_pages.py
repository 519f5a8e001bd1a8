"""Each page in Streamlit's AppTest: runs without exception, in every language, on good and broken data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from dashboard_fixtures import TinySource, ok, texts
from streamlit.testing.v1 import AppTest

from geo import i18n
from geo.source import FileSource, WholeSource, demo_source

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
DATA_PAGE = "views/data.py"
OVERVIEW_PAGE = "views/overview.py"


def demo_ready() -> bool:
    try:
        return bool(len(demo_source().load().sections))
    except Exception:  # noqa: BLE001 - the demo files may not be generated yet
        return False


needs_demo = pytest.mark.skipif(not demo_ready(), reason="the demo dataset (data/demo) is not there or not loadable")


def run(source=None, lang="en", page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if source is not None:
        at.session_state["source"] = source
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page).run()
    return at


# ---------------------------------------------------------------- the pages on good data


def test_no_pages_folder_next_to_the_entry_script():
    # Streamlit would treat it as an old-style multipage app: on a fresh server the first request for /data
    # would run the page without dashboard.py (no sidebar, no data), and AppTest would lose the sidebar.
    assert not (ROOT / "pages").exists()


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_overview_in_every_language(lang):
    _ = i18n.translator(lang)
    at = run(TinySource(evil_name=True), lang)
    ok(at)
    assert at.title[0].value == _("Overview")
    assert [m.label for m in at.metric] == [
        _(x)
        for x in (
            "With fatalities",
            "With injuries",
            "Damage only",
            "Traffic tickets",
            "Crimes",
            "Open concerns",
            "Active committees",
        )
    ]
    values = {m.label: m.value for m in at.metric}
    assert values[_("Traffic tickets")] == "14" and values[_("Crimes")] == "4"
    assert _("Data as of {date}", date=_.date("2024-04-01")) in texts(at)
    assert _.month(__import__("datetime").date(2024, 3, 1)) in texts(at)  # default period: March 2024
    assert at.sidebar.selectbox(key="region").options[0] == _("All regions")
    # the untrusted section name is shown as text, never as HTML or Markdown
    at.sidebar.text_input(key="search").input("script").run()
    evil = [b for b in at.sidebar.button if "alert" in b.label]
    assert evil and evil[0].label.startswith("\\<script\\>alert\\(1\\)")
    evil[0].click().run()
    ok(at)
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in at.markdown[1].value


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_data_page_in_every_language(lang):
    _ = i18n.translator(lang)
    at = run(TinySource(), lang, DATA_PAGE)
    ok(at)
    assert at.title[0].value == _("Data")
    heads = [h.value for h in at.header]
    for h in ("What is loaded", "Validation report", "Records outside every section", "Export", "Use your own files"):
        assert _(h) in heads
    problems = next(d.value for d in at.dataframe if _("Code") in d.value.columns)
    row = problems.iloc[0]
    assert row[_("Code")] == "bad_date" and row[_("File")] == "incidents.csv"
    assert row[_("Row")] == "16" and row[_("Field")] == "occurred_at"
    assert row[_("Explanation")] == _.problem("bad_date")
    counts = next(d.value for d in at.dataframe if _("Adds up") in d.value.columns)
    assert list(counts[_("Adds up")]) == ["✓"] * 4
    assert [v for v in counts[_.count("outside")] if v] == ["1", "0"]


@needs_demo
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_pages_on_the_demo(lang):
    _ = i18n.translator(lang)
    at = run(None, lang)
    ok(at)
    banner = _("Demo data — synthetic, approximate boundaries")
    assert any(banner in m.value for m in at.markdown)  # one line under the marking, not a box
    assert len(at.metric) == 7
    at.switch_page(DATA_PAGE).run()
    ok(at)
    assert any(banner in m.value for m in at.markdown)
    assert _("Validation report") in [h.value for h in at.header]


# ---------------------------------------------------------------- broken data never crashes


def broken_files(tmp_path: Path) -> dict[str, Path]:
    sections = tmp_path / "sections.geojson"
    sections.write_text("this is not GeoJSON {", encoding="utf-8")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("date;category;lat;lon\nyesterday;Vjedhje;42.6;21.1\n", encoding="utf-8")
    return {"sections": sections, "incidents": incidents}


def half_broken_files(tmp_path: Path) -> dict[str, Path]:
    sections = tmp_path / "sections.geojson"
    square = [[21.1, 42.6], [21.2, 42.6], [21.2, 42.7], [21.1, 42.7], [21.1, 42.6]]
    sections.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"section_id": "A", "section_name": "Qendra", "municipality": "Prishtina"},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "date,category,lat,lon\n2024-03-01,theft,42.65,21.15\nyesterday,theft,42.65,21.15\n2024-03-02,theft,42.2,20.7\n",
        encoding="utf-8",
    )
    return {"sections": sections, "incidents": incidents}


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_broken_files_never_crash_any_page(tmp_path, lang):
    _ = i18n.translator(lang)
    source = FileSource(broken_files(tmp_path), label="upload")
    at = run(source, lang)
    ok(at)
    assert _("No police sections are loaded. Load a sections file on the Data page.") in texts(at)
    at.switch_page(DATA_PAGE).run()
    ok(at)
    problems = next(d.value for d in at.dataframe if _("Code") in d.value.columns)
    assert "unreadable_file" in set(problems[_("Code")])
    assert "sections.geojson" in set(problems[_("File")])
    assert _.severity("error") in set(problems[_("Severity")])


def test_rows_with_problems_are_reported_with_file_row_and_field(tmp_path):
    at = run(FileSource(half_broken_files(tmp_path), label="upload"), "en", DATA_PAGE)
    ok(at)
    problems = next(d.value for d in at.dataframe if "Code" in d.value.columns)
    bad = problems[problems["Code"] == "bad_date"].iloc[0]
    assert (bad["File"], bad["Row"], bad["Field"], bad["Value"]) == ("incidents.csv", "2", "occurred_at", "yesterday")
    counts = next(d.value for d in at.dataframe if "Adds up" in d.value.columns)
    inc = counts[counts["Input"] == "Incidents"].iloc[0]
    assert (inc["Loaded"], inc["In a section"], inc["Outside every section"], inc["Rejected"]) == ("3", "1", "1", "1")
    assert "Records outside every section" in [h.value for h in at.header]
    at.switch_page(OVERVIEW_PAGE).run()
    ok(at)
    assert len(at.metric) == 7


class RaisingSource(WholeSource):
    def fingerprint(self) -> str:
        return "raises"

    def load(self):
        raise RuntimeError("disk on fire")


def test_a_loader_crash_is_a_message_not_a_traceback():
    at = run(RaisingSource(), "en")
    ok(at)
    shown = texts(at)
    assert "disk on fire" in shown
    assert "source" not in at.session_state  # back to the deployment's data for the next run


def test_when_nothing_loads_the_app_says_so(monkeypatch):
    import geo.source
    from geo import uploads

    monkeypatch.setattr(geo.source, "demo_source", lambda *a, **k: RaisingSource())
    monkeypatch.setattr(uploads, "own_data", lambda *a, **k: uploads.saved.OwnData(None))
    at = run(RaisingSource(), "sr")
    ok(at)
    assert any("disk on fire" in e.value and "Podaci nisu učitani" in e.value for e in at.error)


# ---------------------------------------------------------------- the shared sidebar


def test_filters_persist_across_pages_and_languages():
    at = run(TinySource(), "en")
    at.sidebar.selectbox(key="region").select("Ferizaj").run()
    ok(at)
    assert at.session_state["region"] == "Ferizaj"
    at.switch_page(DATA_PAGE).run()
    at.switch_page(OVERVIEW_PAGE).run()
    ok(at)
    assert at.sidebar.selectbox(key="region").value == "Ferizaj"
    assert "**Police region Ferizaj**" in at.markdown[1].value
    at.sidebar.selectbox(key="lang").select("sr").run()
    ok(at)
    assert at.sidebar.selectbox(key="region").value == "Ferizaj"
    assert at.title[0].value == "Pregled"
    assert "Uroševac" in at.markdown[1].value  # the region's Serbian name


def test_choosing_a_region_resets_the_municipality_and_section():
    at = run(TinySource(), "en")
    at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    at.sidebar.selectbox(key="section").select("S2").run()
    assert at.session_state["section"] == "S2"
    assert [s for s in at.sidebar.selectbox(key="section").options] == [
        "All sections",
        "Arbëria",
        "Gërmia",
        "Qendra",
        "Ulpiana",
    ]
    at.sidebar.selectbox(key="region").select("Ferizaj").run()
    ok(at)
    assert at.session_state["municipality"] == "" and at.session_state["section"] == ""


def test_search_finds_a_section_by_village_and_selects_it():
    at = run(TinySource(), "en")
    at.sidebar.text_input(key="search").input("lakri").run()
    ok(at)
    buttons = [b for b in at.sidebar.button if "Arbëria" in b.label]
    assert buttons and "village Lakrishte" in buttons[0].label
    buttons[0].click().run()
    ok(at)
    assert (at.session_state["region"], at.session_state["municipality"], at.session_state["section"]) == (
        "Prishtinë",
        "Prishtinë",
        "S3",
    )
    assert at.sidebar.text_input(key="search").value == ""
    assert any("Arbëria" in m.value for m in at.markdown)  # the section card


def test_default_period_and_its_comparison():
    at = run(TinySource(), "en")
    assert str(at.session_state["period_start"]) == "2024-03-01"
    assert str(at.session_state["period_end"]) == "2024-03-31"
    assert "Compared with the previous month: February 2024" in [c.value for c in at.sidebar.caption]
    # free dates (restricted): a quarter, whole months, any days; each compared with the period just before it
    for start, end, caption in (
        ("2024-01-01", "2024-03-31", "Compared with the previous quarter: Q4 2023"),
        ("2024-02-01", "2024-03-31", "Compared with the previous 2 months: 1 Dec 2023 – 31 Jan 2024"),
        ("2024-03-05", "2024-03-14", "Compared with the previous 10 days: 24 Feb 2024 – 4 Mar 2024"),
        ("2023-01-01", "2023-12-31", "Compared with the previous year: 2022"),
    ):
        at.sidebar.date_input(key="period_start").set_value(dt.date.fromisoformat(start))
        at.sidebar.date_input(key="period_end").set_value(dt.date.fromisoformat(end)).run()
        ok(at)
        assert caption in [c.value for c in at.sidebar.caption], (start, end)


# ---------------------------------------------------------------- own files on the Data page


def test_checking_and_using_uploaded_files(tmp_path):
    files = half_broken_files(tmp_path)
    at = run(TinySource(), "en", DATA_PAGE)
    at.session_state["uploads"] = {n: {"file_id": n, "path": str(p), "name": p.name} for n, p in files.items()}
    at.run()
    ok(at)
    assert at.selectbox(key="map_incidents_occurred_at").value == "date"  # guessed from the header
    check = next(b for b in at.button if b.label == "Check these files")
    check.click().run()
    ok(at)
    assert "Result of the check" in [s.value for s in at.subheader]
    use = next(b for b in at.button if b.label == "Use this data (this session only)")
    assert not use.disabled
    use.click().run()
    ok(at)
    assert isinstance(at.session_state["source"], FileSource)
    assert at.session_state["source"].label == "upload"
    assert "**Files uploaded in this session.**" in texts(at)


def test_a_remapped_column_reaches_the_loader(tmp_path):
    files = half_broken_files(tmp_path)
    at = run(TinySource(), "en", DATA_PAGE)
    at.session_state["uploads"] = {n: {"file_id": n, "path": str(p), "name": p.name} for n, p in files.items()}
    at.run()
    at.selectbox(key="map_incidents_occurred_at").select("category").run()  # deliberately wrong
    next(b for b in at.button if b.label == "Check these files").click().run()
    ok(at)
    cand = at.session_state["candidate"]
    assert cand.options.columns["incidents"]["occurred_at"] == "category"
    problems = next(d.value for d in at.dataframe if "Code" in d.value.columns and "bad_date" in set(d.value["Code"]))
    assert (problems["Field"] == "occurred_at").any()


def test_saving_as_the_deployments_data_needs_an_explicit_confirmation(tmp_path, monkeypatch):
    from geo import db, store
    from geo.settings import Settings

    own = tmp_path / "own"
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(own))
    settings = Settings.load({"DASHBOARD_DATA_DIR": str(own)}, secrets_file=None)
    files = half_broken_files(tmp_path)
    at = run(TinySource(), "en", DATA_PAGE)
    at.session_state["uploads"] = {n: {"file_id": n, "path": str(p), "name": p.name} for n, p in files.items()}
    at.run()
    next(b for b in at.button if b.label == "Check these files").click().run()
    save = next(b for b in at.button if b.label == "Save as this deployment's data")
    path = db.embedded_path(settings)  # it may hold the audit log of this session's views; no data yet
    assert save.disabled and (not path.exists() or store.last_import(db.engine(settings)) is None)
    at.checkbox(key="confirm_save").check().run()
    next(b for b in at.button if b.label == "Save as this deployment's data").click().run()
    ok(at)
    # imported into the deployment's database: the rows the check kept, with the report of those it rejected
    eng = db.engine(settings)
    assert store.rows(eng)["sections"] == 1 and store.rows(eng)["incidents"] == 2
    assert store.last_import(eng)["files"][0]["name"] == "sections.geojson"
    assert "source" not in at.session_state  # the session now uses the deployment's data: the database
    where = i18n.md_escape(db.describe(eng.url))
    assert f"Saved into the deployment's database ({where}): Sections, Incidents." in texts(at)
    assert f"**This deployment's data**, from its database ({where})." in texts(at)
    assert not list(own.glob("dashboard-data*"))  # no files saved beside it any more
    problems = next(d.value for d in at.dataframe if "Code" in d.value.columns and "bad_date" in set(d.value["Code"]))
    assert (problems["File"] == "incidents.csv").any()  # the stored report, as the check gave it


def test_the_measure_is_kept_across_pages():
    at = run(TinySource(), "en")
    at.button_group(key="measure").set_value("change").run()
    assert at.session_state["measure"] == "change"
    assert "Sections with the largest increase" in texts(at)
    at.switch_page(DATA_PAGE).run()
    at.switch_page(OVERVIEW_PAGE).run()
    ok(at)
    assert at.session_state["measure"] == "change"
    assert at.button_group(key="measure").value == "change"


def test_a_configured_basemap_reaches_the_map(monkeypatch):
    monkeypatch.setenv("DASHBOARD_TILES_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setenv("DASHBOARD_TILES_ATTRIBUTION", "© example")
    at = run(TinySource(), "en")
    ok(at)
    assert at.session_state["ctx"].basemap.url == "https://tiles.example.org/{z}/{x}/{y}.png"
    monkeypatch.delenv("DASHBOARD_TILES_URL")
    at.run()
    assert at.session_state["ctx"].basemap is None
