"""The brief in its language: no English left in an Albanian or Serbian brief (restricted or public)."""

from __future__ import annotations

import pypdf
import pytest
from dashboard_fixtures import public_policy
from test_i18n_pages import english_in

from geo import brief, figures, i18n


@pytest.fixture(scope="module")
def period(demo):
    return figures.default_period(demo.data_as_of)


def brief_texts(b: brief.Brief) -> list[str]:
    texts = [b.title, b.area_line, b.period_line, b.marking_text, b.footer, *b.notices, *b.headings.values()]
    for rows in (b.headlines, b.hotspots, b.concerns, b.committees, b.trust):
        texts += [str(cell) for row in rows for cell in row]
    return texts


@pytest.mark.parametrize("public", [False, True], ids=["restricted", "public"])
@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_no_english_in_the_brief(demo, period, lang, public):
    policy = public_policy() if public else None
    b = brief.brief_content(demo, period, lang=lang, municipality="Prishtinë", policy=policy)
    assert b.hotspots and b.committees  # the parts that used to be English are there
    assert english_in(brief_texts(b), lang) == []
    _ = i18n.translator(lang)
    assert b.hotspots[0][1].startswith(_.label("hotspot", "hot_99").split(" – ")[0])  # "Pikë e nxehtë", "Žarište"
    mark = "PUBLIC" if public else "RESTRICTED"
    assert b.marking == mark and b.marking_text == f"{_(mark)} · {mark}"  # both languages: "I KUFIZUAR · RESTRICTED"
    if public:  # one line, in the brief's language, says the figures are adjusted
        note = policy.note(_)
        assert note in b.notices and note != policy.note(i18n.translator("en"))
        assert f"{_(mark)} · {mark}" in b.footer or _.marking(mark) in b.footer


def test_hot_spots_marking_and_committees_as_the_dashboard_shows_them(demo, period, tmp_path):
    b = brief.brief_content(demo, period, lang="sq", municipality="Prishtinë")
    assert {row[1] for row in b.hotspots} <= {i18n.translator("sq").label("hotspot", c) for c in ("hot_99", "hot_95")}
    kinds = {row[0].split(" ")[0] for row in b.committees}
    assert kinds <= {"KLSP", "KKSB", "EVSP"}, kinds  # not LCPS / MCPS / ACPS
    sr = brief.brief_content(demo, period, lang="sr", municipality="Prishtinë")
    assert {row[0].split(" · ")[0] for row in sr.committees if " · " in row[0]} <= {"LOJB", "OSBZ", "ATJB"}
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(brief.write(b, tmp_path / "b.pdf")).pages)
    assert "I KUFIZUAR · RESTRICTED" in text and "Pikë e nxehtë – 99 %" in text
    assert "Hot spot" not in text and "LCPS" not in text
    html = brief.to_html(sr)
    assert "OGRANIČENO · RESTRICTED" in html and "Žarište" in html


@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_the_period_line_needs_no_declension(demo, period, lang):
    # "i sa oktobar 2025" was wrong in Serbian: a month after a preposition needs its case; "sa periodom
    # oktobar 2025" does not, nor "me periudhën tetor 2025" in Albanian
    b = brief.brief_content(demo, period, lang=lang, municipality="Prishtinë")
    word = {"sq": "me periudhën", "sr": "sa periodom"}[lang]
    assert b.period_line.count(word) == 2, b.period_line
    assert "sa oktobar" not in b.period_line and "me tetor" not in b.period_line


def test_english_brief_keeps_the_english_marking_once(demo, period):
    b = brief.brief_content(demo, period, lang="en", municipality="Prishtinë")
    assert b.marking_text == "RESTRICTED"
    assert b.footer.startswith("RESTRICTED · ")
