"""Text from data files made inert wherever it becomes HTML or script.

Every text that comes from a data file (a section's name, a municipality, an id,
a concern's description) is untrusted. It meets two kinds of interpreter:

- **HTML**, where ``<``, ``&`` and quotes would become markup;
- **Jinja2 templates.** folium and branca build every map with Jinja2, and
  branca renders twice: ``MacroElement.render`` wraps the *rendered* output of
  each macro in a new branca ``Element``, whose text is compiled as a template
  again (and streamlit-folium renders the header and HTML parts a second time
  too). Data that the first pass embedded, with ``tojson`` into a script or as
  text into HTML, is template source on the second pass: ``{{ 7*7 }}`` in a
  section's name became ``49``, a crafted name ran code on the server, and a
  name such as ``Lagjja {{ e Re`` broke every map with ``TemplateSyntaxError``.

Only ``{{``, ``{%`` and ``{#`` start Jinja syntax, so ``{`` (and ``}``, for
symmetry) is neutralised by context, to text that a browser shows exactly as
written:

- in HTML as ``&#123;`` / ``&#125;``, by :func:`html_text`, together with the
  usual HTML escaping;
- inside JSON and JavaScript strings as ``\\u007b`` / ``\\u007d``, by
  :func:`json_text`; a browser or JSON parser decodes them to the same text.

The JSON side is applied in one place that every map goes through:
:func:`install` makes the ``tojson`` filter of every Jinja environment folium
and branca render with (and folium's own ``tojavascript``) produce inert JSON,
so no map element — the project's own or folium's, in the map file, the exports
or the pages' ``st_folium`` — can hand data text to the second pass as template
source. Switching the second pass off instead is not possible: folium relies on
it (its GeoJSON style mapper emits ``{{ … }}`` into the JSON on purpose).
:mod:`geo.maps` calls :func:`install` when it is imported.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

import pandas as pd

#: The three sequences that open Jinja syntax (``{{``, ``{%``, ``{#``), found by their ``{``.
JINJA_START = re.compile(r"\{(?=[{%#])")
#: One JSON (or JavaScript double-quoted) string literal, escapes included.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_HTML_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def html_text(value: object) -> str:
    """``value`` as HTML text: escaped (``& < > " '``), braces as ``&#123;`` / ``&#125;``; missing → ``""``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_HTML_BRACES)


def _inert_string(match: re.Match) -> str:
    return match.group(0).replace("{", "\\u007b").replace("}", "\\u007d")


def json_text(text: str) -> str:
    """A JSON or JavaScript text with ``{`` and ``}`` inside its string literals written as ``\\u007b`` /
    ``\\u007d``.

    The structure (objects' braces) is untouched; a text with no ``{{``, ``{%`` or ``{#`` anywhere is returned
    as it is (it cannot open Jinja syntax), so the common case costs one scan.
    """
    if "{" not in text or JINJA_START.search(text) is None:  # most texts are short values with no brace at all
        return text
    return _STRING.sub(_inert_string, text)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` whose output cannot open Jinja syntax (see :func:`json_text`)."""
    return json_text(json.dumps(obj, **kwargs))


def _inert_tojavascript(tojavascript):
    def inert(obj):
        return json_text(tojavascript(obj))

    inert.__wrapped__ = tojavascript
    return inert


def _subclasses(cls: type):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def environments() -> list:
    """The Jinja environments folium's and branca's templates render with: the shared ones (jinja2's default,
    folium's, branca's ``ENV``) and that of every element class loaded so far."""
    import branca.element
    import folium.template
    import jinja2

    found = [jinja2.Template("").environment, folium.template.Template("").environment, branca.element.ENV]
    for cls in [branca.element.Element, *_subclasses(branca.element.Element)]:
        template = cls.__dict__.get("_template")
        if template is not None:
            found.append(template.environment)
    return list({id(env): env for env in found}.values())


def install() -> None:
    """Make every ``tojson`` (and folium's ``tojavascript``) of folium's and branca's Jinja environments write
    inert JSON. Idempotent; safe for other users of those environments (the JSON means the same)."""
    from jinja2 import defaults

    defaults.DEFAULT_POLICIES["json.dumps_function"] = dumps  # environments made later
    for env in environments():
        env.policies["json.dumps_function"] = dumps
        tojs = env.filters.get("tojavascript")
        if tojs is not None and not hasattr(tojs, "__wrapped__"):
            env.filters["tojavascript"] = _inert_tojavascript(tojs)


def installed() -> bool:
    """Whether :func:`install` is in force on every environment of :func:`environments`."""
    return all(
        env.policies.get("json.dumps_function") is dumps
        and ("tojavascript" not in env.filters or hasattr(env.filters["tojavascript"], "__wrapped__"))
        for env in environments()
    )
