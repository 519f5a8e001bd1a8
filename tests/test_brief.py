"""One-page briefs: open the produced PDF and check its text, language and page count."""

import re

import pypdf
import pytest

from geo import brief, figures
from geo.cli import main
from geo.public import PublicPolicy


@pytest.fixture(scope="module")
def period(demo):
    return figures.default_period(demo.data_as_of)


def pdf_text(path) -> tuple[int, str]:
    reader = pypdf.PdfReader(str(path))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def test_municipality_brief_is_one_page_in_albanian(demo, period, tmp_path):
    out = brief.write(brief.brief_content(demo, period, lang="sq", municipality="Prizren"), tmp_path / "b.pdf")
    pages, text = pdf_text(out)
    assert pages == 1
    assert "RESTRICTED" in text
    assert "tetor 2026" in text  # the period, in Albanian
    assert "Prizren" in text
    assert "Vepra penale" in text  # a headline figure's Albanian label


def test_serbian_letters_survive_in_the_pdf(demo, period, tmp_path):
    out = brief.write(brief.brief_content(demo, period, lang="sr", municipality="Zveqan"), tmp_path / "b.pdf")
    pages, text = pdf_text(out)
    assert pages == 1
    assert "Zvečan" in text and "oktobar 2026" in text
    assert "Krivična dela" in text


def test_headline_figures_match_the_data(demo, period):
    b = brief.brief_content(demo, period, lang="en", municipality="Prishtinë")
    flt = figures.Filters(municipality="Prishtinë")
    h = figures.headlines(demo.incidents, demo.concerns, demo.committees, demo.sections, flt, period)
    row = dict((r[0], r[1]) for r in b.headlines)
    assert row[next(k for k in row if "Crimes" in k)] == f"{h['crimes'].current:,}"


def test_public_brief_withholds_small_counts_and_sensitive_categories(demo, period, tmp_path):
    policy = PublicPolicy()
    b = brief.brief_content(demo, period, lang="en", municipality="Junik", policy=policy)
    assert b.marking == "PUBLIC"
    cells = [row[1] for row in b.headlines[:5]]  # the incident figures (concerns and committees are not withheld)
    assert any(c in ("fewer than 5", "withheld") for c in cells)  # Junik in a month: some are small
    for c in cells:
        if c.replace(",", "").isdigit():
            assert int(c.replace(",", "")) == 0 or int(c.replace(",", "")) >= policy.min_count
    html = brief.to_html(b)
    assert "PUBLIC" in html and "Domestic violence" not in html
    # no coordinates of any kind leave in the public page
    assert not re.search(r"\b4[12]\.\d{4,}", html) and not re.search(r"\b2[01]\.\d{4,}", html)


def test_brief_text_from_data_is_escaped_in_html(demo, period):
    b = brief.brief_content(demo, period, lang="en", municipality="Prizren")
    b.concerns.append(("<script>alert(1)</script>", "1", "1", "<b>x</b>"))
    html = brief.to_html(b)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_section_brief(demo, period):
    b = brief.brief_content(demo, period, lang="en", section="PR-01")
    name = demo.sections.set_index("section_id").loc["PR-01", "section_name"]
    assert name in b.title and "Prishtinë" in b.area_line


def test_bad_area_is_refused(demo, period):
    with pytest.raises(ValueError, match="no sections in municipality"):
        brief.brief_content(demo, period, municipality="Atlantis")
    with pytest.raises(ValueError, match="no section"):
        brief.brief_content(demo, period, section="XX-99")
    with pytest.raises(ValueError, match="exactly one"):
        brief.brief_content(demo, period, municipality="Prizren", section="PR-01")


def test_cli_writes_pdf_and_html(tmp_path, capsys):
    assert main(["brief", "--municipality", "Gjilan", "--lang", "sq", "--out", str(tmp_path / "b.pdf")]) == 0
    assert pdf_text(tmp_path / "b.pdf")[0] == 1
    assert (
        main(
            [
                "brief",
                "--section",
                "PR-01",
                "--public",
                "--from",
                "01.09.2026",
                "--to",
                "30.09.2026",
                "--lang",
                "en",
                "--out",
                str(tmp_path / "b.html"),
            ]
        )
        == 0
    )
    text = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "PUBLIC" in text and "September 2026" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--municipality", "Gjilan", "--out", "b.docx"],
        ["--municipality", "Gjilan", "--from", "2026-09-01", "--out", "b.pdf"],
        ["--municipality", "Gjilan", "--from", "2026-09-30", "--to", "2026-09-01", "--out", "b.pdf"],
        ["--municipality", "Gjilan", "--section", "PR-01", "--out", "b.pdf"],
        ["--out", "b.pdf"],
        ["--municipality", "Atlantis", "--out", "b.pdf"],
    ],
)
def test_cli_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["brief", *args])
    assert exc.value.code == 2


def test_deployment_public_mode_cannot_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    assert main(["brief", "--municipality", "Gjilan", "--lang", "en", "--out", str(tmp_path / "b.html")]) == 0
    assert "PUBLIC" in (tmp_path / "b.html").read_text(encoding="utf-8")
