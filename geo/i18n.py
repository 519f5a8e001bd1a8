"""Translations of the dashboard: Albanian (``sq``), Serbian in Latin script (``sr``) and English (``en``).

The catalogues are gettext ``.po`` files in ``geo/locales/<lang>/LC_MESSAGES/messages.po``,
read at run time with Babel (no compile step). Interface texts use their
English wording as the message id; vocabulary values, problem codes, inputs,
contract fields and count names use their code as the id under a message
context (``incident_category``, ``problem``, ``field``, …), so renaming an
English label never loses a translation.

After adding or changing texts in the code::

    python -m geo.i18n update    # rewrite messages.pot and merge it into the three .po files

then fill in the empty ``msgstr`` entries; ``tests/test_i18n.py`` fails until
every message is translated in every language.

Numbers and dates follow local usage through Babel: ``1.234,5`` and
``18.03.2024`` in Albanian and Serbian, ``1,234.5`` and ``18 Mar 2024`` in
English. (Babel's Albanian data groups digits with a narrow space; the
dashboard uses the dot, as Kosovo's institutions do in tables.)
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from babel.core import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from geo import places
from geo.schema import (
    COMMITTEE_TYPES,
    CONCERN_CATEGORIES,
    CONCERN_SOURCES,
    CONCERN_STATUSES,
    COUNT_KEYS,
    EXTRA_COUNT_KEYS,
    INCIDENT_CATEGORIES,
    INPUTS,
    PROBLEM_CODES,
    Term,
)

LANGS = ("sq", "sr", "en")
DEFAULT_LANG = "sq"
#: Each language under its own name, for the language selector.
LANG_NAMES = {"sq": "Shqip", "sr": "Srpski", "en": "English"}
#: Babel locales for numbers and dates (Serbian: Latin script, as used in Kosovo).
BABEL_LOCALES = {"sq": "sq_XK", "sr": "sr_Latn_XK", "en": "en_GB"}
#: Short date pattern per language (``None``: Babel's medium date).
DATE_PATTERNS = {"sq": "dd.MM.yyyy", "sr": "dd.MM.yyyy", "en": None}
#: Digit grouping used instead of Babel's where local practice differs.
GROUP_SYMBOLS = {"sq": "."}

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
POT_FILE = LOCALES_DIR / f"{DOMAIN}.pot"

#: Message contexts of the controlled vocabularies.
VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "incident_category": INCIDENT_CATEGORIES,
    "concern_category": CONCERN_CATEGORIES,
    "concern_source": CONCERN_SOURCES,
    "concern_status": CONCERN_STATUSES,
    "committee_type": COMMITTEE_TYPES,
}
#: Where the vocabularies are used in the contract (``input.field`` → context).
FIELD_VOCABULARY = {
    "incidents.category": "incident_category",
    "concerns.category": "concern_category",
    "concerns.source": "concern_source",
    "concerns.status": "concern_status",
    "committees.type": "committee_type",
}
SEVERITIES = ("error", "warning")


@lru_cache(maxsize=1)
def label_vocabularies() -> dict[str, dict[str, str]]:
    """Fixed label sets of the analyses (code → English), by message context.

    ``hotspot`` (Gi* labels), ``change_flag`` (Poisson change flags),
    ``agreement`` (worry vs incidents), ``predictor`` (hotspot predictors).
    """
    from geo import compare, concerns, hotspots

    return {
        "hotspot": dict(hotspots.LABEL_TEXT),
        "change_flag": dict(compare.FLAG_TEXT),
        "agreement": dict(concerns.CLASS_TEXT),
        "predictor": dict(hotspots.PREDICTOR_TEXT),
    }


#: Files scanned for translating calls (see :func:`extract_messages`): the app's every folder, sub-folders
#: included (``app/`` for the app's own modules beside the pages). ``tests/test_i18n_sources.py`` fails when a
#: Python file with a translating call lies outside them.
SOURCE_GLOBS = ("dashboard.py", "views/**/*.py", "geo/**/*.py", "app/**/*.py")
APP_DIR = LOCALES_DIR.parent.parent


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for translation"
    """Mark a text for extraction without translating it now (translate it later with ``_(text)``)."""
    return message


#: Committee types by their abbreviation in each language (KLSP/KKSB/EVSP, LOJB/OSBZ/ATJB), as pages show them.
COMMITTEE_ABBR = {"LCPS": N_("LCPS"), "MCPS": N_("MCPS"), "ACPS": N_("ACPS")}
#: The two markings of every output (the codes in file names and data; printed translated).
MARKINGS = {"PUBLIC": N_("PUBLIC"), "RESTRICTED": N_("RESTRICTED")}
#: A calendar quarter's name (:meth:`Translator.calendar_period`).
QUARTER = N_("Q{quarter} {year}")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Untrusted text (a section or village name) made literal for Streamlit's Markdown.

    Streamlit renders labels, buttons and ``st.markdown`` as Markdown: a name
    like ``*[x](https://…)*`` would become a link. Every Markdown character is
    backslash-escaped.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; languages are {', '.join(LANGS)}")
    return lang


@lru_cache(maxsize=len(LANGS))
def catalog(lang: str) -> Catalog:
    """The catalogue of ``lang`` as read from its ``.po`` file."""
    _check_lang(lang)
    with open(po_path(lang), "rb") as fh:
        return read_po(fh, locale=BABEL_LOCALES[lang].replace("_XK", ""), domain=DOMAIN)


class Translator:
    """Texts, names, numbers and dates in one language. Call it like gettext: ``_("Overview")``.

    ``_("{n} sections", n=3)`` formats the translated text with ``str.format``.
    A message missing from the catalogue comes back untranslated (English).
    """

    def __init__(self, lang: str):
        self.lang = _check_lang(lang)
        self.locale = Locale.parse(BABEL_LOCALES[lang])
        self._messages: dict[tuple[str | None, str], str] = {}
        for msg in catalog(lang):
            if msg.id and isinstance(msg.id, str) and msg.string:
                self._messages[(msg.context, msg.id)] = msg.string

    def __call__(self, message: str, /, **values: object) -> str:
        text = self._messages.get((None, message), message)
        return text.format(**values) if values else text

    def pgettext(self, context: str, message: str, default: str | None = None) -> str:
        return self._messages.get((context, message), default if default is not None else message)

    def has(self, message: str, context: str | None = None) -> bool:
        return (context, message) in self._messages

    # -- vocabularies and codes

    def term(self, vocabulary: str, code: object) -> str:
        """The label of a vocabulary code, e.g. ``term("incident_category", "theft")``."""
        if vocabulary not in VOCABULARIES:
            raise ValueError(f"unknown vocabulary {vocabulary!r}; vocabularies are {', '.join(VOCABULARIES)}")
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return ""
        english = {t.code: t.label for t in VOCABULARIES[vocabulary]}.get(str(code), str(code))
        return self.pgettext(vocabulary, str(code), english)

    def label(self, kind: str, code: object) -> str:
        """The text of an analysis label, e.g. ``label("hotspot", "hot_99")`` (see :func:`label_vocabularies`)."""
        vocab = label_vocabularies()
        if kind not in vocab:
            raise ValueError(f"unknown label set {kind!r}; label sets are {', '.join(vocab)}")
        english = vocab[kind].get(str(code), str(code))
        return self.pgettext(kind, str(code), english)

    def problem(self, code: str) -> str:
        """What a problem code means and what to do about it."""
        return self.pgettext("problem", code)

    def input(self, name: str) -> str:
        """An input's name (``sections``, ``incidents``, …)."""
        return self.pgettext("input", name)

    def field(self, input: str, name: str) -> str:
        """A contract field's short label (the same in every input)."""
        INPUTS[input].field(name)  # KeyError naming the fields for a wrong name
        return self.pgettext("field", name, name)

    def field_help(self, input: str, name: str) -> str:
        """A contract field's description."""
        return self.pgettext("field_help", f"{input}.{name}", INPUTS[input].field(name).description)

    def count(self, key: str) -> str:
        """A reconciliation count's name (``loaded``, ``joined``, …)."""
        return self.pgettext("count", key)

    def severity(self, severity: str) -> str:
        return self.pgettext("severity", severity)

    def committee_abbr(self, code: object) -> str:
        """A committee type's abbreviation in this language: ``KLSP`` (sq) or ``LOJB`` (sr) for ``LCPS``."""
        text = COMMITTEE_ABBR.get(str(code))
        return self(text) if text else str(code)

    def marking(self, code: str) -> str:
        """An output's marking as printed: ``I KUFIZUAR · RESTRICTED`` (both, so that a reader of either
        language and anyone filing it see it), ``RESTRICTED`` in English."""
        if code not in MARKINGS:
            raise ValueError(f"unknown marking {code!r}; markings are {', '.join(MARKINGS)}")
        own = self(MARKINGS[code])
        return code if own == code else f"{own} · {code}"

    # -- places

    def municipality(self, name: object) -> str:
        """A municipality's name in this language (Serbian name for ``sr``, Albanian otherwise)."""
        if name is None or (isinstance(name, float) and math.isnan(name)):
            return ""
        if self.lang == "sr":
            try:
                return places.municipality(str(name)).name_sr
            except KeyError:
                return str(name)
        return str(name)

    def region(self, name: object) -> str:
        """A police region's name in this language: Serbian for ``sr``, Albanian otherwise (as municipalities)."""
        if name is None or (isinstance(name, float) and math.isnan(name)):
            return ""
        if self.lang == "sr":
            try:
                return places.region(str(name)).name_sr
            except KeyError:
                return str(name)
        return str(name)

    # -- numbers and dates

    def number(self, value: object, decimals: int = 0) -> str:
        """``value`` with local digit grouping and decimal mark, rounded to ``decimals``."""
        if value is None:
            return ""
        try:
            x = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        if math.isnan(x):
            return ""
        # Python formats the digits (thousands of calls per map); the locale only gives the two symbols
        text = f"{round(x, decimals) if decimals else round(x):,.{max(decimals, 0)}f}"
        group, point = self._number_symbols()
        text = text.replace(",", "\x00").replace(".", point).replace("\x00", group)
        return text.replace("-", "−")

    def numbers(self, values, decimals: int = 0, missing: str = "–") -> list[str]:
        """:meth:`number` of every value at once (a map's column of thousands of values): the same text, with
        ``missing`` for a missing or unreadable value."""
        group, point = self._number_symbols()
        d = max(decimals, 0)
        out = []
        for v in values:
            try:
                x = float(v)
            except (TypeError, ValueError):
                out.append(missing)
                continue
            if x != x:  # NaN
                out.append(missing)
                continue
            text = f"{round(x, d) if d else round(x):,.{d}f}"
            out.append(text.replace(",", "\x00").replace(".", point).replace("\x00", group).replace("-", "−"))
        return out

    def _number_symbols(self) -> tuple[str, str]:
        if not hasattr(self, "_symbols"):
            group = GROUP_SYMBOLS.get(self.lang) or get_group_symbol(self.locale)
            self._symbols = (group, get_decimal_symbol(self.locale))
        return self._symbols

    def decimal(self, value: object) -> str:
        """Like :meth:`number` but with as many decimals as the value needs (up to three)."""
        if value is None:
            return ""
        x = float(value)  # type: ignore[arg-type]
        text = format_decimal(x, format="#,##0.###", locale=self.locale)
        group = GROUP_SYMBOLS.get(self.lang)
        if group:
            text = text.replace(get_group_symbol(self.locale), group)
        return text.replace("-", "−")

    @property
    def decimal_symbol(self) -> str:
        return get_decimal_symbol(self.locale)

    def date(self, value: object) -> str:
        """A date: ``18.03.2024`` (sq, sr) or ``18 Mar 2024`` (en)."""
        if value is None:
            return ""
        try:
            import pandas as pd

            if pd.isna(value):
                return ""
            d = pd.Timestamp(value).date()
        except (TypeError, ValueError):
            return str(value)
        pattern = DATE_PATTERNS[self.lang]
        return format_date(d, format=pattern or "medium", locale=self.locale)

    def month(self, value: dt.date) -> str:
        """Month and year in words: ``mars 2024``, ``mart 2024``, ``March 2024``."""
        return format_date(value, format="LLLL y", locale=self.locale)

    def month_short(self, value: dt.date) -> str:
        """A short month and year for chart axes: ``tet 2026``, ``okt 2026``, ``Oct 2026``."""
        return format_date(value, format="LLL yyyy", locale=self.locale).replace(".", "")

    def period(self, start: dt.date, end: dt.date) -> str:
        """A period as text: a whole calendar month by its name, otherwise ``from – to``."""
        import pandas as pd

        if start.day == 1 and end == (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date():
            return self.month(start)
        return f"{self.date(start)} – {self.date(end)}"

    def calendar_period(self, start: dt.date, end: dt.date) -> str:
        """A calendar month, quarter or year by its name (``March 2024``, ``Q1 2024``, ``2024``); any other
        period as :meth:`period` writes it."""
        import pandas as pd

        s, e = pd.Timestamp(start), pd.Timestamp(end)
        if s.day == 1 and e == e + pd.offsets.MonthEnd(0):
            months = (e.year - s.year) * 12 + e.month - s.month + 1
            if months == 3 and s.month in (1, 4, 7, 10):
                return self(QUARTER, quarter=(s.month - 1) // 3 + 1, year=str(s.year))
            if months == 12 and s.month == 1:
                return str(s.year)
        return self.period(start, end)


@lru_cache(maxsize=len(LANGS))
def translator(lang: str) -> Translator:
    """The (shared, read-only) translator for ``lang``."""
    return Translator(lang)


# ---------------------------------------------------------------- catalogue maintenance


def _source_files(root: Path = APP_DIR) -> list[Path]:
    files: list[Path] = []
    for pattern in SOURCE_GLOBS:
        files += sorted(root.glob(pattern))
    return files


#: Names a translating call goes by: ``_("…")``, ``N_("…")``, and the same as an attribute (``ctx._("…")``).
GETTEXT_NAMES = ("_", "N_")
#: Context-carrying calls: ``pgettext("context", "…")``, also as ``_.pgettext(…)``.
PGETTEXT_NAMES = ("pgettext",)


def _call_name(func: ast.expr) -> str | None:
    """The called name of ``f(…)`` or ``anything.f(…)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_messages(path: Path) -> list[tuple[str | None, str, int]]:
    """``(context, message, line)`` of every translating call with literal texts in a Python file.

    Sees ``_("…")``, ``N_("…")``, ``ctx._("…")`` (any ``something._(…)`` or ``something.N_(…)``) and
    ``pgettext("context", "…")`` in both spellings. A call whose text is not a literal cannot be extracted;
    its texts must be marked where they are written (``N_``).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str | None, str, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = _call_name(node.func)
        if name in GETTEXT_NAMES:
            text = _literal(node.args[0])
            if text is not None:
                found.append((None, text, node.lineno))
        elif name in PGETTEXT_NAMES and len(node.args) >= 2:
            context, text = _literal(node.args[0]), _literal(node.args[1])
            if context is not None and text is not None:
                found.append((context, text, node.lineno))
    return found


def extract_calls(path: Path) -> list[tuple[str, int]]:
    """``(message, line)`` of every context-free translating call (see :func:`extract_messages`)."""
    return [(text, line) for context, text, line in extract_messages(path) if context is None]


def dynamic_messages() -> list[tuple[str, str, str]]:
    """``(context, id, English)`` of every message built from the schema rather than written in code."""
    out: list[tuple[str, str, str]] = []
    for ctx, vocab in VOCABULARIES.items():
        out += [(ctx, t.code, t.label) for t in vocab]
    for kind, texts in label_vocabularies().items():
        out += [(kind, code, english) for code, english in texts.items()]
    out += [("problem", code, f"explain the {severity} {code!r}") for code, severity in PROBLEM_CODES.items()]
    out += [("input", name, name.capitalize()) for name in INPUTS]
    out += [("input_help", name, inp.description) for name, inp in INPUTS.items()]
    names: list[str] = []
    for inp in INPUTS.values():
        for f in inp.fields:
            if f.name not in names:
                names.append(f.name)
                out.append(("field", f.name, f.name.replace("_", " ")))
            out.append(("field_help", f"{inp.name}.{f.name}", f.description))
    keys: list[str] = []
    for name in INPUTS:
        for k in COUNT_KEYS.get(name, ()) + EXTRA_COUNT_KEYS.get(name, ()):
            if k not in keys:
                keys.append(k)
    out += [("count", k, k) for k in keys]
    out += [("severity", s, s) for s in SEVERITIES]
    return out


def build_template(root: Path = APP_DIR) -> Catalog:
    """The ``.pot`` catalogue: texts from the code plus the schema's codes."""
    cat = Catalog(project="community-policing-dashboard", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for path in _source_files(root):
        rel = path.relative_to(root).as_posix()
        for context, message, line in extract_messages(path):
            cat.add(message, context=context, locations=[(rel, line)])
    for ctx, mid, english in dynamic_messages():
        cat.add(mid, context=ctx, auto_comments=[f"English: {english}"], locations=[("geo/schema.py", 0)])
    return cat


_HEADER = """\
# {language} messages of the community-policing dashboard.
# Written by `python -m geo.i18n update`; fill in the msgstr lines (see geo/i18n.py).
#"""


def _write(cat: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = {"sq": "Albanian (sq)", "sr_Latn": "Serbian, Latin script (sr)", "en_GB": "English (en)"}
    cat.header_comment = _HEADER.format(language=names.get(str(cat.locale), "Template:") if cat.locale else "Template:")
    cat.fuzzy = False
    cat.msgid_bugs_address = "the project's issue tracker"
    cat.version = "1"
    cat.last_translator = "the project's translators"
    cat.language_team = names.get(str(cat.locale), "") if cat.locale else ""
    with open(path, "wb") as fh:
        write_po(fh, cat, width=120, omit_header=False, sort_output=False, include_previous=False, no_location=True)


def update(root: Path = APP_DIR, langs: Iterable[str] = LANGS) -> dict[str, list[str]]:
    """Rewrite ``messages.pot`` and merge it into each language's ``.po``; returns the untranslated ids."""
    template = build_template(root)
    _write(template, POT_FILE)
    missing: dict[str, list[str]] = {}
    for lang in langs:
        path = po_path(lang)
        if path.exists():
            with open(path, "rb") as fh:
                cat = read_po(fh, locale=BABEL_LOCALES[lang].replace("_XK", ""), domain=DOMAIN)
        else:
            cat = Catalog(locale=BABEL_LOCALES[lang].replace("_XK", ""), domain=DOMAIN)
        cat.update(template, update_header_comment=False, no_fuzzy_matching=True)
        cat.obsolete.clear()
        _write(cat, path)
        missing[lang] = [m.id for m in cat if m.id and not m.string]
    catalog.cache_clear()
    translator.cache_clear()
    return missing


_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)(?:[:!][^}]*)?\}(?!\})")


def placeholders(text: str) -> set[str]:
    """Names of the ``{name}`` fields in a message."""
    return set(_PLACEHOLDER.findall(text))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["update"]:
        print("usage: python -m geo.i18n update", file=sys.stderr)
        return 2
    for lang, ids in update().items():
        print(f"{lang}: {len(ids)} untranslated" + (": " + "; ".join(map(str, ids[:10])) if ids else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
