"""Translations: complete catalogues, every string in the code translated, local numbers and dates."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from geo import i18n, places
from geo.schema import INPUTS, PROBLEM_CODES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "dashboard.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "geo").glob("*.py"))]


def read(path: Path):
    with open(path, "rb") as fh:
        return read_po(fh)


def ids(cat) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in cat if m.id}


@pytest.fixture(scope="module")
def pot():
    return read(i18n.POT_FILE)


@pytest.fixture(scope="module", params=i18n.LANGS)
def lang(request) -> str:
    return request.param


def test_every_message_of_the_template_is_translated_in_every_language(pot, lang):
    cat = read(i18n.po_path(lang))
    assert ids(cat) == ids(pot), f"{lang}: run `python -m geo.i18n update`"
    empty = [m.id for m in cat if m.id and not m.string]
    assert not empty, f"{lang}: untranslated: {empty[:10]}"
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (unchecked) translations: {fuzzy[:10]}"


def test_template_is_up_to_date_with_the_code(pot):
    assert ids(i18n.build_template()) == ids(pot), "run `python -m geo.i18n update`"


def _called(func) -> str | None:
    """``f`` of ``f(...)`` and of ``anything.f(...)`` (``ctx._``, ``self._``, ``_.pgettext``)."""
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _translating_calls(path: Path) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _called(node.func) in ("_", "N_", "pgettext")
    ]


def _literal_calls(path: Path) -> list[tuple[str | None, str, int]]:
    """Our own scan (independent of geo.i18n): ``(context, text, line)`` of every translating call with literals.

    Every spelling counts: ``_(…)``, ``N_(…)``, ``ctx._(…)`` and ``pgettext("context", …)``.
    """
    found = []
    for node in _translating_calls(path):
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if _called(node.func) == "pgettext":
            if len(args) >= 2 and args[0] is not None and args[1] is not None:
                found.append((args[0], args[1], node.lineno))
        elif args and args[0] is not None:
            found.append((None, args[0], node.lineno))
    return found


def test_every_string_the_code_translates_is_in_the_catalogue(pot):
    known = ids(pot)
    missing = []
    for path in SOURCES:
        for context, text, line in _literal_calls(path):
            if (context, text) not in known:
                missing.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert not missing, "\n".join(missing)
    assert sum(len(_literal_calls(p)) for p in SOURCES) > 100  # the scan found the pages' texts
    # the page link after a click on a section is written ``ctx._(…)``: it was once missed by the extractor
    assert (None, "Open the profile of {name}") in known


def test_the_extractor_sees_every_spelling_of_a_translating_call(tmp_path):
    code = tmp_path / "page.py"
    code.write_text(
        "_('plain')\nN_('marked')\nctx._('attribute {name}', name=x)\nself.ctx.N_('nested')\n"
        "_.pgettext('hotspot', 'hot_99')\npgettext('field', 'name')\n"
        "_(variable)\nprint('not a message')\nctx.other('not either')\n",
        encoding="utf-8",
    )
    assert i18n.extract_messages(code) == [
        (None, "plain", 1),
        (None, "marked", 2),
        (None, "attribute {name}", 3),
        (None, "nested", 4),
        ("hotspot", "hot_99", 5),
        ("field", "name", 6),
    ]
    # and the test's own scan agrees with the extractor on every source file
    for path in SOURCES:
        assert sorted(_literal_calls(path)) == sorted(i18n.extract_messages(path)), path


def test_no_translated_f_strings_or_concatenations():
    # _(f"...") or _("a" + b) can never match a catalogue entry
    bad = []
    for path in SOURCES:
        for node in _translating_calls(path):  # (pgettext's ids of schema entries are built on purpose)
            if _called(node.func) != "pgettext" and node.args and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad


def test_placeholders_match(lang):
    cat = read(i18n.po_path(lang))
    wrong = [(m.id, m.string) for m in cat if m.id and i18n.placeholders(m.id) != i18n.placeholders(m.string)]
    # vocabulary, problem, field entries use codes as ids and have no placeholders in either
    assert not wrong


@pytest.mark.parametrize("vocab", list(i18n.VOCABULARIES))
def test_every_vocabulary_code_has_a_translation(vocab, lang):
    _ = i18n.translator(lang)
    for term in i18n.VOCABULARIES[vocab]:
        assert _.has(term.code, vocab), f"{lang}: {vocab} {term.code} untranslated"
        label = _.term(vocab, term.code)
        assert label and label != term.code


def test_every_problem_code_and_input_and_field_has_a_translation(lang):
    _ = i18n.translator(lang)
    for code in PROBLEM_CODES:
        assert _.has(code, "problem")
        assert len(_.problem(code)) > 10
    for name, inp in INPUTS.items():
        assert _.has(name, "input") and _.has(name, "input_help")
        for f in inp.fields:
            assert _.has(f.name, "field")
            assert _.has(f"{name}.{f.name}", "field_help")


def test_languages_really_differ():
    sq, sr, en = (i18n.translator(x) for x in ("sq", "sr", "en"))
    assert sq("Overview") == "Pasqyra"
    assert sr("Overview") == "Pregled"
    assert en("Overview") == "Overview"
    assert sq.term("incident_category", "theft") == "Vjedhje"
    assert en.term("incident_category", "accident_fatal") == "Traffic accident with fatalities"


def test_formatting_values_and_missing_messages():
    _ = i18n.translator("en")
    assert _("Data as of {date}", date="x") == "Data as of x"
    assert _("A text nobody translated") == "A text nobody translated"
    assert i18n.translator("sq")("Uploaded: {name}", name="a.csv") == "Ngarkuar: a.csv"
    with pytest.raises(ValueError, match="languages are sq, sr, en"):
        i18n.translator("de")
    with pytest.raises(ValueError, match="unknown vocabulary"):
        _.term("colours", "red")


@pytest.mark.parametrize(
    ("lang", "number", "rate", "date", "month"),
    [
        ("sq", "1.234,5", "12.345.678", "18.03.2024", "mars 2024"),
        ("sr", "1.234,5", "12.345.678", "18.03.2024", "mart 2024"),
        ("en", "1,234.5", "12,345,678", "18 Mar 2024", "March 2024"),
    ],
)
def test_numbers_and_dates_in_local_format(lang, number, rate, date, month):
    _ = i18n.translator(lang)
    assert _.number(1234.5, decimals=1) == number
    assert _.number(12345678) == rate
    assert _.date(dt.date(2024, 3, 18)) == date
    assert _.date("2024-03-18 23:10") == date
    assert _.month(dt.date(2024, 3, 1)) == month
    assert _.period(dt.date(2024, 3, 1), dt.date(2024, 3, 31)) == month
    assert _.period(dt.date(2024, 3, 18), dt.date(2024, 3, 18)) == f"{date} – {date}"
    assert _.number(-3) == "−3"
    assert _.number(None) == "" and _.date(None) == ""


def test_serbian_uses_latin_script_locale():
    assert i18n.BABEL_LOCALES["sr"].startswith("sr_Latn")
    month = i18n.translator("sr").month(dt.date(2024, 3, 1))
    assert re.fullmatch(r"[A-Za-z0-9 ]+", month), month  # not Cyrillic


def test_serbian_and_albanian_letters_survive():
    sr, sq = i18n.translator("sr"), i18n.translator("sq")
    serbian = " ".join(sr(m) for m in ("Change vs previous period", "Police region", "Validation report"))
    serbian += " " + " ".join(sr.term("incident_category", c) for c in ("theft", "accident_fatal", "robbery"))
    serbian += " " + sr.term("concern_category", "school_safety") + " " + sr.municipality("Ferizaj")
    serbian += " " + sr.municipality("Gjakovë") + " " + sr.problem("unreadable_file")
    for letter in "čćđšž":
        assert letter in serbian, letter
    albanian = " ".join(sq(m) for m in ("Municipality boundary", "Records outside every section", "Export"))
    albanian += " " + sq.term("concern_category", "public_lighting") + " " + sq.municipality("Fushë Kosovë")
    for letter in "ëç":
        assert letter in albanian, letter
    # and the files on disk are UTF-8
    assert "Krađa" in i18n.po_path("sr").read_text(encoding="utf-8")
    assert "Ndriçimi publik" in i18n.po_path("sq").read_text(encoding="utf-8")


def test_place_names_in_the_chosen_language():
    sq, sr, en = (i18n.translator(x) for x in ("sq", "sr", "en"))
    assert sq.municipality("Ferizaj") == "Ferizaj" and sr.municipality("Ferizaj") == "Uroševac"
    assert en.municipality("Prishtinë") == "Prishtinë" and sr.municipality("Prishtinë") == "Priština"
    assert sq.region("Gjakovë") == "Gjakovë" and sr.region("Gjakovë") == "Đakovica"
    for m in places.municipalities():
        assert sr.municipality(m.name) == m.name_sr
        assert sq.municipality(m.name) == m.name == en.municipality(m.name)
    assert sr.municipality("Not a place") == "Not a place"


def test_analysis_labels_in_every_language():
    sq, sr, en = (i18n.translator(x) for x in ("sq", "sr", "en"))
    assert en.label("hotspot", "hot_99") == "Hot spot – 99 %"
    assert sq.label("hotspot", "hot_99") == "Pikë e nxehtë – 99 %"
    assert sr.label("hotspot", "cold_95") == "Hladna tačka – 95 %"
    assert sr.label("change_flag", "strong_increase") == "Snažan porast (p < 0,003)"
    assert sq.label("agreement", "worry_without_incidents") == "Shqetësim pa incidente"
    assert sr.label("predictor", "gi_star") == "Gi* žarišta"
    for kind, texts in i18n.label_vocabularies().items():
        for code in texts:
            for t in (sq, sr, en):
                assert t.has(code, kind), (t.lang, kind, code)
    with pytest.raises(ValueError, match="unknown label set"):
        en.label("colours", "red")


def test_short_months_for_chart_axes():
    assert i18n.translator("en").month_short(dt.date(2026, 10, 1)) == "Oct 2026"
    assert i18n.translator("sr").month_short(dt.date(2026, 10, 1)) == "okt 2026"
    assert i18n.translator("sq").month_short(dt.date(2026, 10, 1)) == "tet 2026"


def test_calendar_periods_by_name():
    d = dt.date
    en, sq, sr = (i18n.translator(x) for x in ("en", "sq", "sr"))
    assert en.calendar_period(d(2024, 3, 1), d(2024, 3, 31)) == "March 2024"
    assert en.calendar_period(d(2026, 4, 1), d(2026, 6, 30)) == "Q2 2026"
    assert sq.calendar_period(d(2026, 4, 1), d(2026, 6, 30)) == "TM2 2026"
    assert sr.calendar_period(d(2026, 10, 1), d(2026, 12, 31)) == "4. kvartal 2026"
    assert en.calendar_period(d(2025, 1, 1), d(2025, 12, 31)) == sq.calendar_period(d(2025, 1, 1), d(2025, 12, 31))
    assert en.calendar_period(d(2025, 1, 1), d(2025, 12, 31)) == "2025"
    # not a calendar quarter or year: as any other period
    assert en.calendar_period(d(2024, 2, 1), d(2024, 4, 30)) == "1 Feb 2024 – 30 Apr 2024"
    assert en.calendar_period(d(2024, 7, 1), d(2025, 6, 30)) == "1 Jul 2024 – 30 Jun 2025"
    assert en.calendar_period(d(2024, 3, 5), d(2024, 3, 14)) == "5 Mar 2024 – 14 Mar 2024"
