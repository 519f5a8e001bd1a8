"""Input files whose every text field carries a Jinja2 payload, for the template-injection tests.

folium and branca render templates twice, so data text that reaches a map could be evaluated as Jinja
source. :func:`write_payload_inputs` writes the six inputs (five sections in Prishtinë, incidents, concerns,
committees, meetings, surveys) with a different payload in every text field: expressions, blocks,
comments, lone delimiters, an unclosed expression, a bare ``{`` and one that would create a folder named by
the environment variable :data:`MARKER_ENV` if it ever ran. :func:`inert_findings` checks an output.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

#: Set to a path that must never be created: :data:`RUN` would create it if evaluated.
MARKER_ENV = "CP_TEMPLATE_MARKER"
#: Evaluated, gives "Sum 49".
EVAL = "Sum {{7*7}}"
#: Evaluated, gives "blockran" alone.
BLOCK = "{% if 1 %}blockran{% endif %}"
#: Evaluated, runs ``os.makedirs($CP_TEMPLATE_MARKER)`` (no quotes: they would be escaped by JSON on the way).
RUN = (
    "{{ cycler.__init__.__globals__.os.makedirs("
    "cycler.__init__.__globals__.os.environ.CP_TEMPLATE_MARKER, exist_ok=True) }}"
)
#: Each breaks a template with ``TemplateSyntaxError`` (or is harmless) if it is ever template source.
UNCLOSED = "Lagjja {{ e Re"
COMMENT = "Komenti {# pa mbyllje"
OPEN = "{{"
CLOSE = "}}"
BRACE = "{"

#: The sections: id, name, station, officers, villages. Ids are payloads too (they reach the map's script).
SECTIONS = [
    ("A{{7*7}}", EVAL, "Stacioni {{8*8}}", "Oficeri {{9*9}} (+383 49 000 001)", "Fshati {% if 1 %}vblock{% endif %}"),
    ("B{%raw%}", BLOCK, "Stacioni {#", "Oficerja {%", "Fshati }}"),
    ("C{#", UNCLOSED, OPEN, "{{ officer", "{# village"),
    ("D}}", RUN, CLOSE, BRACE, "Fshati {"),
    ("E{", BRACE, "Stacioni {% endif %}", "Oficeri }}{{", "Fshati {{ 'a' }}"),
]
#: Texts that must appear literally somewhere in a map (the section names, in labels and tooltips).
NAMES = [s[1] for s in SECTIONS]
#: What an evaluated payload would leave behind instead of its own text.
EVALUATED = ["Sum 49", "Stacioni 64", "Oficeri 81"]


def _square(i: int) -> list:
    x, y = 21.10 + 0.02 * (i % 3), 42.62 + 0.02 * (i // 3)
    return [[[x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]]


def centre(i: int) -> tuple[float, float]:
    """``(lat, lon)`` of section ``i``'s centre."""
    return 42.63 + 0.02 * (i // 3), 21.11 + 0.02 * (i % 3)


def write_payload_inputs(directory: Path) -> dict[str, Path]:
    """Write the six inputs and ``options.json`` into ``directory``; return the input paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    feats = [
        {
            "type": "Feature",
            "properties": {
                "section_id": sid,
                "section_name": name,
                "municipality": "Prishtinë",
                "station": station,
                "population": 4000 + 1000 * i,
                "officers": officers,
                "officers_public": i % 2 == 0,
                "villages": villages,
            },
            "geometry": {"type": "Polygon", "coordinates": _square(i)},
        }
        for i, (sid, name, station, officers, villages) in enumerate(SECTIONS)
    ]
    paths = {"sections": directory / "sections.geojson"}
    paths["sections"].write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")

    rows = ["incident_id,occurred_at,category,lat,lon,section_id"]
    n = 0
    for i in range(len(SECTIONS)):
        lat, lon = centre(i)
        for day in range(1, 4 + 3 * i):
            n += 1
            rows.append(f"I{{{{{n}}}}}-{n},2024-03-{day:02d} 10:00,theft,{lat},{lon},")
            rows.append(f"J{{%{n}%}}-{n},2024-02-{day:02d} 10:00,burglary,{lat},{lon},")
    rows.append(f"K{{#-1,2024-03-05 09:00,accident_injury,,,{SECTIONS[0][0]}")
    paths["incidents"] = directory / "incidents.csv"
    paths["incidents"].write_text("\n".join(rows) + "\n", encoding="utf-8")

    def csv(name: str, header: list[str], records: list[list[object]]) -> None:
        import pandas as pd

        paths[name] = directory / f"{name}.csv"
        pd.DataFrame(records, columns=header).to_csv(paths[name], index=False)

    lat0, lon0 = centre(0)
    csv(
        "concerns",
        ["concern_id", "raised_on", "category", "description", "description_public", "source", "meeting_id",
         "status", "resolved_on", "action_taken", "lat", "lon", "section_id"],
        [
            ["Q{{7*7}}", "2024-03-04", "theft", "Përshkrimi {{6*6}}", "yes", "lcps_meeting", "M{#", "open", "",
             "Veprimi {% if 1 %}ablock{% endif %}", lat0, lon0, ""],
            ["R{%", "2024-03-06", "road_safety", RUN, "yes", "lcps_meeting", "M{#", "resolved", "2024-03-20",
             "Veprimi {{", "", "", SECTIONS[1][0]],
            ["S}}", "2024-02-10", "drugs", "Përshkrimi {#", "no", "walk_in", "", "in_progress", "", "{",
             "", "", SECTIONS[2][0]],
        ],
    )  # fmt: skip
    csv(
        "committees",
        ["committee_id", "type", "name", "municipality", "sections", "established_on", "active", "members"],
        [
            ["C{{7*7}}", "LCPS", "Komiteti {{5*5}}", "Prishtinë", f"{SECTIONS[0][0]}|{SECTIONS[1][0]}", "2023-01-10",
             "yes", 9],
            ["C{%", "ACPS", RUN, "Prishtinë", SECTIONS[3][0], "2023-05-01", "yes", 5],
            ["C}}", "MCPS", "Komiteti {#", "Prishtinë", "", "2022-06-01", "yes", 15],
        ],
    )  # fmt: skip
    csv(
        "meetings",
        ["meeting_id", "committee_id", "held_on", "attendance", "concerns_raised"],
        [["M{#", "C{{7*7}}", "2024-03-04", 14, 2], ["M{{1}}", "C{%", "2024-02-20", 8, 0]],
    )
    csv(
        "surveys",
        ["area", "period", "trust_pct", "satisfaction_pct", "respondents"],
        [["Prishtinë", "2024", 61.5, 55.0, 400], ["Prishtinë {{3*3}}", "2024", 50.0, 50.0, 100]],
    )
    (directory / "options.json").write_text(
        json.dumps({"files": {k: p.name for k, p in paths.items()}, "options": {}}), encoding="utf-8"
    )
    return paths


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def decoded(text: str) -> str:
    """``text`` with JSON ``\\uXXXX`` escapes and HTML entities decoded (repeatedly: HTML inside JSON)."""
    for _ in range(4):
        before = text
        text = html.unescape(_UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
        if text == before:
            break
    return text


def inert_findings(text: str, where: str, names: bool = True) -> list[str]:
    """What shows that a payload was evaluated in ``text`` (an output, decoded first); with ``names``, also each
    section name that does not appear literally."""
    shown = decoded(text)
    found = [f"{where}: {e!r} (an evaluated payload)" for e in EVALUATED if e in shown]
    if re.search(r"(?<!\})blockran", shown):  # inside the literal it follows "%}" (escaped or not)
        found.append(f"{where}: 'blockran' outside its literal block (the block ran)")
    if names:
        found += [f"{where}: {n!r} is not shown literally" for n in NAMES if n not in shown]
    return found
