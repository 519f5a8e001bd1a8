"""A meeting's minutes: committee, date, attendance, concerns raised, actions agreed with their owners and due
dates, and status changes; as PDF (one A4 page when it fits) and HTML, in Albanian, Serbian or English.

:func:`minutes_content` takes what :func:`geo.meetings.meeting_records` gives (any object with its attributes)
and makes every line of text; :func:`to_pdf` and :func:`to_html` lay them out. Every text is data, never a
template: the HTML escapes it (:func:`geo.untrusted.html_text`), the PDF prints it as it is.

**PUBLIC** minutes (a :class:`geo.public.PublicPolicy`) leave out concerns of sensitive categories, their actions
and their status changes, and do not count them; a description is printed only when it was marked public; the
attendance's breakdown by gender and community is perturbed (each group one cell, keyed by the meeting and the
group: :meth:`geo.public.PublicPolicy.attendance`) and a group below the threshold shows as "fewer than N".
**RESTRICTED** minutes print everything recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo import i18n
from geo.brief import _new_pdf
from geo.exports import MARK_PUBLIC, MARK_RESTRICTED
from geo.i18n import N_
from geo.public import PublicPolicy
from geo.schema import ATTENDANCE_GROUPS
from geo.untrusted import html_text

#: Who an action's owner is, as printed.
OWNER_TEXT = {"police": N_("Police"), "municipality": N_("Municipality"), "other": N_("Other")}
#: The attendance groups, as printed.
GROUP_TEXT = {
    "women": N_("Women"),
    "men": N_("Men"),
    "albanian": N_("Albanian"),
    "serb": N_("Serb"),
    "turkish": N_("Turkish"),
    "bosniak": N_("Bosniak"),
    "roma": N_("Roma"),
    "ashkali": N_("Ashkali"),
    "egyptian": N_("Egyptian"),
    "gorani": N_("Gorani"),
    "montenegrin": N_("Montenegrin"),
    "croat": N_("Croat"),
    "other_community": N_("Other communities"),
}


@dataclass
class Minutes:
    """The minutes of one meeting, translated and formatted as text."""

    lang: str
    marking: str  # PUBLIC or RESTRICTED
    marking_text: str
    public: bool
    title: str
    committee_line: str
    date_line: str
    attendance: list[tuple[str, str]]  # label, count as printed
    concerns: list[tuple[str, str, str, str]]  # number, category, section, description
    actions: list[tuple[str, str, str, str, str]]  # concern, what, owner, due, done
    status_changes: list[tuple[str, str, str, str]]  # concern, change, date, action taken
    notices: list[str] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)
    footer: str = ""


def _day(_, value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return _.date(pd.Timestamp(value).date())


def _text(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def minutes_content(
    records, lang: str = "en", policy: PublicPolicy | None = None, sections: pd.DataFrame | None = None
) -> Minutes:
    """The minutes of ``records`` (:class:`geo.meetings.MeetingRecords`) in ``lang``; public with ``policy``
    (which then needs the deployment's secret). ``sections``: to print section names instead of ids."""
    _ = i18n.translator(lang)
    public = policy is not None
    if public:
        policy.require_secret()
    meeting, committee = records.meeting, records.committee or {}
    sensitive = set(policy.sensitive_concerns) if public else set()
    names = {}
    if sections is not None and len(sections):
        names = dict(zip(sections["section_id"].astype(str), sections["section_name"].astype(str), strict=True))

    raised = records.concerns
    others = getattr(records, "referenced", pd.DataFrame())
    every = pd.concat([raised, others], ignore_index=True) if len(others) else raised
    shown = every[~every["category"].astype(str).isin(sensitive)] if len(every) else every
    withheld = set(every["concern_id"]) - set(shown["concern_id"]) if len(every) else set()
    kept_raised = raised[~raised["concern_id"].isin(withheld)] if len(raised) else raised
    number = {cid: str(i) for i, cid in enumerate(kept_raised["concern_id"], 1)}
    for cid in shown["concern_id"]:  # concerns of earlier meetings: numbered after this meeting's own
        number.setdefault(cid, str(len(number) + 1))
    public_text = dict(zip(shown["concern_id"], shown["description_public"].fillna(False).astype(bool), strict=True))

    def description(row) -> str:
        if public and not public_text.get(row.concern_id, False):
            return _("(not public)")
        return _text(row.description)

    concerns = [
        (
            number[r.concern_id],
            _.term("concern_category", r.category),
            names.get(_text(r.section_id), _text(r.section_id)) or "–",
            description(r),
        )
        for r in kept_raised.itertuples(index=False)
    ]
    actions = [
        (
            number.get(r.concern_id, "–"),
            _text(r.what),
            _(OWNER_TEXT.get(_text(r.owner), _text(r.owner))),
            _day(_, r.due_on),
            _day(_, r.done_on),
        )
        for r in records.actions.itertuples(index=False)
        if r.concern_id not in withheld
    ]
    changes = []
    for r in records.status_changes.itertuples(index=False):
        if r.record_kind != "concern" or r.record_id in withheld or r.record_id not in number:
            continue
        before = _.term("concern_status", r.status_before) if r.status_before else "–"
        changes.append(
            (
                number[r.record_id],
                f"{before} → {_.term('concern_status', r.status)}",
                _day(_, r.resolved_on) if r.resolved_on else "–",
                _text(r.action_taken),
            )
        )

    attendance: list[tuple[str, str]] = []
    att = records.attendance
    total = att["total"] if att else meeting.get("attendance")
    attendance.append((_("People present"), _.number(int(total)) if total is not None else "–"))
    if att:
        groups = {g: int(att[g]) for g in ATTENDANCE_GROUPS if att.get(g) is not None}
        published = policy.attendance(str(meeting["meeting_id"]), groups) if public and groups else groups
        for g, n in published.items():
            attendance.append((_(GROUP_TEXT[g]), policy.show(n, _) if public else _.number(n)))

    kind = _text(committee.get("type"))
    committee_name = _text(committee.get("name")) or _text(meeting.get("committee_id"))
    marking = MARK_PUBLIC if public else MARK_RESTRICTED
    notices = []
    if public:
        notices.append(policy.note(_))
    if meeting.get("closed_at") is None:
        notices.append(_("Draft: the meeting is not closed yet."))
    headings = {
        "attendance": _("Attendance"),
        "concerns": _("Concerns raised"),
        "actions": _("Actions agreed"),
        "changes": _("Status changes"),
        "number": _("No."),
        "category": _("Category"),
        "section": _("Section"),
        "description": _("Description"),
        "concern": _("Concern"),
        "what": _("Action"),
        "owner": _("Responsible"),
        "due": _("Due"),
        "done": _("Done"),
        "change": _("Change"),
        "date": _("Date"),
        "taken": _("Action taken"),
        "group": _("Group"),
        "count": _("Count"),
        "none": _("None recorded."),
    }
    return Minutes(
        lang=lang,
        marking=marking,
        marking_text=_.marking(marking),
        public=public,
        title=_("Minutes of the meeting"),
        committee_line=f"{_.committee_abbr(kind)} · {committee_name}" if kind else committee_name,
        date_line=_("Held on {date}", date=_day(_, meeting.get("held_on"))),
        attendance=attendance,
        concerns=concerns,
        actions=actions,
        status_changes=changes,
        notices=notices,
        headings=headings,
        footer=_("Recorded in the community-policing dashboard. Marking: {marking}.", marking=_.marking(marking)),
    )


# ---------------------------------------------------------------- layout


def _parts(m: Minutes) -> list[tuple[str, list[str], list[tuple], list[float]]]:
    h = m.headings
    return [
        (h["attendance"], [h["group"], h["count"]], m.attendance, [3, 1]),
        (h["concerns"], [h["number"], h["category"], h["section"], h["description"]], m.concerns, [0.5, 1.6, 1.4, 4]),
        (h["actions"], [h["concern"], h["what"], h["owner"], h["due"], h["done"]], m.actions, [1.1, 3.4, 1.3, 1, 1]),
        (h["changes"], [h["concern"], h["change"], h["date"], h["taken"]], m.status_changes, [1.1, 2.3, 1.1, 3.0]),
    ]


def to_pdf(m: Minutes) -> bytes:
    """The minutes as an A4 PDF: one page when they fit, more when they do not (DejaVu Sans: ë, ç, č, ć, đ)."""
    pdf = _new_pdf()
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_text_color(*((33, 102, 172) if m.public else (178, 24, 43)))
    pdf.cell(width, 6, m.marking_text, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 8, m.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5, m.committee_line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 5, m.date_line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for notice in m.notices:
        pdf.multi_cell(width, 4, notice, new_x="LMARGIN", new_y="NEXT")
    for title, header, rows, weights in _parts(m):
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(width, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8.5)
        if not rows:
            pdf.cell(width, 5, m.headings["none"], new_x="LMARGIN", new_y="NEXT")
            continue
        total = sum(weights)
        widths = tuple(width * w / total for w in weights)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.2, first_row_as_headings=True) as table:
            table.row(list(header))
            for row in rows:
                table.row([str(c) for c in row])
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 7)
    pdf.multi_cell(width, 3.5, m.footer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def to_html(m: Minutes) -> str:
    """The minutes as a standalone, printable HTML page (every text escaped)."""
    e = html_text

    def table(header, rows) -> str:
        if not rows:
            return f"<p class='empty'>{e(m.headings['none'])}</p>"
        head = "".join(f"<th>{e(c)}</th>" for c in header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    blocks = "\n".join(f"<h2>{e(title)}</h2>{table(header, rows)}" for title, header, rows, _w in _parts(m))
    notices = "".join(f"<p class='notice'>{e(n)}</p>" for n in m.notices)
    colour = "#2166ac" if m.public else "#b2182b"
    return f"""<!doctype html>
<html lang="{e(m.lang)}"><head><meta charset="utf-8"><title>{e(m.title)}</title>
<style>
@page {{ size: A4; margin: 10mm 12mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; max-width: 186mm; margin: auto; }}
.marking {{ text-align: right; font-weight: bold; color: {colour}; }}
h1 {{ font-size: 16pt; margin: 2px 0; }} h2 {{ font-size: 11pt; margin: 10px 0 3px; }}
.notice {{ background: #ebf2fa; padding: 3px 6px; font-size: 9pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }}
th {{ background: #e6e6e6; text-align: left; }} td, th {{ padding: 2px 4px; border-bottom: 1px solid #ccc; }}
footer {{ margin-top: 10px; font-size: 8pt; color: #555; }}
</style></head><body>
<div class="marking">{e(m.marking_text)}</div>
<h1>{e(m.title)}</h1><p>{e(m.committee_line)}<br>{e(m.date_line)}</p>{notices}
{blocks}
<footer>{e(m.footer)}</footer>
</body></html>
"""


def write(m: Minutes, out: Path) -> Path:
    """Write the minutes as PDF or HTML, by ``out``'s suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        out.write_bytes(to_pdf(m))
    elif suffix in (".html", ".htm"):
        out.write_text(to_html(m), encoding="utf-8")
    else:
        raise ValueError(f"the minutes are written as .pdf or .html, not {out.name!r}")
    return out
