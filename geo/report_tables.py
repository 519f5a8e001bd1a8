"""The Data page's tables and texts: what is loaded, the validation report, the reconciliation, records outside.

Each function takes the translator ``_`` (:class:`geo.i18n.Translator`) and returns a frame or text ready
to show; the page only lays them out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import figures
from geo.i18n import md_escape
from geo.report import Report
from geo.schema import COUNT_KEYS, EXTRA_COUNT_KEYS, INPUTS

#: At most this many messages of one problem code are written out as text; the table has them all.
MESSAGES_SHOWN = 10

#: The columns shown for a record outside every section: its id and date column, and its category's vocabulary.
OUTSIDE_COLUMNS = {
    "incidents": ("incident_id", "occurred_at", "incident_category"),
    "concerns": ("concern_id", "raised_on", "concern_category"),
}


def loaded_table(data, paths: dict, _, counted: bool) -> pd.DataFrame:
    """One row per input: its file's name ("–" when none) and, when ``counted``, the records used.

    ``counted`` is false in public mode: a count of every record would be a total with the small counts in it.
    """
    rows = []
    for name in INPUTS:
        frame = data.sections if name == "sections" else getattr(data, name)
        row = {_("Input"): _.input(name), _("File"): Path(paths[name]).name if name in paths else "–"}
        if counted:
            row[_("Records used")] = _.number(len(frame))
        rows.append(row)
    return pd.DataFrame(rows)


def problems_table(rep: Report, _) -> pd.DataFrame:
    """The report's problems with translated explanations, one a row."""
    rows = []
    for p in rep.problems:
        rows.append(  # where and what first: at 1280 px the explanation is on screen
            {
                _("Severity"): _.severity(p.severity),
                _("Input"): _.input(p.input),
                _("Row"): _row_text(p.row),  # as text here: a column of numbers and blanks would turn 3 into 3.0
                _("Field"): p.field or "",
                _("Explanation"): _.problem(p.code),
                _("Value"): "" if p.value is None else str(p.value),
                _("Expected"): p.expected or "",
                _("Details"): p.message,
                _("File"): p.file,
                _("Code"): p.code,
            }
        )
    return pd.DataFrame(rows)


def _row_text(row) -> str:
    """A problem's row as the table shows it: the whole number, or a blank for a whole-file problem."""
    if row is None or pd.isna(row):
        return ""
    return str(int(row)) if float(row).is_integer() else str(row)


def counts_table(rep: Report, _) -> pd.DataFrame:
    """Reconciliation per input: loaded = the outcomes, and whether it adds up."""
    rows = []
    for name in INPUTS:
        if name not in rep.counts:
            continue
        c = rep.counts[name]
        row = {_("Input"): _.input(name)}
        for key in COUNT_KEYS[name] + EXTRA_COUNT_KEYS.get(name, ()):
            row[_.count(key)] = c.get(key)
        row[_("Adds up")] = "✓" if rep.reconciles(name) else "✗"
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    first, last = _("Input"), _("Adds up")
    numbers = [c for c in frame.columns if c not in (first, last)]
    for col in numbers:
        frame[col] = frame[col].astype("Int64")
    return frame[[first, *numbers, last]]


def shown_counts(frame: pd.DataFrame, _) -> pd.DataFrame:
    """The counts table as text: local digit grouping, blank where a count does not apply."""
    out = frame.copy()
    for col in out.columns[1:-1]:
        out[col] = [_.number(v) if pd.notna(v) else "" for v in out[col]]
    return out


def outcome_text(rep: Report, _) -> str:
    """What happened to the records, exactly: every one used, or how many were not."""
    rejected = sum(c.get("rejected", 0) for c in rep.counts.values())
    if not rep.counts:
        return _("No records were loaded.")
    if rejected == 0:
        return _("Every record was used.")
    return _("Records not used (rejected): {n}; the problems below say which and why.", n=_.number(rejected))


def problem_messages(rep: Report, _) -> list[str]:
    """The problems as Markdown, one block per problem code (errors first), each with at most
    :data:`MESSAGES_SHOWN` messages and how many more the table holds."""
    groups: dict[str, list] = {}
    for p in sorted(rep.problems, key=lambda p: p.severity != "error"):
        groups.setdefault(p.code, []).append(p)
    blocks = []
    for code, probs in groups.items():
        head = f"**{_.severity(probs[0].severity)} · {md_escape(_.problem(code))}** (`{code}`, {_.number(len(probs))})"
        lines = [f"- {md_escape(p.message)}" for p in probs[:MESSAGES_SHOWN]]
        if len(probs) > MESSAGES_SHOWN:
            lines.append(f"- {_('… and {n} more in the table below.', n=_.number(len(probs) - MESSAGES_SHOWN))}")
        blocks.append(head + "\n\n" + "\n".join(lines))
    return blocks


def outside_table(frame: pd.DataFrame, input: str, _) -> pd.DataFrame:
    """The incidents or concerns of ``frame`` outside every section, one a row (empty when there are none)."""
    out = figures.outside_records(frame)
    if out.empty:
        return pd.DataFrame()
    id_col, date_col, vocab = OUTSIDE_COLUMNS[input]
    return pd.DataFrame(
        {
            _("Record"): out[id_col].astype(str),
            _("Date"): [_.date(d) for d in out[date_col]],
            _("Category"): [_.term(vocab, c) for c in out["category"]],
            _("Longitude"): out["lon"],
            _("Latitude"): out["lat"],
            _("Row"): out["row"],
        }
    )
