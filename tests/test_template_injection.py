"""No text from a data file is ever evaluated as a template.

folium and branca render with Jinja2 twice (``MacroElement.render`` compiles each macro's rendered output
again), so a section's name such as ``Sum {{7*7}}`` used to appear as "Sum 49", a crafted name ran code on the
server and ``Lagjja {{ e Re`` broke every map. :mod:`geo.untrusted` neutralises ``{`` by context, in one
place every map goes through. These tests feed inputs whose every text field carries a payload
(:mod:`payloads`) through every output: the map file, the briefs (HTML and PDF), the hot-spot exports, every
page in AppTest (with the brief, the map file and the Data page's exports downloaded) and in headless Chromium.
Each checks that the text appears literally, nothing is evaluated, nothing crashes, and the marker that the
command-running payload would create is never there. A control shows each payload is a working attack.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import random
from pathlib import Path

import jinja2
import pytest
from dashboard_fixtures import PAGES, ok
from payloads import (
    BLOCK,
    EVAL,
    MARKER_ENV,
    NAMES,
    RUN,
    SECTIONS,
    UNCLOSED,
    decoded,
    inert_findings,
    write_payload_inputs,
)

from geo import exports, figures, untrusted
from geo.cli import main
from geo.source import FileSource

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
PERIOD = ["--from", "2024-03-01", "--to", "2024-03-31"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return write_payload_inputs(tmp_path_factory.mktemp("payloads"))


@pytest.fixture
def marker(tmp_path, monkeypatch) -> Path:
    """The path the command-running payload would create; set for this test's process and its children."""
    path = tmp_path / "template-ran"
    monkeypatch.setenv(MARKER_ENV, str(path))
    return path


def cli_inputs(paths: dict[str, Path]) -> list[str]:
    return [arg for name, p in paths.items() for arg in (f"--{name}", str(p))]


# ---------------------------------------------------------------- the payloads are real attacks (controls)


def test_each_payload_is_a_working_attack_when_it_is_template_source(marker):
    assert jinja2.Template(EVAL).render() == "Sum 49"
    assert jinja2.Template(BLOCK).render() == "blockran"
    with pytest.raises(jinja2.TemplateSyntaxError):
        jinja2.Template(UNCLOSED)
    jinja2.Template(RUN).render()
    assert marker.exists(), "the command-running payload should create the marker when evaluated"


def test_without_the_protection_the_map_file_runs_the_payload(inputs, marker, monkeypatch, tmp_path):
    """Control: with folium's and branca's plain ``json.dumps`` and ``html.escape`` back, the same map file
    evaluates the data."""
    import geo.maps  # noqa: F401 - installs the protection, undone below

    for env in untrusted.environments():
        monkeypatch.setitem(env.policies, "json.dumps_function", json.dumps)
        if "tojavascript" in env.filters:
            monkeypatch.setitem(env.filters, "tojavascript", env.filters["tojavascript"].__wrapped__)
    monkeypatch.setattr(untrusted, "install", lambda: None)
    monkeypatch.setattr(geo.maps, "html_text", lambda v: html.escape(str(v)))  # the old escaping
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    with pytest.raises(jinja2.TemplateSyntaxError):  # the lone delimiters break the map outright
        exports.overview_map_html(FileSource(inputs).load(), march, "en")
    doc = json.loads(inputs["sections"].read_text(encoding="utf-8"))
    for i, f in enumerate(doc["features"]):  # only the two payloads that run, in names; plain ids and stations
        f["properties"].update(section_id=f"S{i}", section_name=[EVAL, RUN][i % 2], station="", officers="")
    only = tmp_path / "sections.geojson"
    only.write_text(json.dumps(doc), encoding="utf-8")
    page = exports.overview_map_html(
        FileSource({"sections": only, "incidents": inputs["incidents"]}).load(), march, "en"
    )
    assert marker.exists()
    assert "Sum 49" in decoded(page)


# ---------------------------------------------------------------- the escaping itself


def test_json_text_keeps_the_meaning_and_opens_no_template_syntax():
    rng = random.Random(7)
    alphabet = '{}%#"\\ab ë\n'
    for _ in range(3000):
        value = {"k{": ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3)]}
        text = untrusted.dumps(value)
        assert json.loads(text) == value
        assert untrusted.JINJA_START.search(text) is None, text
        jinja2.Template(text)  # compiles: nothing in it is template syntax
    assert untrusted.dumps({"a": {"b": "{{x}}"}}) == '{"a": {"b": "\\u007b\\u007bx\\u007d\\u007d"}}'
    assert untrusted.dumps({"a": {"b": "{x}"}}) == '{"a": {"b": "{x}"}}'  # no Jinja opener: left as it is


def test_html_text_escapes_markup_and_braces():
    assert (
        untrusted.html_text('<b a="1">{{7*7}}</b>') == "&lt;b a=&quot;1&quot;&gt;&#123;&#123;7*7&#125;&#125;&lt;/b&gt;"
    )
    assert untrusted.html_text(None) == "" and untrusted.html_text(float("nan")) == ""
    assert jinja2.Template(untrusted.html_text("{% if 1 %}x{% endif %}")).render() == untrusted.html_text(
        "{% if 1 %}x{% endif %}"
    )


def test_every_folium_and_branca_template_environment_writes_inert_json():
    import folium.plugins  # noqa: F401 - more element classes, each with its template

    import geo.maps  # noqa: F401 - installs the protection

    geo.maps.untrusted.install()
    assert untrusted.installed()
    assert len(untrusted.environments()) >= 2


# ---------------------------------------------------------------- command line


def test_cli_map_file_shows_every_payload_literally(inputs, marker, tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["map", *cli_inputs(inputs), *PERIOD, "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert inert_findings(page, "map file") == []
    assert not marker.exists()


@pytest.mark.parametrize("fmt", ["html", "pdf"])
@pytest.mark.parametrize("area", [["--municipality", "Prishtinë"], ["--section", SECTIONS[0][0]]])
def test_cli_briefs_show_payloads_literally(inputs, marker, tmp_path, capsys, fmt, area):
    out = tmp_path / f"brief.{fmt}"
    assert main(["brief", *cli_inputs(inputs), *area, *PERIOD, "--lang", "sq", "--out", str(out)]) == 0
    if fmt == "pdf":
        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    else:
        text = out.read_text(encoding="utf-8")
    assert inert_findings(text, f"brief {fmt}", names=False) == []
    if area[0] == "--section":
        assert EVAL in decoded(text)  # the section's own name, printed literally
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_cli_hotspots_exports_keep_payloads_as_data(inputs, marker, tmp_path, capsys, suffix):
    out = tmp_path / f"hot{suffix}"
    assert main(["hotspots", *cli_inputs(inputs), *PERIOD, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert all(sid in decoded(text) for sid, *_ in SECTIONS)
    assert inert_findings(text, f"hotspots {suffix}", names=False) == []
    assert not marker.exists()


def test_cli_validate_reports_the_payload_values_as_text(inputs, marker, capsys):
    main(["validate", *cli_inputs(inputs), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert "Prishtinë {{3*3}}" in json.dumps(report, ensure_ascii=False)
    assert not marker.exists()


# ---------------------------------------------------------------- every page in AppTest


@pytest.fixture(scope="module")
def shown(inputs, tmp_path_factory):
    """Every page on the payload inputs (with a payload section chosen, and the brief and map file made)."""
    from streamlit.testing.v1 import AppTest
    from test_public_leaks import Recorder, collect

    out: dict[str, dict] = {}
    marker = tmp_path_factory.mktemp("marker") / "template-ran"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MARKER_ENV, str(marker))
        rec = Recorder()
        rec.install(mp)
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["source"] = FileSource(inputs, label="upload")
        at.session_state["lang"] = "sq"
        at.run()
        for page in PAGES:
            at.switch_page(page).run()
            out[page] = collect(at, rec)
        at.switch_page("views/overview.py").run()
        at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
        at.sidebar.selectbox(key="section").select(SECTIONS[0][0]).run()
        for page in ("views/overview.py", "views/section.py", "views/print.py"):
            at.switch_page(page).run()
            if page == "views/print.py":
                for key in ("print_brief_button", "print_map_button"):
                    at.button(key=key).click().run()
            out[f"{page} (section chosen)"] = collect(at, rec)
        out["_marker"] = {"exists": marker.exists()}
    return out


@pytest.mark.parametrize("page", [*PAGES, *(f"{p} (section chosen)" for p in PAGES[:1] + PAGES[4:5] + PAGES[6:7])])
def test_every_page_shows_payloads_without_evaluating_them(shown, page):
    got = shown[page]
    assert got["exceptions"] == []
    text = got["text"] + "\n".join(d.decode("utf-8", errors="replace") for _, d in got["files"])
    assert inert_findings(text, page, names=False) == []
    assert "TemplateSyntaxError" not in text and "Traceback" not in text
    assert shown["_marker"]["exists"] is False


def test_the_overview_map_shows_every_name_literally(shown):
    assert inert_findings(shown["views/overview.py"]["text"], "overview") == []


def test_the_brief_and_map_file_made_on_the_print_page_are_inert(shown):
    files = dict(shown["views/print.py (section chosen)"]["files"])
    names = sorted(files)
    assert any(n.endswith(".html") and n.startswith("map") for n in names), names
    assert any(n.endswith(".pdf") for n in names) or any(n.startswith("brief") for n in names), names
    for name, data in files.items():
        if name.endswith(".html"):
            assert inert_findings(data.decode("utf-8"), name, names=name.startswith("map")) == []


def test_the_data_pages_exports_keep_payloads_as_data(shown):
    files = dict(shown["views/data.py"]["files"])
    csvs = [d.decode("utf-8-sig") for n, d in files.items() if n.endswith(".csv")]
    assert csvs, sorted(files)
    assert any(EVAL in c for c in csvs) and any(RUN in c for c in csvs)


def test_pages_run_on_the_payloads(inputs):
    """The bare minimum, without the recorder: the Overview renders its map on the payloads."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = FileSource(inputs, label="upload")
    at.run()
    ok(at)
    assert len(NAMES) == len(SECTIONS)
