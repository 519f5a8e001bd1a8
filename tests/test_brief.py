"""One-page briefs: open the produced PDF and check its text, language and page count."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from dashboard_fixtures import TEST_SECRET, public_policy

from geo import brief, exports, figures, public, settings
from geo.cli import main

ROOT = Path(__file__).resolve().parent.parent


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


def number(cell: str) -> int | None:
    """A brief's cell as a whole number (English thousands separators), ``None`` when it is not one."""
    head = cell.split("\n")[0].split("  ")[0].replace(",", "")
    return int(head) if head.isdigit() else None


def test_public_brief_shows_published_values_and_no_sensitive_category(demo, period, tmp_path):
    policy = public_policy()
    b = brief.brief_content(demo, period, lang="en", municipality="Junik", policy=policy)
    assert b.marking == "PUBLIC"
    cells = [row[1] for row in b.headlines[:6]]  # the incident figures and open concerns
    assert "fewer than 5" in cells  # Junik in a month: some are small
    for c in cells:
        assert c == "fewer than 5" or (number(c) is not None and (number(c) == 0 or number(c) >= policy.min_count))
    assert policy.note(brief.i18n.translator("en")) in b.notices  # the one line on the adjustment
    html = brief.to_html(b)
    assert "PUBLIC" in html and "Domestic violence" not in html
    # no coordinates of any kind leave in the public page
    assert not re.search(r"\b4[12]\.\d{4,}", html) and not re.search(r"\b2[01]\.\d{4,}", html)


def true_public_counts(demo, period, municipality: str) -> dict[str, int]:
    """The exact counts the public brief's incident figures and open concerns stand for (no sensitive one)."""
    policy = public_policy()
    ids = demo.sections.loc[demo.sections["municipality"] == municipality, "section_id"].astype(str)
    keep = ~demo.incidents["category"].astype(str).isin(policy.sensitive)
    inc = demo.incidents[keep]
    out = {
        key: int(figures.incident_counts(inc, period, policy.categories(cats), pd.Index(ids)).sum())
        for key, cats in figures.HEADLINE_CATEGORIES.items()
    }
    con = demo.concerns[~demo.concerns["category"].astype(str).isin(policy.sensitive_concerns)]
    out["open_concerns"] = figures.open_concerns(con, period.end, pd.Index(ids))
    return out


@pytest.mark.parametrize("municipality", ["Prishtinë", "Junik", "Mamushë"])
def test_public_brief_figures_are_within_the_tables_bound_of_the_truth_and_zero_stays_zero(demo, period, municipality):
    policy = public_policy()
    bound = policy.table.bound
    assert bound == 2
    b = brief.brief_content(demo, period, lang="en", municipality=municipality, policy=policy)
    truth = true_public_counts(demo, period, municipality)
    keys = [*figures.HEADLINE_CATEGORIES, "open_concerns"]
    shown = {key: row[1] for key, row in zip(figures.HEADLINES, b.headlines, strict=True) if key in keys}
    assert any(truth[k] == 0 for k in keys) and any(truth[k] > 10 for k in keys), truth  # both kinds are tried
    for key in keys:
        true, cell = truth[key], shown[key]
        if true == 0:
            assert cell == "0", (key, cell)
        elif cell == "fewer than 5":
            assert 1 <= true <= policy.min_count - 1 + bound, (key, true)
        else:
            assert abs(number(cell) - true) <= bound, (key, cell, true)


def test_public_brief_and_map_file_give_the_same_published_value(demo, period):
    """The same section, period and categories give the same figure in a brief and in the map file."""
    policy = public_policy()
    crimes = figures.HEADLINE_CATEGORIES["crimes"]
    page = exports.overview_map_html(
        demo, period, "en", municipality="Prizren", categories=crimes, measure="count", policy=policy
    )
    feats = {}
    for m in re.finditer(r'"properties":\s*\{', page):
        try:
            props, _end = json.JSONDecoder().raw_decode(page, m.end() - 1)
        except ValueError:
            continue
        if isinstance(props, dict) and "section_id" in props:
            feats[str(props["section_id"])] = props
    ids = demo.sections.loc[demo.sections["municipality"] == "Prizren", "section_id"].astype(str).tolist()
    assert set(ids) <= set(feats)
    compared = 0
    for sid in ids[:6]:
        b = brief.brief_content(demo, period, lang="en", section=sid, policy=policy)
        row = dict((r[0], r[1]) for r in b.headlines)
        assert row["Crimes"] == feats[sid]["t2"], (sid, row["Crimes"], feats[sid]["t2"])
        compared += row["Crimes"] != "0"
    assert compared  # not only zeros compared


def test_public_brief_refuses_a_period_that_is_not_a_calendar_month_quarter_or_year(demo):
    free = figures.Period(dt.date(2026, 9, 1), dt.date(2026, 9, 15))
    with pytest.raises(public.PublicQueryError, match="calendar month, quarter or year"):
        brief.brief_content(demo, free, lang="en", municipality="Prizren", policy=public_policy())
    quarter = figures.Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    b = brief.brief_content(demo, quarter, lang="en", municipality="Prizren", policy=public_policy())
    assert b.marking == "PUBLIC" and "compared with 1 Apr 2026 – 30 Jun 2026" in b.period_line  # the quarter before
    # the restricted brief takes any period
    assert brief.brief_content(demo, free, lang="en", municipality="Prizren").marking == "RESTRICTED"


def test_cli_public_brief_with_a_free_period_says_what_is_allowed(tmp_path, capsys):
    out = tmp_path / "b.html"
    args = ["brief", "--municipality", "Gjilan", "--public", "--from", "2026-09-01", "--to", "2026-09-15"]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and not out.exists()
    assert "--from 2026-09-01 --to 2026-09-15" in err and "calendar month" in err and "quarter" in err
    assert "Traceback" not in err


def test_public_brief_needs_the_secret(demo, period, tmp_path, capsys, monkeypatch):
    with pytest.raises(public.MissingSecret):
        brief.brief_content(demo, period, lang="en", municipality="Gjilan", policy=public.PublicPolicy())
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET")
    monkeypatch.setattr(settings, "SECRETS_FILE", tmp_path / "none.toml")  # no secrets.toml either
    out = tmp_path / "b.html"
    assert main(["brief", "--municipality", "Gjilan", "--public", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert public.SECRET_SETTING in err and "secrets.toml" in err and "token_hex" in err
    assert not out.exists()
    assert main(["brief", "--municipality", "Gjilan", "--out", str(out)]) == 0  # the restricted one needs none


def run_geo(args: list[str], secret: str | None = TEST_SECRET) -> subprocess.CompletedProcess:
    """``python -m geo ARGS`` in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_PUBLIC")}
    if secret is not None:
        env["DASHBOARD_PUBLIC_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def figure_cells(page: str) -> list[str]:
    return re.findall(r"<td>([^<]*(?:<br>[^<]*)?)</td>", page)


def test_public_brief_is_the_same_in_separate_processes_and_changes_with_the_secret(tmp_path):
    args = ["brief", "--municipality", "Prishtinë", "--public", "--lang", "en"]
    pages = []
    for i in range(2):
        out = tmp_path / f"b{i}.html"
        done = run_geo([*args, "--out", str(out)])
        assert done.returncode == 0, done.stderr
        pages.append(figure_cells(out.read_text(encoding="utf-8")))
    assert pages[0] == pages[1] and len(pages[0]) > 20
    out = tmp_path / "other.html"
    done = run_geo([*args, "--out", str(out)], secret="another-secret-of-another-deployment")
    assert done.returncode == 0, done.stderr
    other = figure_cells(out.read_text(encoding="utf-8"))
    assert len(other) == len(pages[0]) and other != pages[0]


def test_public_output_without_a_secret_in_its_own_process_gives_the_how_to_and_no_traceback(tmp_path):
    for args in (
        ["brief", "--municipality", "Gjilan", "--public", "--out", str(tmp_path / "b.pdf")],
        ["map", "--public", "--out", str(tmp_path / "m.html")],
        ["hotspots", "--public", "--json"],
    ):
        done = run_geo(args, secret=None)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and public.SECRET_SETTING in done.stderr, done.stderr
        assert done.stdout == ""
    assert not list(tmp_path.iterdir())


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
