"""Meeting: record a committee's meeting as it happens — attendance, concerns raised, actions agreed, status
changes — and get its minutes.

Every save goes through :mod:`geo.meetings` (one transaction each; "saved" is said only after it returned).
Nothing is lost:

* each form's **idempotency key** lives in the page's URL query (``k_<form>``) and is made anew only after a
  successful save, so a double click, a retry or a browser refresh replays the first save instead of recording
  twice (a second press with the very values just saved reuses the key that saved them);
* what is typed and not saved is a **draft on the server** (:func:`geo.meetings.save_draft`): single-line
  fields as the user types, descriptions when the user leaves the field; restored in a new session;
* each form is an ``st.fragment``: typing reruns the form only. A fragment rerun skips the top of the script,
  so each form first asks :func:`views.gate.fresh_visitor` again (role, disabled user, idle timeout) and checks
  the committee against the user's assignment, which may have changed since.

Meetings are recorded in the deployment's database. When the dashboard shows the demo from its shipped files
(the embedded default before anything was written), recording starts by importing the demo into the embedded
database once (:func:`import_shown`): the database is the source of every page from then on, still marked as
the demo, so a recorded concern appears everywhere.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit_folium import st_folium

from geo import db, dbimport, i18n, maps, minutes, store
from geo import meetings as mt
from geo.access import Access
from geo.i18n import N_, md_escape
from geo.public import PublicPolicy
from geo.schema import ATTENDANCE_GROUPS
from geo.source import DatabaseSource, FileSource
from views import cache, common, gate
from views.context import Context

#: The widgets' session keys start with this (kept across pages by dashboard.py); buttons' with ``mtb_`` (a
#: button's value cannot be kept that way).
PREFIX = "mt_"
#: Translations of the data layer's messages (English, ``geo.meetings.Invalid.errors``), by their start.
MESSAGES = (
    ("is empty", N_("Required.")),
    ("is in the future", N_("Is in the future.")),
    ("is before 1990", N_("Is before 1990.")),
    ("is not a date", N_("Not a date.")),
    ("is not a known section", N_("Not a known section.")),
    ("is in no section", N_("The point is in no section.")),
    ("is not the section of the point", N_("The point is in another section.")),
    ("is not a point", N_("Not a point: longitude and latitude in degrees.")),
    ("is not a concern category", N_("Not a concern category.")),
    ("is longer than", N_("Too long.")),
    ("is not a whole number", N_("Not a whole number of 0 or more.")),
    ("is more than the total", N_("More than the total.")),
    ("is closed", N_("The meeting is closed.")),
    ("is not a meeting in force", N_("The meeting is not in force.")),
    ("is already", N_("Already so.")),
    ("is before the concern was raised", N_("Before the concern was raised.")),
    ("is not a known committee", N_("Not a known committee.")),
)
#: The history's changes, as shown.
CHANGES = {
    "created": N_("created"),
    "updated": N_("edited"),
    "status": N_("status changed"),
    "closed": N_("closed"),
    "retracted": N_("retracted"),
    "redacted": N_("redacted"),
}
#: Fields of the records, as the history names them.
FIELD_NAMES = {
    "category": N_("Category"),
    "description": N_("Description"),
    "description_public": N_("Public"),
    "section_id": N_("Section"),
    "point": N_("Point"),
    "status": N_("Status"),
    "action_taken": N_("Action taken"),
    "resolved_on": N_("Resolved on"),
    "raised_on": N_("Raised on"),
    "meeting_id": N_("Meeting"),
    "at_meeting": N_("At the meeting"),
    "retracted": N_("Reason for retracting"),
    "what": N_("Action"),
    "owner": N_("Responsible"),
    "due_on": N_("Due"),
    "done_on": N_("Done on"),
    "held_on": N_("Held on"),
    "closed_at": N_("Closed"),
    "total": N_("People present"),
}
DAY_FIELDS = frozenset({"resolved_on", "raised_on", "due_on", "done_on", "held_on"})
#: Bookkeeping columns, not shown in the history.
HIDDEN_FIELDS = frozenset({"concern_id", "action_id", "committee_id", "source", "rid", "lon", "lat"})


def may_record(a: Access) -> bool:
    return a.meeting


def committees_for(who: gate.Visitor) -> frozenset[str] | None:
    """The committees ``who`` may record for (``None``: every committee). A secretary (without a commander's
    or analyst's role) records only for the committees assigned to them."""
    if who.access.unsigned:
        return None
    if not who.access.public_mode and who.access.roles & {"commander", "analyst"}:
        return None
    return frozenset(who.user.committees) if who.user is not None else frozenset()


def message(_: i18n.Translator, text: str) -> str:
    """A field error of the data layer in the session's language (as it is, escaped, when not known)."""
    for start, translated in MESSAGES:
        if text.startswith(start):
            return _(translated)
    return md_escape(text)


# ---------------------------------------------------------------- the deployment's data


def import_shown(eng, source: FileSource) -> dbimport.Outcome:
    """Import the files ``source`` shows (the demo) into the embedded database, once: only into a database
    holding no data yet (:class:`geo.dbimport.ImportRefused` otherwise). The demo stays marked as the demo."""
    if not db.ready(eng):
        db.upgrade(eng)
    return dbimport.run(eng, dict(source.paths), source.options, only_if_empty=True)


def database_ready(ctx: Context, eng) -> None:
    """Stop the page, saying why, unless what the other pages show is the deployment's database (offering to
    import the demo into the embedded database when the demo's files are shown)."""
    _ = ctx._
    if isinstance(ctx.source, DatabaseSource):
        return
    if "source" in st.session_state:  # files uploaded in this session (Data page)
        st.info(
            _(
                "This session shows files uploaded on the Data page. Meetings are recorded in the deployment's "
                "database: choose the deployment's data on the Data page to record one."
            )
        )
        st.stop()
    if ctx.settings.database_url or not (isinstance(ctx.source, FileSource) and ctx.source.is_demo):
        st.error(
            _(
                "Meetings are recorded in the deployment's database, which is not what the dashboard shows now "
                "(see the notice above). Import the deployment's data on the server: `python -m geo db import`."
            )
        )
        st.stop()
    st.info(
        _(
            "The dashboard shows the demo data from its files. To record meetings, the demo is first imported "
            "into this computer's database, once (it takes about a quarter of a minute); from then on every page "
            "shows the database — still marked as the demo — with what you record."
        )
    )
    if not ctx.who.access.uploads:  # importing is an analyst's (or this computer's) to do
        st.warning(_("Ask an analyst to import the demo: imports are for analysts."))
        st.stop()
    if st.button(_("Import the demo and start recording"), key="mtb_import", type="primary"):
        try:
            ctx.who.record("import", {"files": {k: str(v) for k, v in ctx.source.paths.items()}, "via": "meeting"})
        except gate.Refused as exc:
            gate.refused(_, exc)
        with st.spinner(_("Importing the demo into the database…")):
            try:
                outcome = import_shown(eng, ctx.source)
            except dbimport.ImportRefused:
                outcome = None  # imported meanwhile by another session
        if outcome is not None and not outcome.ok:
            st.error(_("The demo could not be imported; nothing was changed."))
            st.stop()
        st.rerun()
    st.stop()


# ---------------------------------------------------------------- keys, drafts, messages


def form_key(form: str) -> str:
    """The form's idempotency key, kept in the URL query (made when there is none)."""
    name = f"k_{form}"
    key = st.query_params.get(name, "")
    if not (isinstance(key, str) and len(key) == 32 and all(c in "0123456789abcdef" for c in key)):
        key = mt.new_key()
        st.query_params[name] = key
    return key


def digest(values: dict) -> str:
    return json.dumps({k: mt._plain(v) for k, v in values.items()}, sort_keys=True, default=str)


def widget(form: str, field: str) -> str:
    """The session key of a form's field (a new one after each save, so the form starts empty)."""
    return f"{PREFIX}{form}_{st.session_state.get(f'{PREFIX}gen_{form}', 0)}_{field}"


def draft_name(form: str, meeting_id: str) -> str:
    return f"{form}:{meeting_id}"


def keep_draft(eng, actor: str, form: str, meeting_id: str, fields: tuple[str, ...]) -> None:
    """A widget's callback: the form's fields as typed, kept on the server."""
    values = {f: st.session_state.get(widget(form, f)) for f in fields}
    try:
        mt.save_draft(eng, actor, draft_name(form, meeting_id), values)
    except sa.exc.SQLAlchemyError:
        st.session_state[f"{PREFIX}draft_failed_{form}"] = True
    else:
        st.session_state.pop(f"{PREFIX}draft_failed_{form}", None)


def restore(_: i18n.Translator, eng, actor: str, form: str, meeting_id: str, types: dict[str, type]) -> None:
    """Fill the form's fields from its draft, once per session (a refresh, another browser, a restart)."""
    flag = f"{PREFIX}restored_{form}_{meeting_id}"
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    draft = mt.load_draft(eng, actor, draft_name(form, meeting_id)) or {}
    if draft.get("_saved"):
        if draft["_saved"] == st.query_params.get(f"k_{form}"):  # saved, but the page never heard: a new key
            st.query_params[f"k_{form}"] = mt.new_key()
            st.success(_("Your last entry in this form had been saved."))
        return
    for field, kind in types.items():
        value = draft.get(field)
        if value is None:
            continue
        if kind is dt.date:
            value = dt.date.fromisoformat(str(value)[:10])
        elif kind is bool:
            value = bool(value)
        elif kind is int:
            value = int(value)
        st.session_state[widget(form, field)] = value


def note(form: str, kind: str, text: str) -> None:
    st.session_state[f"{PREFIX}note_{form}"] = (kind, text)


def show_note(_: i18n.Translator, form: str) -> None:
    found = st.session_state.pop(f"{PREFIX}note_{form}", None)
    if found is None:
        return
    kind, text = found
    if kind == "success":
        st.success(text)
    else:
        st.warning(text)


def errors_of(form: str) -> dict[str, str]:
    return st.session_state.get(f"{PREFIX}errors_{form}", {})


def field_error(_: i18n.Translator, form: str, *fields: str) -> None:
    """The data layer's error of a field, right below it."""
    for field in fields:
        text = errors_of(form).get(field)
        if text:
            st.markdown(f":red[{message(_, text)}]")


def unsaved(_: i18n.Translator, form: str) -> None:
    if st.session_state.get(f"{PREFIX}draft_failed_{form}"):
        st.caption(_("Not saved, and the draft could not be kept on the server: save soon."))
    else:
        st.caption(_("Not saved until you press the button; what you type is kept on the server as a draft."))


def save(eng, actor: str, form: str, meeting_id: str, values: dict, call) -> mt.Saved | None:
    """Run ``call(key)`` (one save of :mod:`geo.meetings`) under the form's key; on success the form starts
    anew with a new key. Field errors and conflicts are kept for the form to show; ``None`` then."""
    seen = digest({**values, "_form": draft_name(form, meeting_id)})
    last = st.session_state.get(f"{PREFIX}last_{form}")
    key = last[0] if last and last[1] == seen else form_key(form)  # a second press of the same values replays
    st.session_state.pop(f"{PREFIX}errors_{form}", None)
    try:
        try:
            saved = call(key)
        except mt.KeyReused:  # the URL's key was used by another record (a URL copied from elsewhere):
            key = mt.new_key()  # what is on screen was never saved under it
            saved = call(key)
    except mt.Invalid as exc:
        st.session_state[f"{PREFIX}errors_{form}"] = exc.errors
        return None
    st.session_state[f"{PREFIX}last_{form}"] = (key, seen)
    try:
        mt.save_draft(eng, actor, draft_name(form, meeting_id), {"_saved": key})
    except sa.exc.SQLAlchemyError:
        pass  # the record is saved; only a stale draft may come back
    st.query_params[f"k_{form}"] = mt.new_key()
    st.session_state[f"{PREFIX}gen_{form}"] = st.session_state.get(f"{PREFIX}gen_{form}", 0) + 1
    return saved


def rerun_form() -> None:
    """Draw the form again (the fragment alone when this is its own rerun, else the page)."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # a whole run (a test's, or the first): the page
        st.rerun()


def guard(ctx: Context, committee_id: str) -> gate.Visitor:
    """At the start of each form (also on a fragment's own rerun): the visitor may still record for this
    committee, else the form stops."""
    _ = ctx._
    fresh = gate.fresh_visitor(ctx.settings, ctx.who, may_record)
    if fresh is None:
        st.error(_("You may no longer record meetings (your role, your account or your session changed)."))
        st.stop()
    allowed = committees_for(fresh)
    if allowed is not None and committee_id not in allowed:
        st.error(_("You are no longer the secretary of this committee: nothing can be recorded for it."))
        st.stop()
    return fresh


# ---------------------------------------------------------------- reading


def committees(eng) -> pd.DataFrame:
    c = db.COMMITTEES
    with eng.connect() as conn:
        rows = conn.execute(sa.select(c.c.committee_id, c.c.type, c.c.name, c.c.municipality)).all()
    frame = pd.DataFrame(rows, columns=["committee_id", "type", "name", "municipality"])
    return frame.sort_values(["type", "name"], kind="stable").reset_index(drop=True)


def section_options(ctx: Context, committee: dict) -> dict[str, str]:
    """The sections offered for a concern: the committee's municipality's (every section when it has none)."""
    sections = ctx.data.sections
    muni = committee.get("municipality")
    mine = sections[sections["municipality"] == muni] if isinstance(muni, str) and muni else sections
    if mine.empty:
        mine = sections
    mine = mine.sort_values("section_name", kind="stable")
    return {str(s): f"{n} ({s})" for s, n in zip(mine["section_id"], mine["section_name"], strict=True)}


def concern_table(_: i18n.Translator, frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Concerns as shown (texts as they are: a dataframe prints them literally)."""
    return pd.DataFrame(
        {
            _("Raised on"): [_.date(d.date()) if pd.notna(d) else "–" for d in frame["raised_on"]],
            _("Category"): [_.term("concern_category", c) for c in frame["category"]],
            _("Section"): [names.get(str(s), str(s)) for s in frame["section_id"]],
            _("Description"): frame["description"].fillna("").astype(str),
            _("Public"): [_("yes") if p else _("no") for p in frame["description_public"].fillna(False)],
            _("Status"): [_.term("concern_status", s) for s in frame["status"]],
        }
    )


def action_table(_: i18n.Translator, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("Action"): frame["what"].fillna("").astype(str),
            _("Responsible"): [_(minutes.OWNER_TEXT.get(str(o), str(o))) for o in frame["owner"]],
            _("Due"): [_.date(d.date()) if pd.notna(d) else "–" for d in frame["due_on"]],
        }
    )


def section_names(ctx: Context) -> dict[str, str]:
    """Every loaded section's label, "name (id)", by its id."""
    sections = ctx.data.sections
    return {str(s): f"{n} ({s})" for s, n in zip(sections["section_id"], sections["section_name"], strict=True)}


def concern_label(_: i18n.Translator, row: dict, names: dict[str, str]) -> str:
    text = str(row.get("description") or "")
    short = text if len(text) <= 50 else text[:49] + "…"
    where = names.get(str(row.get("section_id")), str(row.get("section_id") or "–"))
    return f"{_.term('concern_category', row.get('category'))} · {where} · {short}"


# ---------------------------------------------------------------- the forms (fragments)


@st.fragment
def open_form(ctx: Context, eng, committee_id: str) -> None:
    _ = ctx._
    fresh = guard(ctx, committee_id)
    form = "open"
    form_key(form)  # in the URL from the start: a refresh keeps it
    st.subheader(_("Open a meeting"))
    st.session_state.setdefault(widget(form, "held_on"), mt.now_local().date())
    held = st.date_input(_("Held on"), key=widget(form, "held_on"), format="DD.MM.YYYY")
    field_error(_, form, "held_on", "committee_id", "meeting_id")
    if st.button(_("Open the meeting"), key="mtb_open", type="primary"):
        saved = save(
            eng,
            fresh.actor,
            form,
            committee_id,
            {"committee": committee_id, "held_on": held},
            lambda key: mt.open_meeting(eng, committee_id, held, actor=fresh.actor, key=key),
        )
        if saved is not None:
            st.query_params["meeting"] = saved.record_id
            st.session_state["mtp_meeting"] = saved.record_id  # chosen at the next run, before the widget
            st.rerun()
        rerun_form()


ATTENDANCE_FIELDS = ("total", *ATTENDANCE_GROUPS)


@st.fragment
def attendance_form(ctx: Context, eng, meeting: dict) -> None:
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "attendance", meeting["meeting_id"]
    form_key(form)  # in the URL from the start: a refresh keeps it
    stored = mt.get(eng, "attendance", mid)
    show_note(_, form)
    if stored is not None:
        st.caption(_("Saved: {n} people present.", n=_.number(stored["total"])))
    restore(_, eng, fresh.actor, form, mid, dict.fromkeys(ATTENDANCE_FIELDS, int))
    for f in ATTENDANCE_FIELDS:  # the saved values, until the user types others
        if stored is not None and widget(form, f) not in st.session_state:
            st.session_state[widget(form, f)] = stored.get(f)
    drafting = dict(on_change=keep_draft, args=(eng, fresh.actor, form, mid, ATTENDANCE_FIELDS))
    total = st.number_input(_("People present"), min_value=0, step=1, value=None, key=widget(form, "total"), **drafting)
    field_error(_, form, "total")
    groups: dict[str, int | None] = {}
    with st.expander(_("By gender and community (optional)")):
        cols = st.columns(4)
        for i, g in enumerate(ATTENDANCE_GROUPS):
            with cols[i % 4]:
                groups[g] = st.number_input(
                    _(minutes.GROUP_TEXT[g]), min_value=0, step=1, value=None, key=widget(form, g), **drafting
                )
                field_error(_, form, g)
    field_error(_, form, "meeting_id")
    if st.button(_("Save the attendance"), key="mtb_attendance", type="primary"):
        version = stored["version"] if stored is not None else None
        values = {"total": total, **groups}
        saved = save(
            eng,
            fresh.actor,
            form,
            mid,
            values,
            lambda key: mt.record_attendance(
                eng, mid, total, {g: n for g, n in groups.items() if n is not None}, version=version,
                actor=fresh.actor, key=key,
            ),
        )  # fmt: skip
        if saved is not None:
            note(form, "success", _("Saved: {n} people present.", n=_.number(total)))
        rerun_form()
    unsaved(_, form)


CONCERN_FIELDS = ("category", "where", "section_id", "lon", "lat", "description", "public", "raised_on")


@st.fragment
def concern_form(ctx: Context, eng, meeting: dict, names: dict[str, str]) -> None:
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "concern", meeting["meeting_id"]
    form_key(form)  # in the URL from the start: a refresh keeps it
    show_note(_, form)
    restore(
        _,
        eng,
        fresh.actor,
        form,
        mid,
        {"category": str, "where": str, "section_id": str, "lon": str, "lat": str, "description": str,
         "public": bool, "raised_on": dt.date},
    )  # fmt: skip
    drafting = dict(on_change=keep_draft, args=(eng, fresh.actor, form, mid, CONCERN_FIELDS))
    left, right = st.columns(2)
    with left:
        category = st.selectbox(
            _("Category"),
            list(mt.CATEGORIES),
            index=None,
            placeholder=_("Choose a category"),
            format_func=lambda c: _.term("concern_category", c),
            key=widget(form, "category"),
            **drafting,
        )
        field_error(_, form, "category")
        where = st.radio(
            _("Where"),
            ["section", "point"],
            format_func=lambda w: _("A section") if w == "section" else _("A point (longitude, latitude)"),
            horizontal=True,
            key=widget(form, "where"),
            **drafting,
        )
        section_id = lon = lat = None
        if where == "section":
            section_id = st.selectbox(
                _("Section"),
                list(names),
                index=None,
                placeholder=_("Choose a section"),
                format_func=lambda s: names.get(s, s),
                key=widget(form, "section_id"),
                **drafting,
            )
            section_map(ctx, form, names, section_id, (eng, fresh.actor, form, mid, CONCERN_FIELDS))
        else:
            a, b = st.columns(2)
            lon = a.text_input(_("Longitude"), key=widget(form, "lon"), live=True, placeholder="21.16", **drafting)
            lat = b.text_input(_("Latitude"), key=widget(form, "lat"), live=True, placeholder="42.66", **drafting)
        field_error(_, form, "section_id", "point")
    with right:
        description = st.text_area(_("Description"), key=widget(form, "description"), height=130, **drafting)
        field_error(_, form, "description")
        public = st.checkbox(_("The description may be shown in public"), key=widget(form, "public"), **drafting)
        st.session_state.setdefault(widget(form, "raised_on"), meeting["held_on"])
        raised = st.date_input(_("Raised on"), key=widget(form, "raised_on"), format="DD.MM.YYYY", **drafting)
        field_error(_, form, "raised_on")
    field_error(_, form, "meeting_id", "concern_id")
    if st.button(_("Save the concern"), key="mtb_concern", type="primary"):
        point = None
        if where == "point":
            try:
                point = (float(str(lon).replace(",", ".")), float(str(lat).replace(",", ".")))
            except ValueError:
                point = (lon, lat)  # the data layer names the field
        # the loaded sections are the database's in the restricted view: the point is joined without reading them
        known = ctx.data.sections if ctx.policy is None and isinstance(ctx.source, DatabaseSource) else None
        errors = {} if category else {"category": "is empty"}
        values = {"category": category, "section": section_id, "point": point, "description": description,
                  "public": public, "raised_on": raised}  # fmt: skip
        if errors:
            st.session_state[f"{PREFIX}errors_{form}"] = errors
            saved = None
        else:
            saved = save(
                eng,
                fresh.actor,
                form,
                mid,
                values,
                lambda key: mt.add_concern(
                    eng, mid, category, description, public, section_id=section_id if point is None else None,
                    point=point, raised_on=raised, actor=fresh.actor, key=key, sections=known,
                ),
            )  # fmt: skip
        if saved is not None:
            text = _("Saved: the concern.") if not saved.replayed else _("This concern had been saved already.")
            note(form, "success", text)
            st.rerun()  # the meeting's list of concerns, above, shows it
        rerun_form()
    unsaved(_, form)


#: The fill of the committee's sections on the concern form's map (the chosen one is outlined).
MAP_FILL = "#9ecae1"


def section_map(ctx: Context, form: str, names: dict[str, str], chosen: str | None, draft: tuple) -> None:
    """The committee's sections on a small map under the list: a click on one chooses it in the list (and
    keeps the draft, as choosing it there would). Nothing when the maps cannot be drawn."""
    if ctx.assets is None or not names:
        return
    geom = cache.geometry(ctx.data, cache.table_key(ctx.source, "sections")).only(list(names))
    if geom.sections.empty:
        return
    _ = ctx._
    sections = geom.sections
    tips = [
        maps.tip_html(str(n), _.municipality(str(m)), [])
        for n, m in zip(sections["section_name"], sections["municipality"], strict=True)
    ]
    fmap = maps.section_fill_map(
        geom, [MAP_FILL] * len(sections), tips, "", _, assets=ctx.assets, basemap=ctx.basemap,
        selected=chosen or "", labels=False,
    )  # fmt: skip
    key = widget(form, "map")
    st.caption(_("Or click the section on the map."))
    st_folium(
        fmap,
        key=key,
        height=260,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=lambda: clicked_section(key, form, names, draft),
    )


def clicked_section(key: str, form: str, names: dict[str, str], draft: tuple) -> None:
    """``st_folium``'s callback: the clicked section, if it is one of the list's, becomes the chosen one."""
    sid = common.clicked_section_id(key)
    if sid is not None and sid in names:
        st.session_state[widget(form, "section_id")] = str(sid)
        keep_draft(*draft)


@st.fragment
def action_form(ctx: Context, eng, meeting: dict, choices: dict[str, str]) -> None:
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "action", meeting["meeting_id"]
    form_key(form)  # in the URL from the start: a refresh keeps it
    show_note(_, form)
    if not choices:
        st.caption(_("Record a concern first: an action is agreed on a concern."))
        return
    restore(_, eng, fresh.actor, form, mid, {"concern": str, "what": str, "owner": str, "due_on": dt.date})
    drafting = dict(on_change=keep_draft, args=(eng, fresh.actor, form, mid, ("concern", "what", "owner", "due_on")))
    concern = st.selectbox(
        _("Concern"), list(choices), format_func=lambda c: choices.get(c, c), key=widget(form, "concern"), **drafting
    )
    field_error(_, form, "concern_id")
    what = st.text_input(_("Action"), key=widget(form, "what"), live=True, **drafting)
    field_error(_, form, "what")
    a, b = st.columns(2)
    with a:
        owner = st.selectbox(
            _("Responsible"),
            list(mt.OWNERS),
            format_func=lambda o: _(minutes.OWNER_TEXT.get(o, o)),
            key=widget(form, "owner"),
            **drafting,
        )
        field_error(_, form, "owner")
    with b:
        due = st.date_input(_("Due"), value=None, key=widget(form, "due_on"), format="DD.MM.YYYY", **drafting)
        field_error(_, form, "due_on")
    field_error(_, form, "meeting_id")
    if st.button(_("Save the action"), key="mtb_action", type="primary"):
        saved = save(
            eng,
            fresh.actor,
            form,
            mid,
            {"concern": concern, "what": what, "owner": owner, "due_on": due},
            lambda key: mt.add_action(
                eng, concern, what, owner, due_on=due, meeting_id=mid, actor=fresh.actor, key=key
            ),
        )
        if saved is not None:
            note(form, "success", _("Saved: the action."))
            st.rerun()
        rerun_form()
    unsaved(_, form)


@st.fragment
def done_form(ctx: Context, eng, meeting: dict, choices: dict[str, str]) -> None:
    """Mark an action done (reported at this meeting), or retract one agreed by mistake."""
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "done", meeting["meeting_id"]
    form_key(form)
    show_note(_, form)
    show_note(_, "retract_action")
    chosen = st.session_state.get(PREFIX + "done_action")
    if chosen and chosen not in choices and f"{PREFIX}done_base_{chosen}" in st.session_state:
        # done by someone else since it was chosen: kept on screen (not another action under the same click)
        found = mt.get(eng, "action", chosen)
        if found is not None and found.get("retracted") is None:
            choices = {chosen: str(found.get("what") or "–"), **choices}
    if not choices:
        st.caption(_("No action to mark done."))
        return
    action = st.selectbox(
        _("Action"), list(choices), format_func=lambda a: choices.get(a, a), key=PREFIX + "done_action"
    )
    current = mt.get(eng, "action", action)
    if current is None or current.get("retracted") is not None:
        st.warning(_("This action is no longer recorded."))
        return
    base_key = f"{PREFIX}done_base_{action}"
    if base_key not in st.session_state:  # the version the user started from
        st.session_state[base_key] = current["version"]
    other = st.session_state.get(f"{PREFIX}done_conflict_{action}")
    if other is not None:
        st.warning(
            _(
                "Someone else changed this action while you were looking at it. Their change: done on {day}. "
                "Press the button again to record yours.",
                day=_.date(other["done_on"]) if other.get("done_on") is not None else "–",
            )
        )
    st.session_state.setdefault(widget(form, f"done_on_{action}"), meeting["held_on"])
    done_on = st.date_input(_("Done on"), key=widget(form, f"done_on_{action}"), format="DD.MM.YYYY")
    field_error(_, form, "done_on")
    field_error(_, form, "meeting_id")
    if st.button(_("Mark the action done"), key="mtb_done", type="primary"):
        version = st.session_state[base_key]
        try:
            saved = save(
                eng,
                fresh.actor,
                form,
                f"{mid}:{action}",
                {"action": action, "done_on": done_on, "version": version},
                lambda key: mt.mark_action_done(
                    eng, action, done_on, version=version, meeting_id=mid, actor=fresh.actor, key=key
                ),
            )
        except mt.Conflict as exc:
            st.session_state[f"{PREFIX}done_conflict_{action}"] = exc.current
            st.session_state[base_key] = exc.current["version"] if exc.current else version
            rerun_form()
        if saved is not None:
            st.session_state.pop(f"{PREFIX}done_conflict_{action}", None)
            st.session_state.pop(base_key, None)
            note(form, "success", _("Saved: the action is done."))
            st.rerun()
        rerun_form()
    with st.expander(_("History of this action")):
        history_part(_, mt.history(eng, "action", action))
        retract_part(ctx, fresh, eng, "action", current, mid)
        if fresh.access.admin:
            redact_part(ctx, fresh, eng, "action", current)


@st.fragment
def status_form(ctx: Context, eng, meeting: dict, choices: dict[str, str]) -> None:
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "status", meeting["meeting_id"]
    form_key(form)  # in the URL from the start: a refresh keeps it
    show_note(_, form)
    show_note(_, "retract_concern")
    chosen = st.session_state.get(PREFIX + "status_concern")
    if chosen and chosen not in choices and f"{PREFIX}base_{chosen}" in st.session_state:
        # resolved by someone else since it was chosen: kept on screen, where the save shows their change,
        # instead of the click saving the next concern of the list
        found = mt.get(eng, "concern", chosen)
        if found is not None and found.get("retracted") is None:
            choices = {chosen: concern_label(_, found, section_names(ctx)), **choices}
    if not choices:
        st.caption(_("No open concern."))
        return
    concern = st.selectbox(
        _("Concern"), list(choices), format_func=lambda c: choices.get(c, c), key=PREFIX + "status_concern"
    )
    current = mt.get(eng, "concern", concern)
    if current is None:
        st.warning(_("This concern is no longer recorded."))
        return
    fields = (f"status_{concern}", f"taken_{concern}")
    restore(_, eng, fresh.actor, form, f"{mid}:{concern}", dict.fromkeys(fields, str))
    drafting = dict(on_change=keep_draft, args=(eng, fresh.actor, form, f"{mid}:{concern}", fields))
    base_key = f"{PREFIX}base_{concern}"
    if base_key not in st.session_state:  # the version the user started from
        st.session_state[base_key] = current["version"]
    st.caption(
        _("Now: {status}", status=_.term("concern_status", current["status"]))
        + (" · " + md_escape(current["action_taken"]) if current.get("action_taken") else "")
    )
    other = st.session_state.get(f"{PREFIX}conflict_{concern}")
    if other is not None:
        st.warning(
            _(
                "Someone else changed this concern while you were editing it. Their change: status {status}, "
                "action taken “{taken}”, description “{description}”. Your text is still below: check it and "
                "press Save again to record yours.",
                status=_.term("concern_status", other["status"]),
                taken=md_escape(other.get("action_taken") or "–"),
                description=md_escape(other.get("description") or "–"),
            )
        )
    following = min(mt.STATUSES.index(current["status"]) + 1, len(mt.STATUSES) - 1)
    st.session_state.setdefault(widget(form, f"status_{concern}"), mt.STATUSES[following])
    status = st.radio(
        _("New status"),
        list(mt.STATUSES),
        format_func=lambda s: _.term("concern_status", s),
        horizontal=True,
        key=widget(form, f"status_{concern}"),
        **drafting,
    )
    field_error(_, form, "status")
    taken = st.text_area(_("Action taken"), key=widget(form, f"taken_{concern}"), height=80, **drafting)
    field_error(_, form, "action_taken")
    resolved = None
    if status == "resolved":
        st.session_state.setdefault(widget(form, f"resolved_{concern}"), meeting["held_on"])
        resolved = st.date_input(_("Resolved on"), key=widget(form, f"resolved_{concern}"), format="DD.MM.YYYY")
        field_error(_, form, "resolved_on")
    field_error(_, form, "meeting_id")
    if st.button(_("Save the status"), key="mtb_status", type="primary"):
        version = st.session_state[base_key]
        try:
            saved = save(
                eng,
                fresh.actor,
                form,
                f"{mid}:{concern}",
                {"concern": concern, "status": status, "taken": taken, "resolved": resolved, "version": version},
                lambda key: mt.change_status(
                    eng, concern, status, version=version, action_taken=taken or None, resolved_on=resolved,
                    meeting_id=mid, actor=fresh.actor, key=key,
                ),
            )  # fmt: skip
        except mt.Conflict as exc:  # the user's text stays in the widgets (same keys); their next save applies
            st.session_state[f"{PREFIX}conflict_{concern}"] = exc.current
            st.session_state[base_key] = exc.current["version"] if exc.current else version
            rerun_form()
        if saved is not None:
            st.session_state.pop(f"{PREFIX}conflict_{concern}", None)
            st.session_state[base_key] = saved.version
            note(form, "success", _("Saved: the new status."))
            st.rerun()
        rerun_form()
    with st.expander(_("History of this concern")):
        history_part(_, mt.history(eng, "concern", concern))
        retract_part(ctx, fresh, eng, "concern", current, mid)
        if fresh.access.admin:
            redact_part(ctx, fresh, eng, "concern", current)


@st.fragment
def close_form(ctx: Context, eng, meeting: dict) -> None:
    _ = ctx._
    fresh = guard(ctx, meeting["committee_id"])
    form, mid = "close", meeting["meeting_id"]
    form_key(form)  # in the URL from the start: a refresh keeps it
    st.caption(_("Closing makes the minutes final; nothing more is recorded at this meeting."))
    field_error(_, form, "meeting_id")
    if st.button(_("Close the meeting"), key="mtb_close"):
        saved = save(
            eng,
            fresh.actor,
            form,
            mid,
            {"meeting": mid},
            lambda key: mt.close_meeting(eng, mid, version=meeting["version"], actor=fresh.actor, key=key),
        )
        if saved is not None:
            st.rerun()
        rerun_form()


# ---------------------------------------------------------------- a record's history, retraction, redaction


def shown_value(_: i18n.Translator, name: str, value) -> str:
    """A field's value in a history row, as plain text (a dataframe prints it literally)."""
    if value is None or value == "":
        return "–"
    if name == "status":
        return _.term("concern_status", value)
    if name == "category":
        return _.term("concern_category", value)
    if name == "owner":
        return _(minutes.OWNER_TEXT.get(str(value), str(value)))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in DAY_FIELDS:
        try:
            return _.date(dt.date.fromisoformat(str(value)[:10]))
        except ValueError:
            return str(value)
    if name == "point" and isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def field_name(_: i18n.Translator, name: str) -> str:
    return _(FIELD_NAMES[name]) if name in FIELD_NAMES else name


def history_rows(_: i18n.Translator, events: list[mt.Event]) -> pd.DataFrame:
    """A record's history as a reader takes it: when (Kosovo time), who, the change in words and, for each
    field that changed, before → after. A redaction says who redacted which field and when, never the text."""
    rows = []
    for e in events:
        when = e.at.strftime("%d.%m.%Y %H:%M")
        before, after = e.before or {}, e.after or {}
        if e.change == "redacted":
            what = _(
                "{field} redacted by {who} on {date}",
                field=field_name(_, str(after.get("redacted", ""))),
                who=e.actor,
                date=when,
            )
        else:
            parts = []
            for name, value in after.items():
                if name in HIDDEN_FIELDS:
                    continue
                if e.change == "created" and value is None:
                    continue  # not given (or redacted since)
                if e.change == "created" or name not in before:
                    parts.append(f"{field_name(_, name)}: {shown_value(_, name, value)}")
                elif before.get(name) != value:
                    parts.append(
                        f"{field_name(_, name)}: {shown_value(_, name, before.get(name))} → "
                        f"{shown_value(_, name, value)}"
                    )
            what = "; ".join(parts)
        rows.append(
            {
                _("When"): when,
                _("Who"): e.actor,
                _("Change"): _(CHANGES[e.change]) if e.change in CHANGES else e.change,
                _("What changed"): what,
            }
        )
    return pd.DataFrame(rows, columns=[_("When"), _("Who"), _("Change"), _("What changed")])


def history_part(_: i18n.Translator, events: list[mt.Event]) -> None:
    if not events:
        st.caption(_("No change recorded."))
        return
    st.dataframe(history_rows(_, events), hide_index=True, width="stretch")


def retract_part(ctx: Context, fresh: gate.Visitor, eng, kind: str, record: dict, meeting_id: str) -> None:
    """Retract a record recorded by mistake, with a reason: it leaves the agenda and stays in the history."""
    _ = ctx._
    form = f"retract_{kind}"
    rid = str(record[mt.ID_COLUMNS[kind]])
    form_key(form)
    show_note(_, form)
    reason = st.text_input(
        _("Reason for retracting it (it stays in the history)"), key=widget(form, f"reason_{rid}"), live=True
    )
    field_error(_, form, "reason")
    if st.button(_("Retract as a mistake"), key=f"mtb_{form}_{rid}"):
        try:
            saved = save(
                eng,
                fresh.actor,
                form,
                f"{meeting_id}:{rid}",
                {"record": rid, "reason": reason},
                lambda key: mt.retract(eng, kind, rid, reason, version=record["version"], actor=fresh.actor, key=key),
            )
        except (mt.Conflict, mt.NotFound):
            note(form, "warning", _("Someone else changed this record meanwhile: look at it again."))
            st.rerun()
        if saved is not None:
            note(form, "success", _("Retracted: it stays in the history."))
            st.rerun()
        rerun_form()


def redact_part(ctx: Context, fresh: gate.Visitor, eng, kind: str, record: dict) -> None:
    """An administrator blanks a text typed by mistake (personal data); audited first, refused if it cannot be."""
    _ = ctx._
    rid = str(record[mt.ID_COLUMNS[kind]])
    form = f"redact_{kind}"
    show_note(_, form)
    st.markdown("**" + _("Redact a text (administrators)") + "**")
    choices = [f for f in mt.REDACTABLE[kind] if record.get(f)]
    if not choices:
        st.caption(_("No text to redact."))
        return
    name = st.selectbox(
        _("Text to redact"), choices, format_func=lambda f: field_name(_, f), key=f"{PREFIX}redact_field_{rid}"
    )
    sure = st.checkbox(
        _("I confirm: the text is blanked here and in the history, for good."), key=f"{PREFIX}redact_sure_{rid}"
    )
    if st.button(_("Redact"), key=f"mtb_redact_{rid}", disabled=not sure):
        try:
            fresh.record("redaction", {"kind": kind, "record": rid, "field": name})
        except gate.Refused as exc:
            note(form, "warning", _("Not redacted: the audit log could not record it ({error}).", error=str(exc)))
            st.rerun()
        mt.redact(eng, kind, rid, name, administrator=True, actor=fresh.actor, key=mt.new_key())
        note(form, "success", _("Redacted: the history keeps only that it was."))
        st.rerun()


# ---------------------------------------------------------------- minutes


def minutes_file(eng, meeting_id: str, lang: str, policy: PublicPolicy | None, fmt: str, sections) -> bytes:
    """The meeting's minutes as a PDF or HTML file (made when the button is pressed)."""
    content = minutes.minutes_content(mt.meeting_records(eng, meeting_id), lang=lang, policy=policy, sections=sections)
    return minutes.to_pdf(content) if fmt == "pdf" else minutes.to_html(content).encode("utf-8")


def minutes_part(ctx: Context, eng, meeting: dict) -> None:
    _ = ctx._
    mid = meeting["meeting_id"]
    a, b = st.columns(2)
    st.session_state.setdefault(PREFIX + "minutes_lang", ctx.lang)
    lang = a.selectbox(
        _("Language of the minutes"),
        list(i18n.LANGS),
        format_func=lambda c: i18n.LANG_NAMES[c],
        key=PREFIX + "minutes_lang",
    )
    restricted_allowed = PublicPolicy.from_settings(ctx.settings) is None  # a public deployment: public only
    markings = ["RESTRICTED", "PUBLIC"] if restricted_allowed else ["PUBLIC"]
    marking = b.radio(
        _("Marking"), markings, format_func=lambda m: _.marking(m), horizontal=True, key=PREFIX + "minutes_marking"
    )
    policy = None
    if marking == "PUBLIC":
        policy = ctx.policy or PublicPolicy.for_public_version(ctx.settings)
        if not policy.has_secret:
            st.warning(_("The public minutes need the deployment's public secret, which is not set."))
            return
    if policy is None:
        st.caption(_("Restricted minutes: everything recorded. Not for public display."))
    else:
        st.caption(_("Public minutes: only the descriptions marked public; sensitive categories left out."))
    sections = store.read(eng, ["sections"])[1]["sections"].frame[["section_id", "section_name"]]
    day = meeting["held_on"].isoformat()
    kinds = (("pdf", "application/pdf", _("Minutes (PDF)")), ("html", "text/html", _("Minutes (HTML)")))
    for fmt, mime, label in kinds:

        def build(fmt=fmt, policy=policy):
            return minutes_file(eng, mid, lang, policy, fmt, sections)

        data = build
        if policy is None:  # restricted: made only after its audit record is committed
            data = gate.audited(ctx.who, "minutes", {"meeting": mid, "lang": lang, "format": fmt}, build)
        st.download_button(
            label,
            data,
            file_name=f"minutes-{meeting['committee_id']}-{day}-{marking.lower()}.{fmt}",
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            key=f"mtb_minutes_{fmt}",
        )


# ---------------------------------------------------------------- the page


def page(ctx: Context) -> None:
    _ = ctx._
    who = ctx.who
    st.title(_("Meeting"))
    if not who.access.meeting:  # never reached through the navigation; a guard for any other way in
        st.error(_("This page is for committee secretaries, commanders and analysts."))
        st.stop()
    try:
        eng = gate.engine(ctx.settings)
    except Exception as exc:  # noqa: BLE001
        st.error(_("The deployment's database cannot be used ({error}).", error=md_escape(exc)))
        st.stop()
        raise
    database_ready(ctx, eng)

    every = committees(eng)
    allowed = committees_for(who)
    mine = every if allowed is None else every[every["committee_id"].isin(sorted(allowed))]
    if mine.empty:
        st.info(_("No committee is assigned to you. Ask the dashboard's administrator."))
        st.stop()
    ids = list(mine["committee_id"].astype(str))
    labels = {str(r.committee_id): f"{_.committee_abbr(r.type)} · {r.name}" for r in mine.itertuples(index=False)}
    wanted = st.query_params.get("committee")
    if st.session_state.get(PREFIX + "committee") not in ids:
        st.session_state[PREFIX + "committee"] = wanted if wanted in ids else ids[0]
    top = st.columns([2, 2, 3])
    committee_id = top[0].selectbox(
        _("Committee"),
        ids,
        format_func=lambda c: labels[c],  # a select box shows plain text (no Markdown to escape)
        key=PREFIX + "committee",
    )
    st.query_params["committee"] = committee_id
    committee = mine[mine["committee_id"] == committee_id].iloc[0].to_dict()

    held = mt.meetings_of(eng, committee_id)
    meeting_ids = [str(m) for m in held["meeting_id"]]
    shown = {
        str(r.meeting_id): _.date(r.held_on.date()) + ("" if pd.isna(r.closed_at) else " · " + _("closed"))
        for r in held.itertuples(index=False)
    }
    options = ["", *meeting_ids]
    wanted = st.query_params.get("meeting")
    if st.session_state.get("mtp_meeting") in options:
        st.session_state[PREFIX + "meeting"] = st.session_state.pop("mtp_meeting")
    if st.session_state.get(PREFIX + "meeting") not in options:
        st.session_state[PREFIX + "meeting"] = wanted if wanted in options else ""
    meeting_id = top[1].selectbox(
        _("Meeting"),
        options,
        format_func=lambda m: shown.get(m, m) if m else _("A new meeting"),
        key=PREFIX + "meeting",
    )
    if meeting_id:
        st.query_params["meeting"] = meeting_id
    else:
        st.query_params.pop("meeting", None)
        open_form(ctx, eng, committee_id)

    names = section_options(ctx, committee)
    everywhere = section_names(ctx)
    agenda = mt.agenda(eng, committee_id)
    if not meeting_id:
        st.subheader(_("Agenda"))
        agenda_part(_, agenda, everywhere)
        return
    meeting = mt.get(eng, "meeting", meeting_id)
    records = mt.meeting_records(eng, meeting_id)
    closed = meeting["closed_at"] is not None
    top[2].markdown(
        "**"
        + md_escape(labels[committee_id])
        + "** · "
        + _("Held on {date}", date=_.date(meeting["held_on"]))
        + (" · :orange-badge[" + _("closed") + "]" if closed else " · :green-badge[" + _("open") + "]")
    )
    tabs = st.tabs(
        [_("Agenda"), _("Attendance"), _("Concerns raised"), _("Actions agreed"), _("Status changes"), _("Minutes")]
    )
    raised = {str(r["concern_id"]): concern_label(_, r, everywhere) for r in records.concerns.to_dict("records")}
    open_ones = {str(r["concern_id"]): concern_label(_, r, everywhere) for r in agenda.concerns.to_dict("records")}
    undone = {
        str(r["action_id"]): str(r["what"] or "–")
        for frame in (agenda.actions, records.actions)
        for r in frame.to_dict("records")
        if pd.isna(r.get("done_on"))
    }
    with tabs[0]:
        agenda_part(_, agenda, everywhere)
    with tabs[1]:
        if closed:
            total = records.attendance["total"] if records.attendance else None
            st.markdown(_("People present: {n}", n=_.number(total) if total is not None else "–"))
        else:
            attendance_form(ctx, eng, meeting)
    with tabs[2]:
        if len(records.concerns):
            st.dataframe(concern_table(_, records.concerns, everywhere), hide_index=True, width="stretch")
            with st.expander(_("History of a concern raised here")):  # also once resolved, or closed
                chosen = st.selectbox(
                    _("Concern"), list(raised), format_func=lambda c: raised.get(c, c), key=PREFIX + "raised_history"
                )
                history_part(_, mt.history(eng, "concern", chosen))
        else:
            st.caption(_("No concern recorded at this meeting yet."))
        if not closed:
            concern_form(ctx, eng, meeting, names)
    with tabs[3]:
        if len(records.actions):
            st.dataframe(action_table(_, records.actions), hide_index=True, width="stretch")
        if not closed:
            action_form(ctx, eng, meeting, {**open_ones, **raised})
            st.markdown("**" + _("Actions done") + "**")
            done_form(ctx, eng, meeting, undone)
    with tabs[4]:
        if not closed:
            status_form(ctx, eng, meeting, {**open_ones, **{k: v for k, v in raised.items() if k in open_ones}})
        else:
            st.caption(_("The meeting is closed."))
    with tabs[5]:
        if not closed:
            close_form(ctx, eng, meeting)
        minutes_part(ctx, eng, meeting)


def agenda_part(_: i18n.Translator, agenda: mt.Agenda, names: dict[str, str]) -> None:
    st.markdown("**" + _("Open concerns") + "**")
    if len(agenda.concerns):
        st.dataframe(concern_table(_, agenda.concerns, names), hide_index=True, width="stretch", height=180)
    else:
        st.caption(_("No open concern."))
    st.markdown("**" + _("Actions due") + "**")
    if len(agenda.actions):
        st.dataframe(action_table(_, agenda.actions), hide_index=True, width="stretch", height=150)
    else:
        st.caption(_("No action due."))


if __name__ != "views.meeting":  # run as a page; imported (its helpers, in tests) it draws nothing
    page(st.session_state["ctx"])
