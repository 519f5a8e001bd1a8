"""Files for download: joined tables as CSV (UTF-8 with BOM), sections as GeoJSON, the overview map as HTML.

Restricted fields stay out unless the data marks them public: a section's
``officers`` only where ``officers_public`` is true, a concern's
``description`` only where ``description_public`` is true.

Every file is marked :data:`MARK_PUBLIC` or :data:`MARK_RESTRICTED`, in its
content and, through :func:`marked_name` / :func:`export_name`, in its name:

- CSV: a first column ``classification`` holding the marking on every row
  (the file stays one header row and plain records, so spreadsheets sort,
  filter and re-import it; a copied row keeps its marking);
- GeoJSON: a top-level member ``"classification"`` and the same property on
  every feature (GIS programs keep properties but drop top-level members);
- the map: the page's ``<title>`` and the legend's title.

The marking defaults to RESTRICTED: a file whose caller forgot to say is
over-marked, never under-marked.

Every CSV the project writes goes through :func:`csv_bytes`, which makes it safe
to open in a spreadsheet (:func:`spreadsheet_safe`, OWASP's advice against CSV
injection): a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'``, so ``=HYPERLINK(…)`` is shown, never run;
text fields are written in double quotes, numbers bare, so numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import figures
from geo.figures import joined_records
from geo.i18n import N_
from geo.public import LOADER_COLUMNS
from geo.schema import LIST_SEPARATOR
from geo.untrusted import html_text

if TYPE_CHECKING:
    from geo.dataset import Dataset
    from geo.public import PublicPolicy

MARK_PUBLIC = "PUBLIC"
MARK_RESTRICTED = "RESTRICTED"
MARKINGS = (MARK_PUBLIC, MARK_RESTRICTED)
#: The column (CSV) and the member/property (GeoJSON) that carry the marking.
CLASSIFICATION = "classification"


#: Added to the title of every output made from the built-in demo dataset.
DEMO_NOTE = N_("synthetic demo data, not police data")


def marking_for(policy: PublicPolicy | None) -> str:
    """:data:`MARK_PUBLIC` for a public-safe policy, :data:`MARK_RESTRICTED` for none."""
    return MARK_PUBLIC if policy is not None else MARK_RESTRICTED


def _check_marking(marking: str) -> str:
    if marking not in MARKINGS:
        raise ValueError(f"marking must be one of {', '.join(MARKINGS)}; got {marking!r}")
    return marking


def slug(text: object, limit: int = 60) -> str:
    """``text`` as a safe file-name part: ASCII lower case, digits and ``-`` (``"Fushë Kosovë"`` →
    ``"fushe-kosove"``, ``"Đakovica"`` → ``"djakovica"``); ``""`` for nothing usable."""
    text = str(text or "").replace("đ", "dj").replace("Đ", "Dj")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def period_slug(period: figures.Period) -> str:
    """``2026-10`` for a whole calendar month, ``2026-10-01_2026-10-15`` for any other period."""
    start, end = period.start, period.end
    next_day = end + dt.timedelta(days=1)
    if start.day == 1 and next_day.day == 1 and (start.year, start.month) == (end.year, end.month):
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"


def marked_name(name: str, marking: str) -> str:
    """``name`` with the marking before its suffix: ``demo-incidents.csv`` → ``demo-incidents-RESTRICTED.csv``."""
    _check_marking(marking)
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-{marking}.{suffix}" if dot and stem else f"{name}-{marking}"


def export_name(kind: str, area: str, period: figures.Period, marking: str, suffix: str, lang: str = "") -> str:
    """A file name that says what, where, when, in which language and how it is marked:
    ``export_name("brief", "Prishtinë", Period(2026-10-01, 2026-10-31), "PUBLIC", "pdf", "sr")`` →
    ``brief-prishtine-2026-10-sr-PUBLIC.pdf``. ``area`` empty: ``kosovo``; ``lang`` empty: left out."""
    parts = [slug(kind) or "export", slug(area) or "kosovo", period_slug(period)]
    if slug(lang):
        parts.append(slug(lang))
    return marked_name("-".join(parts) + "." + suffix.lstrip("."), marking)


#: Internal bookkeeping columns not exported.
_DROP = ("municipality_raw",)


def _cell(v: object) -> object:
    if isinstance(v, (list, tuple, np.ndarray)):
        return LIST_SEPARATOR.join(str(x) for x in v)
    return v


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in _DROP if c in frame.columns])
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_cell)
    return out


def public_sections(sections: pd.DataFrame) -> pd.DataFrame:
    """Sections with the officers' names and contacts blanked where they are not public."""
    out = sections.copy()
    if "officers" in out.columns:
        public = out["officers_public"].fillna(False).astype(bool) if "officers_public" in out else False
        out["officers"] = [
            v if p else [] for v, p in zip(out["officers"], np.broadcast_to(public, len(out)), strict=True)
        ]
    return out


def public_concerns(concerns: pd.DataFrame) -> pd.DataFrame:
    """Concerns with the citizens' descriptions blanked where they are not public."""
    out = concerns.copy()
    if "description" in out.columns:
        public = (
            out["description_public"].fillna(False).astype(bool)
            if "description_public" in out
            else pd.Series(False, index=out.index)
        )
        out["description"] = out["description"].where(public.to_numpy(dtype=bool), None)
    return out


#: What a spreadsheet may read as the start of a formula (OWASP, CSV injection): ``=``, ``+``, ``-``, ``@``,
#: tab and carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_STARTS = frozenset(FORMULA_START)
#: A text cell that is only a number ("-5", "+3.5", "1e-3"): a spreadsheet reads it as that number, never
#: as a formula, so it is written as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet may open it: a text beginning with one of :data:`FORMULA_START` gets a
    leading ``'`` (``"=1+1"`` → ``"'=1+1"``), unless it is only a number (``"-5"`` stays ``"-5"``); anything
    that is not text (numbers, dates, missing values) is returned unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _formula_start(s: pd.Series) -> np.ndarray:
    """Which cells of ``s`` are text beginning with one of :data:`FORMULA_START` (vectorised for text columns)."""
    if pd.api.types.is_string_dtype(s.dtype) and not s.dtype == object:
        import pyarrow as pa
        import pyarrow.compute as pc

        first = pc.utf8_slice_codeunits(pa.array(s, type=pa.string(), from_pandas=True), 0, 1)
        return pc.is_in(first, value_set=pa.array(FORMULA_START)).fill_null(False).to_numpy(zero_copy_only=False)
    values = s.to_numpy(dtype=object)
    return np.fromiter((isinstance(v, str) and v[:1] in _STARTS for v in values), dtype=bool, count=len(values))


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a new one) with every text cell and column name made safe by :func:`safe_cell`.

    Numeric, boolean and date columns are left as they are, negative numbers included: only text can
    hold a formula.
    """
    out = frame.copy()
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    for c in out.columns:
        s = out[c]
        dtype = s.dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            continue
        if isinstance(dtype, pd.CategoricalDtype):
            out[c] = s.cat.rename_categories([safe_cell(v) for v in s.cat.categories])
            continue
        hit = _formula_start(s)
        if hit.any():  # only the cells that begin with a formula character are looked at again
            values = s.to_numpy(dtype=object, copy=True)
            values[hit] = [safe_cell(v) for v in values[hit]]
            out[c] = pd.Series(values, index=s.index, dtype=dtype)
    return out


def csv_bytes(frame: pd.DataFrame, marking: str = MARK_RESTRICTED) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so spreadsheet programs read ë, č, š right); lists joined with ``|``.

    The first column, ``classification``, holds ``marking`` (PUBLIC or RESTRICTED) on every row; a PUBLIC
    file has no loader row numbers (:data:`geo.public.LOADER_COLUMNS`). Cells are made safe to open in a
    spreadsheet (:func:`spreadsheet_safe`); text fields are quoted, numbers are not.
    Every CSV the project writes is made here.
    """
    out = _flat(frame)
    out = out.drop(columns=[CLASSIFICATION], errors="ignore")
    if _check_marking(marking) == MARK_PUBLIC:  # the file's row numbers: gaps where records were withheld
        out = out.drop(columns=[c for c in LOADER_COLUMNS if c in out.columns])
    out.insert(0, CLASSIFICATION, marking)
    out = spreadsheet_safe(out)
    return out.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S", quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def sections_geojson(sections: gpd.GeoDataFrame, marking: str = MARK_RESTRICTED) -> bytes:
    """Sections as GeoJSON (EPSG:4326), restricted fields blanked, lists as JSON arrays.

    Marked with ``marking`` twice: a top-level member ``"classification"`` and a
    ``classification`` property on every feature.
    """
    _check_marking(marking)
    drop = [c for c in (*_DROP, *LOADER_COLUMNS) if c in sections.columns]
    frame = public_sections(sections).drop(columns=drop)
    frame = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    feats = []
    geoms = frame.geometry.to_json()
    geo_features = json.loads(geoms)["features"]
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for rec, feat in zip(props.to_dict("records"), geo_features, strict=True):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            if isinstance(v, (list, tuple)):
                clean[k] = [str(x) for x in v]
            elif v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                clean[k] = None
            elif isinstance(v, (np.integer,)):
                clean[k] = int(v)
            elif isinstance(v, (np.floating,)):
                clean[k] = float(v)
            elif isinstance(v, (np.bool_, bool)):
                clean[k] = bool(v)
            else:
                clean[k] = str(v) if not isinstance(v, (int, float, str)) else v
        clean[CLASSIFICATION] = marking
        feats.append({"type": "Feature", "properties": clean, "geometry": feat["geometry"]})
    collection = {"type": "FeatureCollection", CLASSIFICATION: marking, "features": feats}
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def joined_csv(
    frame: pd.DataFrame, sections: pd.DataFrame, concerns: bool = False, marking: str = MARK_RESTRICTED
) -> bytes:
    """Incidents or concerns with section name, municipality and region, as :func:`csv_bytes`."""
    frame = public_concerns(frame) if concerns else frame
    return csv_bytes(joined_records(frame, sections), marking)


def problems_csv(report, marking: str = MARK_RESTRICTED) -> bytes:
    """The validation report, one problem a row."""
    rows = [p.to_dict() for p in report.problems]
    cols = ["severity", "code", "input", "file", "row", "field", "value", "expected", "message"]
    return csv_bytes(pd.DataFrame(rows, columns=cols), marking)


@dataclass(frozen=True)
class Download:
    """One file of the Data page's export: its button's label (a msgid), its name, type and contents.

    ``restricted`` files (single incidents, raw problem values) are offered in no public version: their
    ``build`` then makes an empty file and the button is disabled.
    """

    label: str
    file_name: str
    mime: str
    build: Callable[[], bytes]
    restricted: bool = False


def data_downloads(data: Dataset, policy: PublicPolicy | None) -> list[Download]:
    """The loaded data's files for download, in the order the Data page shows them (two rows of three)."""
    prefix = "demo" if data.is_demo else "data"
    mark = marking_for(policy)
    public = policy is not None
    csv_type = "text/csv"

    def name(stem: str) -> str:
        return marked_name(f"{prefix}-{stem}", mark)

    return [
        Download(
            N_("Sections (GeoJSON)"),
            name("sections.geojson"),
            "application/geo+json",
            lambda: sections_geojson(data.sections, marking=mark),
        ),
        Download(
            N_("Incidents (CSV)"),
            name("incidents.csv"),
            csv_type,
            (lambda: b"") if public else (lambda: joined_csv(data.incidents, data.sections, marking=mark)),
            restricted=public,
        ),
        Download(
            N_("Concerns (CSV)"),
            name("concerns.csv"),
            csv_type,
            lambda: joined_csv(data.concerns, data.sections, concerns=True, marking=mark),
        ),
        Download(
            N_("Committees (CSV)"), name("committees.csv"), csv_type, lambda: csv_bytes(data.committees, marking=mark)
        ),
        Download(N_("Meetings (CSV)"), name("meetings.csv"), csv_type, lambda: csv_bytes(data.meetings, marking=mark)),
        Download(
            N_("Validation report (CSV)"),
            name("problems.csv"),
            csv_type,
            (lambda: b"") if public else (lambda: problems_csv(data.report, marking=mark)),
            restricted=public,
        ),
    ]


# ---------------------------------------------------------------- the overview map as one file

#: What the map can colour the sections by (the Overview page's choices).
MAP_MEASURES = {
    "rate": N_("Incidents per 1,000 residents"),
    "count": N_("Number of incidents"),
    "change": N_("Change vs previous period"),
    "change_year": N_("Change vs a year earlier"),
}


#: Why the public version of the overview map cannot be made for the chosen categories (:func:`map_refusal`).
EVERY_CATEGORY_WITHHELD = "withheld"
CATEGORIES_NOT_OFFERED = "not_offered"


def map_refusal(policy: PublicPolicy | None, categories: Sequence[str]) -> str:
    """Why the overview map cannot be made for ``categories`` ("" when it can): in the public version
    :data:`EVERY_CATEGORY_WITHHELD` when all are withheld, :data:`CATEGORIES_NOT_OFFERED` when they are
    not one category or a fixed group (free combinations would isolate a category again and again, with
    fresh noise each time)."""
    if policy is None:
        return ""
    if not policy.categories(categories):
        return EVERY_CATEGORY_WITHHELD
    return "" if policy.allows_categories(categories) else CATEGORIES_NOT_OFFERED


def map_area(region: str, municipality: str) -> str:
    """The area named in the overview map's file name: the municipality, else the region ("" for Kosovo)."""
    return municipality or (f"region {region}" if region else "")


def map_measure(measure: object) -> str:
    """The measure the map file is coloured by: the Overview page's, when the file offers it, else the rate."""
    measure = measure or "rate"
    return measure if measure in MAP_MEASURES else "rate"


def overview_map_html(
    data: Dataset,
    period: figures.Period,
    lang: str = "sq",
    *,
    region: str = "",
    municipality: str = "",
    categories: Sequence[str] | None = None,
    measure: str = "rate",
    selected: str = "",
    policy: PublicPolicy | None = None,
) -> str:
    """The overview map as one HTML page that opens offline (Leaflet inside the file, no tiles).

    Parameters
    ----------
    data
        The dataset; with ``policy`` it is made public here (:meth:`PublicPolicy.apply`), so passing the
        public copy already is fine.
    period
        Both days included.
    lang
        ``sq``, ``sr`` or ``en``.
    region, municipality
        Only that area's sections (``""``: all). A municipality may be given by any of its names.
    categories
        Incident category codes; ``None`` or empty: :data:`geo.figures.DEFAULT_CATEGORIES`. In the public
        version the sensitive ones are left out.
    measure
        ``rate``, ``count``, ``change`` or ``change_year`` (see :func:`geo.maps.choropleth`).
    selected
        A section to outline.
    policy
        The public-safe rules, or ``None`` for the restricted version. Every figure is then made from the
        public dataset's published counts (:meth:`PublicPolicy.measures` of the measures of its cube): a
        count shown as "fewer than N" is not coloured, and no rate or change is made from it.

    Raises
    ------
    ValueError
        An unknown measure or area, or categories that are all withheld in public.
    geo.public.PublicQueryError
        In public: a period other than a calendar month, quarter or year the data covers completely
        (:meth:`PublicPolicy.check_period`), or categories the public view does not offer
        (:meth:`PublicPolicy.category_groups`).
    geo.public.MissingSecret
        In public, without the deployment's perturbation secret.
    """
    from geo import i18n, maps, offline, places

    if measure not in MAP_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MAP_MEASURES)}; got {measure!r}")
    if policy is not None:
        from geo.public import PublicQueryError

        policy.check_period(data, period, "a public map")
        data = policy.apply(data)
    if municipality:
        name = places.match_municipality(municipality) or municipality
        if not (data.sections["municipality"] == name).any():
            known = sorted(data.sections["municipality"].dropna().unique())
            raise ValueError(f"no sections in municipality {municipality!r}; municipalities are {known}")
        municipality = name
    if region and not (data.sections["region"] == region).any():
        known = sorted(data.sections["region"].dropna().unique())
        raise ValueError(f"no sections in region {region!r}; regions are {known}")
    cats = tuple(categories) if categories else figures.DEFAULT_CATEGORIES
    if policy is not None:
        cats = policy.categories(cats)
        if not cats:
            raise ValueError("every chosen category is withheld in the public version")
        if not policy.allows_categories(cats):
            raise PublicQueryError(
                f"the public map offers no figure for the categories {', '.join(cats)}: choose one category, "
                "or a group (all, crimes, every one but traffic tickets)"
            )
    sections = figures.select_sections(data.sections, figures.Filters(region=region, municipality=municipality))
    _ = i18n.translator(lang)
    withheld = None
    national = figures.section_measures(data.sections, data.cube, period, cats)  # public: published counts
    if policy is None:
        measures = figures.section_measures(sections, data.cube, period, cats)
    else:  # as on the Overview: Kosovo's measures, a count shown as "fewer than N" taking those made from it
        national = policy.measures(national)
        measures = national.loc[sections["section_id"].tolist()]
        withheld = policy.texts(_)
    # as the Overview shows it by default: the rate smoothed with all of Kosovo's prior, and the colour
    # classes of all of Kosovo for the period, so a colour means the same in every area's map
    coloured = measure
    if measure == "rate":
        measures = measures.assign(rate_smoothed=figures.smoothed_rates(measures, national))
        national = national.assign(rate_smoothed=figures.smoothed_rates(national))
        coloured = "rate_smoothed"
    classes = maps.sequential_classes(national[coloured]) if measure in ("rate", "count") else None
    mark = marking_for(policy)
    what = _("Incidents per 1,000 residents, smoothed") if coloured == "rate_smoothed" else _(MAP_MEASURES[measure])
    title = f"{_.marking(mark)} · {what} · " + _.period(period.start, period.end)
    if data.is_demo:  # every output of the demo says so, as the brief does
        title += " · " + _(DEMO_NOTE)
    geometry = maps.display_geometry(data.sections).select(region, municipality)
    fmap = maps.choropleth(
        geometry,
        measures,
        coloured,
        _,
        assets=offline.INLINE_ASSETS,
        title=title,
        selected=selected,
        withheld=withheld,
        classes=classes,
    )
    page = offline.standalone_html(fmap.get_root().render())
    head = f"<title>{html_text(title)}</title>"
    page, n = re.subn(r"<head>", lambda m: "<head>" + head, page, count=1)
    if not n:
        raise ValueError("the map page has no <head>")  # pragma: no cover - folium always writes one
    return page
