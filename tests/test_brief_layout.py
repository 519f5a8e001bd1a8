"""The brief uses its A4 page: headers in full, a map with place names and a labelled colour scale, one page.

Checked on the PDF's text with pypdf (what a reader, a search or a screen reader gets).
"""

from __future__ import annotations

import io

import pypdf
import pytest
from dashboard_fixtures import public_policy

from geo import brief, figures, i18n


@pytest.fixture(scope="module")
def period(demo):
    return figures.default_period(demo.data_as_of)


def read(payload: bytes) -> tuple[int, str, list[tuple[float, str]]]:
    """Pages, the text with its whitespace made single, and ``(height from the bottom in mm, text)`` of each run."""
    reader = pypdf.PdfReader(io.BytesIO(payload))
    runs: list[tuple[float, str]] = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            runs.append(((cm[5] + tm[5] * cm[3]) * 25.4 / 72, text))

    text = "\n".join(p.extract_text(visitor_text=visit) for p in reader.pages)
    return len(reader.pages), " ".join(text.split()), runs


@pytest.fixture(scope="module", params=["sq", "sr"])
def municipality_brief(request, demo, period):
    b = brief.brief_content(demo, period, lang=request.param, municipality="Prishtinë")
    return b, read(brief.to_pdf(b))


def test_one_page_with_every_header_in_full(municipality_brief):
    b, (pages, text, _runs) = municipality_brief
    assert pages == 1
    h = b.headings
    for key in ("figure", "now", "previous", "year", "section", "label", "count", "category", "raised", "open"):
        assert h[key] in text, (key, h[key])  # "Periudha e mëparshme", "Godinu dana ranije": not cut
    for key in ("action", "committee", "meetings", "attendance", "last", "area", "period", "trust_pct"):
        assert h[key] in text, (key, h[key])
    for label, *_ in b.headlines:  # the figures' own names too ("Nezgode, samo materijalna šteta")
        assert label in text, label


def test_the_map_names_its_places_and_its_colours(municipality_brief):
    b, (_pages, text, _runs) = municipality_brief
    _ = i18n.translator(b.lang)
    named = [brief.short_section_name(n) for n in ("Prishtinë 01 – Qendra", "Prishtinë 04 – Lagjja Ragiq")]
    sections = [lbl for *_xy, lbl, kind in b.map.labels if kind == "section"]
    shown = [name for name in sections if name in text]
    assert len(shown) >= len(sections) // 2, (len(shown), len(sections))  # most sections, decluttered
    assert any(name in text for name in named)
    assert _.municipality("Podujevë") in text or _.municipality("Fushë Kosovë") in text  # the neighbours
    assert _("Crimes per section in the period (number)") in text  # the colour scale says what it shows
    assert b.map.ticks and all(tick in text for _frac, tick in b.map.ticks)
    assert _("Hot spot (Gi*), outlined") in text


def test_the_page_is_filled(municipality_brief):
    _b, (_pages, _text, runs) = municipality_brief
    footer_top = 14  # mm from the bottom
    lowest = min(y for y, _t in runs if y > footer_top)
    assert lowest < 297 * 0.2, lowest  # content reaches the last fifth of the page (it used to end at a quarter)


@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_public_and_section_briefs_stay_on_one_page(demo, period, lang):
    sid = str(demo.sections.loc[demo.sections["municipality"] == "Prizren", "section_id"].iloc[3])
    for b in (
        brief.brief_content(demo, period, lang=lang, municipality="Gjakovë", policy=public_policy()),
        brief.brief_content(demo, period, lang=lang, section=sid),
    ):
        pages, text, _runs = read(brief.to_pdf(b))
        assert pages == 1
        tables = {
            ("figure", "now", "previous", "year"): b.headlines,
            ("section", "label", "count"): b.hotspots,
            ("category", "raised", "open", "action"): b.concerns,
            ("committee", "meetings", "attendance", "last"): b.committees,
            ("area", "period", "trust_pct", "satisfaction_pct"): b.trust,
        }
        for keys, rows in tables.items():  # every drawn table's headers in full, at any type size
            for key in keys if rows else ():
                assert b.headings[key] in text, (key, b.headings[key])
        assert [lbl for *_xy, lbl, _k in b.map.labels][0] in text  # the area's first label is on the map


def test_labels_that_would_overlap_are_left_out():
    labels = [(0.5, 0.5, "Big one", "section"), (0.52, 0.5, "Overlaps", "section"), (0.5, 0.8, "Below", "section")]
    labels.append((0.99, 0.5, "Cut at the edge", "section"))
    placed = brief.place_labels(labels, 100, 100, lambda text, kind: 2.0 * len(text), 3)
    assert [t for _x, _y, t, _k in placed] == ["Big one", "Below"]


def test_short_section_names():
    assert brief.short_section_name("Prishtinë 01 – Qendra") == "Qendra"
    assert brief.short_section_name("Sektori Qendër") == "Sektori Qendër"
    assert brief.short_section_name("A – ") == "A – "
