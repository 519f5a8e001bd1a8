"""Community policing in Kosovo: the dashboard's entry point.

Page config, the data source, the sidebar shared by every page (language,
period, region → municipality → section, search, incident categories) and the
navigation. Pages (``views/``) are thin views: they read the context this file
puts in ``st.session_state["ctx"]`` (:class:`views.context.Context`) and call
:mod:`geo`, through the caches of ``views/cache.py``.

The pages live in ``views/``, not ``pages/``: Streamlit treats a ``pages/``
folder next to the entry script as an old-style multipage app and, on the
first run after the server starts, runs a page requested by URL (``/data``)
without this file, so without the sidebar and the data. Keep no ``pages/``
folder here.

    streamlit run dashboard.py
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from geo import choices, deployment, figures, i18n, maps, offline, public, rates, saved, uploads
from geo.dataset import Dataset
from geo.public import PublicPolicy
from geo.settings import Settings
from geo.source import DataSource, demo_source
from views import cache, gate
from views.context import Context


def settings_from_config() -> Settings:
    """The deployment's settings (README, "Settings"), read on every run: the environment, else the project's
    ``.streamlit/secrets.toml``, else Streamlit's secrets (which also hold ``~/.streamlit/secrets.toml``, and
    what a test sets in ``AppTest.secrets``), else the defaults."""
    try:
        secrets = st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        secrets = {}
    return Settings.load(os.environ, secrets=secrets)


#: Read once per run, not per process: a deployment's (or a test's) environment and secrets may change between
#: runs, and reading them is cheap.
settings = settings_from_config()

st.set_page_config(  # no icons: they load from Google
    page_title="Community policing · Kosovo",
    layout="wide",
    initial_sidebar_state="collapsed" if settings.presentation else "auto",
)

#: Always: a compact header, so that the first screen at 1280×720 shows the page's content, not blank space.
COMPACT_CSS = """
[data-testid="stMainBlockContainer"] { padding-top: 2.75rem; padding-bottom: 3rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.75rem; padding: 0 0 0.25rem 0; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.45rem; padding: 0.5rem 0 0.25rem 0; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.25rem; padding: 0.25rem 0; }
"""
#: The presentation layout: larger type, the whole width of the screen.
PRESENTATION_CSS = """
html { font-size: 18px; }
[data-testid="stMainBlockContainer"] { max-width: none; padding: 3.9rem 1.5rem 2rem 1.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.7rem; }
[data-testid="stMetricValue"] { font-size: 1.8rem; }
"""

#: Session keys of the sidebar's widgets (kept across pages): in public, ``public_period`` and
#: ``public_categories`` (a period code and a category group) stand for the dates and the categories.
FILTER_KEYS = (
    *("region", "municipality", "section", "search", "categories", "period_start", "period_end"),
    *("public_period", "public_categories"),
)
#: Page-level choices kept when the user switches pages (the measure; column and label mappings).
PAGE_KEYS = ("measure",)
PAGE_KEY_PREFIXES = ("map_", "val_", "place_", "opt_", "hs_", "cn_", "cm_", "tr_", "pr_", "mt_")


def basemap_from_config(settings: Settings) -> maps.Basemap | None:
    """An online basemap only when the deployment configures one (``DASHBOARD_TILES_URL``)."""
    if not settings.tiles_url:
        return None
    try:
        return maps.Basemap(settings.tiles_url, settings.tiles_attribution)
    except ValueError:
        return None


def policy_from_config(settings: Settings, view: str = "restricted") -> PublicPolicy | None:
    """Public-safe mode, set by the deployment (``DASHBOARD_PUBLIC*``, ``[public]`` in the secrets) or by who
    the visitor is (``view`` "public": a viewer, another computer without sign-in): exactly the same rules
    either way. Never a widget. Raises ``ValueError`` for a wrong setting (a secret too short, a perturbation
    table that cannot be read)."""
    policy = PublicPolicy.from_settings(settings)
    if policy is None and view != "restricted":
        policy = PublicPolicy.for_public_version(settings)
    return policy


def default_source(_: i18n.Translator, settings: Settings, notices: list[str]) -> DataSource:
    """The deployment's data: its database, else (imported into it once) the files of its data folder,
    else the demo (:func:`geo.deployment.source`); what is wrong with it goes into ``notices``."""
    decision = cache.deployment(settings, lambda: uploads.own_data(settings.data_dir))
    if decision.kind != "database":
        own = uploads.own_data(settings.data_dir)
        if own.problem:
            notices.append(own_notice(_, own, settings.data_dir))
    if decision.problem:
        notices.append(database_notice(_, decision))
    return decision.source


def database_notice(_: i18n.Translator, decision: deployment.Decision) -> str:
    """Why the deployment's database is not shown (on every page)."""
    if decision.problem == "unreachable":
        return _(
            "The deployment's database cannot be reached. Showing {what} instead; check the database server "
            "and the setting DASHBOARD_DATABASE_URL.",
            what=_("the demo data") if decision.kind == "demo" else _("the files of the data folder"),
        )
    if decision.problem == "old schema":
        return _(
            "The deployment's database was made by an older version of the dashboard. Run "
            "`python -m geo db upgrade` on the server; until then the demo data is shown."
        )
    if decision.problem == "empty":
        return _(
            "The deployment's database holds no data yet. Showing the demo data; import the deployment's "
            "files on the server with `python -m geo db import`."
        )
    return _(
        "The files of the data folder could not be imported into the deployment's database ({error}). "
        "They are shown as they are; see the Data page.",
        error=i18n.md_escape(decision.detail),
    )


def own_notice(_: i18n.Translator, own: saved.OwnData, folder: Path | None = None) -> str:
    """Why the deployment's data is not what it should be ("" when it is): shown on every page."""
    if not own.problem:
        return ""
    folder = folder if folder is not None else Settings.load().data_dir
    if own.fallback == "previous":
        return _(
            "The deployment's last saved data could not be loaded ({error}). Showing the data saved before it; "
            "save the data again on the Data page.",
            error=i18n.md_escape(own.problem),
        )
    if own.fallback == "hand-made":
        return _(
            "The deployment's saved data could not be loaded ({error}). Showing the files put in the folder "
            "{folder} by hand instead; save the data again on the Data page.",
            error=i18n.md_escape(own.problem),
            folder=i18n.md_escape(folder),
        )
    return _(
        "The deployment's data could not be loaded ({error}). Showing the demo data instead; save the data "
        "again on the Data page or check the folder {folder} on the server.",
        error=i18n.md_escape(own.problem),
        folder=i18n.md_escape(folder),
    )


def keep_page_state() -> None:
    """Re-assign page widgets' values so Streamlit keeps them while another page is shown."""
    for key in list(st.session_state.keys()):
        if key in PAGE_KEYS or str(key).startswith(PAGE_KEY_PREFIXES):
            st.session_state[key] = st.session_state[key]


# ---------------------------------------------------------------- language


def language() -> str:
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", i18n.DEFAULT_LANG)
        st.session_state["lang"] = wanted if wanted in i18n.LANGS else i18n.DEFAULT_LANG
    return st.sidebar.selectbox(
        "Gjuha · Jezik · Language",
        i18n.LANGS,
        key="lang",
        format_func=lambda code: i18n.LANG_NAMES[code],
    )


# ---------------------------------------------------------------- data


def upload_settings(_: i18n.Translator, notices: list[str], settings: Settings) -> uploads.SweepSettings:
    """How long uploads are kept (``DASHBOARD_UPLOADS_*``); the defaults, with a notice, when a value is wrong."""
    try:
        return uploads.SweepSettings.from_settings(settings)
    except ValueError as exc:
        notices.append(_("A setting is not valid, so its default is used: {error}", error=str(exc)))
        return uploads.SweepSettings()


def swept_notice(_: i18n.Translator, settings: uploads.SweepSettings) -> str:
    """What a session is told when its uploads were removed from the server."""
    return _(
        "Your uploaded files were removed from the server: uploads are kept for {hours} hours after their last "
        "use, or less when all uploads together exceed {size} MB. The dashboard shows the deployment's data "
        "again; upload the files once more on the Data page to use them.",
        hours=_.number(settings.idle_hours, 0 if settings.idle_hours == int(settings.idle_hours) else 1),
        size=_.number(settings.max_mb),
    )


def upload_upkeep(_: i18n.Translator, notices: list[str], settings: Settings) -> None:
    """Mark this session's upload folder as used; when it was swept, forget it (and say so); then sweep the
    other sessions' folders, at most once a minute (:func:`geo.uploads.maybe_sweep`)."""
    keep = upload_settings(_, notices, settings)
    directory = st.session_state.get("upload_dir")
    if directory is not None and not uploads.touch(Path(directory)):
        gone = Path(directory)
        for key in ("upload_dir", "uploads", "candidate"):
            st.session_state.pop(key, None)
        source = st.session_state.get("source")
        if any(Path(p).is_relative_to(gone) for p in getattr(source, "paths", {}).values()):
            st.session_state.pop("source", None)
        # new, empty upload widgets: the old ones would save the same files again
        st.session_state["upload_generation"] = st.session_state.get("upload_generation", 0) + 1
        st.session_state["uploads_swept"] = True
        notices.append(swept_notice(_, keep))
        directory = None
    try:
        uploads.maybe_sweep(settings=keep, keep=[Path(directory)] if directory else [])
    except OSError:
        pass  # a sweep that fails (a folder in use elsewhere) is tried again later


def load(
    _: i18n.Translator, policy: PublicPolicy | None, settings: Settings
) -> tuple[DataSource, Dataset, str, list[str]]:
    """The session's source, its dataset (the public copy in public mode) and the key that stands for it
    in the caches, and the notices to show; falls back to the default source if loading fails."""
    notices: list[str] = []
    with st.spinner(_("Loading data…")):
        default = default_source(_, settings, notices)
    source = st.session_state.get("source") or default  # public mode: no page can set "source"
    try:
        with st.spinner(_("Loading data…")):
            data, fingerprint = cache.current(source, policy)
            return source, data, fingerprint, notices
    except Exception as exc:  # noqa: BLE001 - a bug or unreadable data must not take the app down
        notices.append(
            _(
                "The data could not be loaded ({error}). Showing the default data instead.",
                error=f"{type(exc).__name__}: {exc}",
            )
        )
        st.session_state.pop("source", None)
    fallback = default
    if fallback.key() == source.key():  # the deployment's own data failed: try the demo
        fallback = demo_source()
    try:
        data, fingerprint = cache.current(fallback, policy)
        return fallback, data, fingerprint, notices
    except Exception as exc:  # noqa: BLE001
        st.error(_("The data could not be loaded ({error}).", error=f"{type(exc).__name__}: {exc}"))
        st.stop()
        raise AssertionError("st.stop() ends the run") from exc


def reset_filters(data: Dataset, policy: PublicPolicy | None) -> None:
    """New data: the last full month (in public, the newest month offered), every area and category."""
    st.session_state.update(choices.default_filters(data, policy))


# ---------------------------------------------------------------- sidebar


def _on_region() -> None:
    st.session_state["municipality"] = ""
    st.session_state["section"] = ""


def _on_municipality() -> None:
    st.session_state["section"] = ""


def select_section(section_id: str, municipality: str, region: str) -> None:
    """Select a section and its municipality and region (from the search box or the map)."""
    st.session_state["region"] = region or ""
    st.session_state["municipality"] = municipality or ""
    st.session_state["section"] = section_id
    st.session_state["search"] = ""


def _valid(key: str, options: list[str]) -> None:
    if st.session_state.get(key, "") not in options:
        st.session_state[key] = ""


def sidebar_filters(
    _: i18n.Translator, data: Dataset, policy: PublicPolicy | None
) -> tuple[figures.Filters, figures.Period]:
    sb = st.sidebar
    sections = data.sections

    # period: free dates; in public, a calendar month, quarter or year (the public cube answers no other)
    sb.subheader(_("Period"))
    if policy is None:
        start = sb.date_input(_("From"), key="period_start", format="DD.MM.YYYY")
        end = sb.date_input(_("To"), key="period_end", format="DD.MM.YYYY")
        period, swapped = choices.ordered_period(start, end)
        if swapped:
            sb.warning(_("The period ends before it starts; the dates were swapped."))
    else:
        offered = choices.offered_periods(data, policy)
        if st.session_state.get("public_period") not in offered:
            st.session_state["public_period"] = next(iter(offered))
        code = sb.selectbox(
            _("Month, quarter or year"),
            list(offered),
            key="public_period",
            format_func=lambda c: _.calendar_period(offered[c].start, offered[c].end),
        )
        period = offered[code]
    sb.caption(choices.comparison_caption(_, period))

    # area
    sb.subheader(_("Area"))
    regions = ["", *figures.regions_in(sections)]
    _valid("region", regions)
    region = sb.selectbox(
        _("Police region"),
        regions,
        key="region",
        on_change=_on_region,
        format_func=lambda r: _.region(r) if r else _("All regions"),
    )
    munis = choices.municipality_options(sections, region, _)
    _valid("municipality", munis)
    municipality = sb.selectbox(
        _("Municipality"),
        munis,
        key="municipality",
        on_change=_on_municipality,
        format_func=lambda m: _.municipality(m) if m else _("All municipalities"),
    )
    secs = figures.sections_in(sections, region, municipality)
    labels = choices.section_labels(secs)
    sec_ids = ["", *secs["section_id"]]
    _valid("section", sec_ids)
    section = sb.selectbox(
        _("Police section"),
        sec_ids,
        key="section",
        format_func=lambda s: labels[s] if s else _("All sections"),
    )

    # search
    query = sb.text_input(_("Find a section or village"), key="search", placeholder=_("Name of a section or village"))
    if query and len(query.strip()) >= 2:
        found = figures.search_sections(sections, query, limit=8)
        if found.empty:
            sb.caption(_("No section or village matches “{query}”.", query=query))
        for rec in found.itertuples(index=False):
            sb.button(
                choices.search_label(rec, _),
                key=f"pick_{rec.section_id}",
                on_click=select_section,
                args=(str(rec.section_id), str(rec.municipality), str(rec.region)),
                width="stretch",
            )

    # categories: free choice; in public, one of the fixed groups (free combinations would isolate records)
    sb.subheader(_("Incidents"))
    if policy is None:
        codes = list(figures.CATEGORY_CODES)
        if "categories" not in st.session_state or not choices.valid_categories(st.session_state["categories"]):
            st.session_state["categories"] = []  # none chosen: all categories
        cats = tuple(
            sb.multiselect(
                _("Incident categories"),
                codes,
                key="categories",
                format_func=lambda c: _.term("incident_category", c),
                placeholder=_("All except traffic tickets"),
                select_all=False,  # Streamlit's own "Select all" is English only (an empty choice means all)
            )
        )
    else:
        groups = policy.category_groups()
        _valid("public_categories", list(groups))
        group = sb.selectbox(
            _("Incident categories"),
            list(groups),
            key="public_categories",
            format_func=lambda k: choices.category_group_name(_, k),
        )
        cats = groups[group] if group else ()  # the default: Filters.incident_categories gives it
    filters = figures.Filters(region, municipality, section, cats)
    return filters, period


# ---------------------------------------------------------------- the app


def presentation_toggle(_: i18n.Translator, settings: Settings) -> bool:
    """The sidebar's switch for the presentation layout; starts as the deployment configures it."""
    if "presentation" not in st.session_state:
        st.session_state["presentation"] = settings.presentation
    return st.sidebar.toggle(
        _("Presentation layout"),
        key="presentation",
        help=_("For a projector: the map first and large, headline figures beside it, larger type."),
    )


def banners(_: i18n.Translator, policy: PublicPolicy | None, demo: bool, presentation: bool) -> None:
    """The marking and, on demo data, the demo notice: one line each, or together in one line when presenting."""
    demo_title = _("Demo data — synthetic, approximate boundaries")
    if presentation:  # one line: the marking and what the data is, without the explanations
        mark = f":blue-badge[**{_('PUBLIC')}**]" if policy is not None else f":red-badge[**{_('RESTRICTED')}**]"
        st.markdown(mark + (f" :orange-badge[{demo_title}]" if demo else ""))
        return
    lines = [marking(_, policy)]
    if demo:
        lines.append(
            f":orange-badge[**{demo_title}**] "
            + (
                _("Figures and places are invented for trying the dashboard; load your own files on the Data page.")
                if policy is None
                else _("Figures and places are invented for trying the dashboard.")  # no uploads in public mode
            )
        )
    st.markdown("  \n".join(lines))  # one paragraph: a line each, no gap between them


def marking(_: i18n.Translator, policy: PublicPolicy | None) -> str:
    """PUBLIC or RESTRICTED at the top of every page (and of its printout), as a Markdown line."""
    if policy is not None:
        return f":blue-badge[**{_('PUBLIC')}**] " + _(
            "Public-safe view: sections only, no exact locations, figures adjusted slightly, counts below {n} "
            "shown as “fewer than {n}”, sensitive categories left out.",
            n=_.number(policy.min_count),
        )
    return f":red-badge[**{_('RESTRICTED')}**] " + _(
        "For police use: exact locations and small counts are shown. Not for public display."
    )


def main(settings: Settings) -> None:
    keep_page_state()
    lang = language()
    _ = i18n.translator(lang)
    presentation = presentation_toggle(_, settings)
    st.html(f"<style>{COMPACT_CSS}{PRESENTATION_CSS if presentation else ''}</style>")
    who = gate.visitor(_, settings)  # the sign-in page, or a refused visitor, stops here
    gate.sidebar(_, who, settings)
    try:
        policy = policy_from_config(settings, who.access.view)
    except ValueError as exc:  # a wrong public-mode setting: show nothing rather than too much
        st.error(_("The public-safe settings are wrong ({error}). Nothing is shown.", error=str(exc)))
        st.stop()
        raise AssertionError("st.stop() ends the run") from exc
    if policy is not None and not policy.has_secret:  # nothing can be published: say how to set the secret
        for note in who.notices:
            st.warning(note)
        st.error(public.missing_secret_text(_))
        st.stop()
        raise AssertionError("st.stop() ends the run")
    try:
        cache.leaflet_ready()
        assets_error = ""
    except Exception as exc:  # noqa: BLE001 - maps are then unavailable, the rest still works
        assets_error = f"{type(exc).__name__}: {exc}"
    upkeep: list[str] = []
    upload_upkeep(_, upkeep, settings)
    source, data, fingerprint, notices = load(_, policy, settings)
    notices[:0] = [*who.notices, *upkeep]
    # other data (another source, or new sections or incidents) starts from the default filters; a new
    # concern or meeting keeps them
    data_key = cache.data_key(source, policy, at=fingerprint)
    if st.session_state.get("_data_key") != data_key:
        reset_filters(data, policy)
        st.session_state["_data_key"] = data_key
    filters, period = sidebar_filters(_, data, policy)
    if assets_error:
        notices.append(_("Map files could not be prepared ({error}).", error=assets_error))
    try:
        min_population = settings.min_population
    except ValueError as exc:
        min_population = rates.MIN_POPULATION
        notices.append(
            _("A setting is wrong ({error}); the default of {n} is used.", error=str(exc), n=_.number(min_population))
        )

    ctx = Context(
        _=_,
        lang=lang,
        source=source,
        data=data,
        fingerprint=fingerprint,
        filters=filters,
        period=period,
        assets=offline.leaflet_assets(st.get_option("server.baseUrlPath") or ""),
        basemap=basemap_from_config(settings),
        select_section=select_section,
        policy=policy,
        notices=tuple(notices),
        min_population=min_population,
        presentation=presentation,
        settings=settings,
        who=who,
    )
    st.session_state["ctx"] = ctx

    # No page icons: Streamlit fetches an icon's image from fonts.gstatic.com for the browser tab.
    # Only the pages the visitor may open are registered: another page's URL opens the default page.
    pages = {
        "overview": st.Page("views/overview.py", title=_("Overview"), default=True),
        "hotspots": st.Page("views/hotspots.py", title=_("Hotspots"), url_path="hotspots"),
        "concerns": st.Page("views/concerns.py", title=_("Community concerns"), url_path="concerns"),
        "committees": st.Page("views/committees.py", title=_("Committees"), url_path="committees"),
        "section": st.Page("views/section.py", title=_("Section profile"), url_path="section"),
        "trust": st.Page("views/trust.py", title=_("Trust and satisfaction"), url_path="trust"),
        "print": st.Page("views/print.py", title=_("Brief and exports"), url_path="print"),
        "data": st.Page("views/data.py", title=_("Data"), url_path="data"),
        "meeting": st.Page("views/meeting.py", title=_("Meeting"), url_path="meeting"),
        "admin": st.Page("views/admin.py", title=_("Administration"), url_path="admin"),
    }
    allowed = who.access.pages
    shown = {code: page for code, page in pages.items() if code in allowed}
    nav = st.navigation(list(shown.values()))
    page_code = next((code for code, page in shown.items() if page is nav), "overview")
    gate.record_view(_, who, page_code, filters, period, demo=data.is_demo)  # before anything restricted is drawn
    banners(_, policy, data.is_demo, presentation)
    for note in notices:
        st.warning(note)
    if data.report.errors:
        st.warning(_("The data has {n} errors: see the Data page.", n=_.number(len(data.report.errors))))
    span = figures.empty_period(data.cube, period)
    if span is not None:
        st.info(
            _(
                "No incidents between {start} and {end}; the data covers {first} to {last}.",
                start=_.date(period.start),
                end=_.date(period.end),
                first=_.date(span[0]),
                last=_.date(span[1]),
            )
        )
    nav.run()


main(settings)
