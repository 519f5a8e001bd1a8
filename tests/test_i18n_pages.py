"""No English left on Albanian and Serbian pages: every page rendered in AppTest, compared with the catalogues.

For each language, the English texts of every catalogue entry whose translation differs from the English
(interface texts, vocabularies, analysis labels, problems) must not appear among the texts a page renders:
titles, markdown, captions, alerts, widget labels, options, placeholders and help, metric labels, table
headers and cells, and the map's tooltips and legends. A text that is the same in the languages (a code, a
number, a name) is not looked for.

An English text that is also a translation in the language (Albanian "Data" is the date) is not looked for
either. A text of several words is looked for anywhere (as whole words); a single word only as a whole rendered
text (a column header, an option, a label), since a single English word can be an ordinary word of the
other language too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import lru_cache

import pandas as pd
import pytest
from dashboard_fixtures import PAGES, TinySource
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest
from test_pages import APP, needs_demo

from geo import i18n
from geo.source import demo_source

_FIELD = re.compile(r"\\\{[a-z_][a-z0-9_]*(?:[:!][^}]*)?\\\}")


def _pattern(english: str) -> re.Pattern:
    """``english`` as a regular expression: its ``{fields}`` stand for any text, words bounded."""
    body = _FIELD.sub(".{1,80}?", re.escape(english))
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


@lru_cache(maxsize=len(i18n.LANGS))
def untranslated_english(lang: str) -> tuple[list[tuple[str, re.Pattern]], set[str]]:
    """English texts that must not be shown in ``lang``: (text, pattern) of several words; single words."""
    english = {(m.context, m.id): m.string for m in i18n.catalog("en") if m.id}
    own = {(m.context, m.id): m.string for m in i18n.catalog(lang) if m.id}
    phrases, words = {}, set()
    own_texts = set(own.values())
    for key, en in english.items():
        if not en or own.get(key, en) == en or en in own_texts:
            continue  # the same in both, or an English text that is also a word of the language ("Data")
        bare = _FIELD.sub("", re.escape(en)).replace("\\", "")
        if not re.search(r"[A-Za-z]{2}", bare):
            continue  # symbols and fields only
        if " " in en.strip():
            phrases[en] = _pattern(en)
        else:
            words.add(en)
    return sorted(phrases.items()), words


def _strings(msg: Message) -> Iterator[str]:
    for field, value in msg.ListFields():
        repeated = getattr(field, "is_repeated", None)
        many = repeated if repeated is not None else field.label == field.LABEL_REPEATED
        for v in value if many else [value]:
            if isinstance(v, Message):
                yield from _strings(v)
            elif isinstance(v, str):
                yield v


def _walk(node) -> Iterator[object]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def _cells(frame: pd.DataFrame) -> Iterator[str]:
    yield from (str(c) for c in frame.columns)
    yield from (str(i) for i in frame.index.names if i)
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            yield from (str(v) for v in frame[col].dropna().unique())


def rendered_texts(at: AppTest) -> list[str]:
    """Every text the run shows, one entry per element part (the map's HTML as one entry)."""
    out: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            out += list(_strings(proto))
        for attr in ("options",):
            try:
                values = getattr(node, attr, None)
            except Exception:  # noqa: BLE001 - an element without that attribute
                values = None
            if isinstance(values, (list, tuple)):
                out += [str(v) for v in values]
    for df in at.dataframe:
        out += list(_cells(df.value))
    for table in at.table:
        out += list(_cells(table.value))
    return [t for t in out if t and not t.startswith("$$ID-")]


def english_in(texts: list[str], lang: str) -> list[str]:
    phrases, words = untranslated_english(lang)
    found = set()
    for text in texts:
        plain = text.replace("**", "").replace("\\", "").strip()
        if plain in words:
            found.add(plain)
        if " " not in plain and len(plain) < 3:
            continue
        for english, pattern in phrases:
            if english[:1].isalpha() and english.split()[0] not in text and "{" not in english[:1]:
                continue  # cheap pre-check on the first word
            if pattern.search(plain):
                found.add(english)
    return sorted(found)


def test_the_sweep_finds_english_where_there_is_some():
    # the check itself: an English text among Albanian ones is found, Albanian ones and names are not
    assert english_in(["Pasqyra", "**Open the profile of** Qendra"], "sq") == ["Open the profile of {name}"]
    assert english_in(["Overview"], "sr") == ["Overview"]
    assert english_in(["Hot spot – 99 %"], "sq") == ["Hot spot – 99 %"]
    assert english_in(["Prishtinë", "PR-01", "12,5 %", "Pasqyra", "Qendra"], "sq") == []
    assert english_in(["Ferizaj: 3 sections"], "sq") == []  # a word alone in a longer text is not looked for


def _pages(at: AppTest, lang: str) -> dict[str, list[str]]:
    found = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert all(m.proto.select_all == 0 for m in at.multiselect), page  # no English "Select all"
        english = english_in(rendered_texts(at), lang)
        if english:
            found[page] = english
    return found


@needs_demo
@pytest.mark.parametrize("public", [False, True], ids=["restricted", "public"])
@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_no_english_on_any_page(monkeypatch, lang, public):
    if public:
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    else:
        monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    found = {f"Kosovo {p}": e for p, e in _pages(at, lang).items()}
    # a section chosen: its profile, its brief, the link to its profile under the map
    sections = demo_source().load().sections
    sec = sections.sort_values("population", ascending=False).iloc[0]
    at.session_state["region"] = str(sec["region"])
    at.session_state["municipality"] = str(sec["municipality"])
    at.session_state["section"] = str(sec["section_id"])
    found |= {f"section {p}": e for p, e in _pages(at, lang).items()}
    assert not found, found


def test_a_word_of_the_language_that_looks_english_is_not_reported():
    # "Data" is the English of one message and the Albanian of another ("Date" → "Data")
    assert i18n.translator("sq")("Date") == "Data"
    assert english_in(["Data"], "sq") == []


def test_multiselects_offer_no_english_select_all():
    # Streamlit's "Select all" entry cannot be translated; the dashboard's multiselects leave it out (an empty
    # choice already means every category or type)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = TinySource()
    at.session_state["lang"] = "sq"
    at.run()
    at.switch_page("views/committees.py").run()
    assert not at.exception
    assert len(at.multiselect) == 2  # incident categories (sidebar), committee types
    assert all(m.proto.select_all == 0 for m in at.multiselect)


@pytest.mark.parametrize("lang", ["sq", "sr"])
def test_the_public_sidebar_is_translated(monkeypatch, lang):
    # the public sidebar's own choices: calendar periods by name, the category groups, the comparison line
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = TinySource()
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.sidebar.multiselect and not at.sidebar.date_input
    _ = i18n.translator(lang)
    groups = at.sidebar.selectbox(key="public_categories").options
    assert groups[:2] == [_("All except traffic tickets"), _("All categories")] and _("Crimes") in groups
    assert at.sidebar.selectbox(key="public_period").options == [_.month(dt.date(2024, 3, 1))]
    sidebar = [str(s) for s in (*groups, *(c.value for c in at.sidebar.caption))]
    sidebar += [w.label for w in at.sidebar.selectbox]
    assert english_in(sidebar, lang) == []
    assert _("Compared with the previous month: {period}", period=_.month(dt.date(2024, 2, 1))) in [
        c.value for c in at.sidebar.caption
    ]
