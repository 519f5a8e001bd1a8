"""Brief and exports: the one-page brief and the overview map as files, in the restricted or the public version.

Files are made on a button press (a brief takes a few seconds) and kept in the
session, keyed by every choice that shapes them, so the download button offers
exactly what the choices on screen describe. The public version is built from
the public copy of the data (:func:`views.cache.dataset` with a policy), never
from the restricted one; on a public deployment there is no other version.
A restricted deployment offers the public version only when it has set the
perturbation secret (else the page says how), and only for a calendar month,
quarter or year and for the category choices the public view offers.
"""

from __future__ import annotations

import streamlit as st

from geo import brief, exports, figures, i18n, places, public
from geo.i18n import N_, md_escape
from geo.public import PublicPolicy
from views import cache, common, gate
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
flt = ctx.filters
period = ctx.period

#: Session key of the files made so far: ``{"brief" | "map": (choices, file name, bytes, MIME type)}``.
FILES_KEY = "print_files"
VERSION_LABELS = {"restricted": N_("Restricted: for police use"), "public": N_("Public")}
FORMATS = {"pdf": ("PDF", "application/pdf"), "html": ("HTML", "text/html")}


def default(key: str, value, options) -> None:
    """Give a page widget its default value once (and again when the stored one is no longer an option)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = value


def offer(kind: str, choices: tuple) -> None:
    """The download button for the file of ``kind`` made with exactly these ``choices``, if there is one."""
    made = st.session_state.get(FILES_KEY, {}).get(kind)
    if made is None or made[0] != choices:
        return
    _choices, name, payload, mime = made
    data: bytes | object = payload
    if policy is None:  # a restricted file: its audit record is committed when it is downloaded, before it is sent
        detail = {
            "file": name,
            "area": [flt.region, flt.municipality, flt.section],
            "period": [period.start.isoformat(), period.end.isoformat()],
        }
        data = gate.audited(ctx.who, kind, detail, lambda: payload)
    st.download_button(
        _("Download {name}", name=name),
        data,
        file_name=name,
        mime=mime,
        key=f"print_{kind}_download",
        on_click="ignore",
        icon=":material/download:",
        type="primary",
    )


def keep(kind: str, choices: tuple, name: str, payload: bytes, mime: str) -> None:
    """Keep the latest file of ``kind`` (one per kind, so the session stays small)."""
    files = dict(st.session_state.get(FILES_KEY, {}))
    files[kind] = (choices, name, payload, mime)
    st.session_state[FILES_KEY] = files


st.title(_("Brief and exports"))
st.markdown(f"**{common.area_name(ctx)}** · {_.period(period.start, period.end)}")
st.caption(
    _(
        "Files for a committee meeting or a report, for the period chosen in the sidebar. Each file is "
        "marked PUBLIC or RESTRICTED, in its content and in its name, and opens without internet."
    )
)

# ---------------------------------------------------------------- version and language

if ctx.public:
    policy: PublicPolicy | None = ctx.policy
    data = ctx.data
    fingerprint = ctx.fingerprint
    st.info(_("This dashboard is public: every file made here is the public version, marked PUBLIC."))
else:
    try:
        public_policy: PublicPolicy | None = PublicPolicy.for_public_version(ctx.settings)
        public_policy.require_secret()
    except public.MissingSecret:  # a public version without the secret would publish nothing safe
        public_policy = None
        st.info(public.missing_secret_text(_))
    except ValueError as exc:  # a secret too short, a perturbation table that cannot be read
        public_policy = None
        st.warning(_("The public version cannot be made: {error}", error=str(exc)))
    versions = list(VERSION_LABELS) if public_policy is not None else ["restricted"]
    default("pr_version", "restricted", versions)
    version = "restricted"
    if public_policy is not None:
        version = st.radio(
            _("Version"),
            versions,
            key="pr_version",
            format_func=lambda v: _(VERSION_LABELS[v]),
            horizontal=True,
            help=_(
                "The public version is made from the public copy of the data: sections only, no exact "
                "locations, figures adjusted slightly, sensitive categories left out."
            ),
        )
    if version == "public":
        policy = public_policy
        data, fingerprint = cache.current(ctx.source, policy)
    else:
        policy = None
        data = ctx.data
        fingerprint = ctx.fingerprint
mark = exports.marking_for(policy)
if policy is not None:
    st.caption(
        _(
            "Public version: sensitive categories are left out, no exact locations, a count below {n} is shown "
            "as “fewer than {n}”. Files are marked PUBLIC.",
            n=_.number(policy.min_count),
        )
        + " "
        + policy.note(_)
    )
else:
    st.caption(_("Restricted version: exact figures, for police use only. Files are marked RESTRICTED."))
# the public version is published for calendar months, quarters and years only (public.period_kind)
public_period = policy is None or bool(public.period_kind(period))
if not public_period:
    st.warning(
        _("The public version is for calendar months, quarters and years: choose one as the period in the sidebar.")
    )

default("pr_lang", ctx.lang, list(i18n.LANGS))
lang = st.radio(
    _("Language of the files"),
    list(i18n.LANGS),
    key="pr_lang",
    format_func=lambda code: i18n.LANG_NAMES[code],
    horizontal=True,
)

if data.sections.empty:
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()

# ---------------------------------------------------------------- the brief

st.header(_("One-page brief"))
st.caption(
    _(
        "An A4 page for a committee meeting: headline figures against the previous period and a year earlier, "
        "hot spots, community concerns, committees and survey results, with a small map."
    )
)
section = flt.section
municipality = "" if section else flt.municipality
if section:
    rec = common.section_record(ctx, section)
    name = md_escape(rec["section_name"]) if rec is not None else md_escape(section)
    st.markdown(_("For the police section **{name}**, chosen in the sidebar.", name=name))
elif municipality:
    st.markdown(
        _("For the municipality of **{name}**, chosen in the sidebar.", name=md_escape(_.municipality(municipality)))
    )
else:
    munis = sorted(
        figures.municipalities_in(data.sections, flt.region), key=lambda m: places.normalize(_.municipality(m))
    )
    default("pr_municipality", None, [None, *munis])
    municipality = (
        st.selectbox(
            _("Municipality"),
            munis,
            key="pr_municipality",
            index=None,
            format_func=_.municipality,
            placeholder=_("Choose a municipality"),
        )
        or ""
    )
    st.caption(_("Or choose a municipality or a police section in the sidebar."))

fmt = st.radio(
    _("Format"),
    list(FORMATS),
    key="pr_format",
    format_func=lambda f: FORMATS[f][0],
    horizontal=True,
    help=_("PDF prints on one A4 page as it is; HTML opens in a browser and can be printed from there."),
)
area = section or municipality
brief_choices = ("brief", fingerprint, section, municipality, period.start, period.end, lang, fmt)
if st.button(
    _("Prepare the brief"),
    key="print_brief_button",
    disabled=not area or not public_period,
    icon=":material/description:",
):
    try:
        with st.spinner(_("Preparing the brief…")):
            content = brief.brief_content(
                data, period, lang=lang, municipality=municipality or None, section=section or None, policy=policy
            )
            payload = brief.to_pdf(content) if fmt == "pdf" else brief.to_html(content).encode("utf-8")
    except ValueError as exc:  # an area the data no longer has
        st.error(_("The brief could not be made ({error}).", error=str(exc)))
    else:
        name = exports.export_name("brief", area, period, mark, fmt, lang)
        keep("brief", brief_choices, name, payload, FORMATS[fmt][1])
offer("brief", brief_choices)

# ---------------------------------------------------------------- the map

st.header(_("Overview map as one file"))
measure = exports.map_measure(st.session_state.get("measure"))
st.caption(
    _(
        "The Overview page's map for the area, incident categories and period chosen in the sidebar, coloured "
        "by “{measure}”: one HTML file that opens in any browser, without internet and without a background map.",
        measure=_(exports.MAP_MEASURES[measure]),
    )
)
categories = flt.incident_categories
refusal = exports.map_refusal(policy, categories)
if refusal == exports.EVERY_CATEGORY_WITHHELD:
    st.warning(_("Every incident category chosen in the sidebar is withheld in the public version."))
elif refusal == exports.CATEGORIES_NOT_OFFERED:
    st.warning(
        _(
            "The public map is for one incident category or a fixed group (the crimes, all categories, all but "
            "traffic tickets), not for the categories chosen in the sidebar."
        )
    )
map_choices = (
    "map",
    fingerprint,
    flt.region,
    flt.municipality,
    flt.section,
    categories,
    measure,
    period.start,
    period.end,
    lang,
)
if st.button(
    _("Prepare the map"),
    key="print_map_button",
    disabled=bool(refusal) or not public_period,
    icon=":material/map:",
):
    try:
        with st.spinner(_("Preparing the map…")):
            page = exports.overview_map_html(
                data,
                period,
                lang,
                region=flt.region,
                municipality=flt.municipality,
                categories=categories,
                measure=measure,
                selected=flt.section,
                policy=policy,
            )
    except ValueError as exc:
        st.error(_("The map could not be made ({error}).", error=str(exc)))
    else:
        name = exports.export_name("map", exports.map_area(flt.region, flt.municipality), period, mark, "html", lang)
        keep("map", map_choices, name, page.encode("utf-8"), "text/html")
offer("map", map_choices)
