"""Folium map builders: they return ``folium.Map`` objects and never draw.

Every map loads Leaflet from the dashboard itself (:mod:`geo.offline`) and
nothing else: no jQuery, Bootstrap, icon fonts or branca colour maps (those
pull scripts from CDNs). There are no background tiles unless a deployment
configures a tile server (:class:`Basemap`).

Text from data files (section, municipality and station names) is untrusted:
it goes into tooltips, labels and legends only through
:func:`geo.untrusted.html_text` (escaped, with Jinja's braces neutralised), and
importing this module makes every folium and branca template write inert JSON
(:func:`geo.untrusted.install`), so no data text is ever template source.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo import compare, places, untrusted
from geo.offline import Assets
from geo.untrusted import html_text

untrusted.install()

#: Simplification tolerance for display, degrees (~60 m in Kosovo).
DISPLAY_TOLERANCE = 0.0006
#: Decimals kept in displayed coordinates (1e-5 degrees is about a metre).
DISPLAY_DECIMALS = 5
#: Above this many sections on screen, label municipalities instead of sections.
MAX_SECTION_LABELS = 40

#: ColorBrewer YlGnBu, sequential: colour-blind safe and monotone in lightness (reads in greyscale).
SEQUENTIAL: dict[int, tuple[str, ...]] = {
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
}
#: ColorBrewer PuOr (7 classes) from strongest decrease (purple) to strongest increase (orange).
DIVERGING: tuple[str, ...] = ("#542788", "#998ec3", "#d8daeb", "#f7f7f7", "#fee0b6", "#f1a340", "#b35806")
#: Fill per change flag (:mod:`geo.compare`): only changes at p < 0.0455 (after FDR across the sections shown)
#: get a colour (PuOr), the rest grey; "no comparison" is drawn as no data.
FLAG_COLOURS = {
    "strong_decrease": "#542788",
    "decrease": "#998ec3",
    "no_change": "#ececec",
    "increase": "#f1a340",
    "strong_increase": "#b35806",
}
#: Fill of sections without a value (drawn hatched where the browser draws SVG).
NO_DATA = "#d9d9d9"
OUTLINE = "#636363"
MUNICIPALITY_LINE = "#252525"
REGION_LINE = "#000000"
BACKGROUND = "#f4f4f2"


@dataclass(frozen=True)
class Basemap:
    """An online tile layer a deployment may configure (off by default: the maps work offline)."""

    url: str
    attribution: str = ""

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://", "/")):
            raise ValueError(f"a basemap URL starts with https://, http:// or /; got {self.url!r}")


@dataclass(frozen=True)
class Classes:
    """Class breaks and colours of a choropleth.

    ``bounds`` are the (low, high) values shown in the legend, ascending. A
    value belongs to the first class whose high bound it does not exceed (and
    to none below the lowest bound, or when missing).
    """

    colors: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]  # (low, high) of each class, both included
    integer: bool

    def classify(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Class index per value; -1 for missing values."""
        v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
        out = np.full(v.shape, -1, dtype=int)
        if not self.bounds:
            return out
        lowest = self.bounds[0][0]
        for i, (_lo, hi) in reversed(list(enumerate(self.bounds))):
            out[np.isfinite(v) & (v >= lowest) & (v <= hi)] = i
        return out

    def color(self, values: pd.Series | np.ndarray) -> list[str]:
        idx = self.classify(values)
        return [self.colors[i] if i >= 0 else NO_DATA for i in idx]


def _finite(values: pd.Series | np.ndarray) -> np.ndarray:
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    return v[np.isfinite(v)]


def _is_integer(v: np.ndarray) -> bool:
    return bool(len(v)) and bool(np.all(v == np.round(v)))


def sequential_classes(values: pd.Series | np.ndarray, k: int = 5) -> Classes:
    """Up to ``k`` quantile classes (fewer when values tie) with YlGnBu colours.

    The upper bound of each class is a data value (``inverted_cdf`` quantiles
    at 1/k, 2/k, … 1); ties merge classes. When many sections share the
    lowest value (0 incidents, say), that value gets a class of its own, so it
    never shares a colour with busier sections. A class is labelled by the
    smallest and largest values in it.
    """
    if not 3 <= k <= 7:
        raise ValueError(f"k is the number of classes, 3 to 7; got {k}")
    v = _finite(values)
    integer = _is_integer(v)
    if not len(v):
        return Classes((), (), integer)
    uppers = np.unique(np.quantile(v, np.arange(1, k + 1) / k, method="inverted_cdf"))
    n = len(uppers)
    if n == 1:
        return Classes((SEQUENTIAL[3][1],), ((float(v.min()), float(uppers[0])),), integer)
    palette = SEQUENTIAL[max(n, 3)]
    if n == 2:
        palette = (palette[0], palette[-1])
    bounds = []
    below = -np.inf
    for hi in uppers:
        inside = v[(v > below) & (v <= hi)]
        bounds.append((float(inside.min()), float(hi)))
        below = hi
    return Classes(tuple(palette[:n]), tuple(bounds), integer)


def diverging_classes(values: pd.Series | np.ndarray) -> Classes:
    """Classes for a change centred on zero: up to three sizes of decrease, "no change", up to three of increase.

    The break between "small" and "large" changes is symmetric (quantiles of
    the absolute non-zero changes), so equal steps up and down share a shade.
    Colours: ColorBrewer PuOr, purple for decreases, orange for increases.
    """
    v = _finite(values)
    integer = _is_integer(v) or not len(v)
    mags = np.abs(v[v != 0])
    if not len(mags):
        return Classes((DIVERGING[3],), ((0.0, 0.0),), integer)
    top = float(mags.max())
    cuts = [float(c) for c in np.unique(np.quantile(mags, [1 / 3, 2 / 3], method="inverted_cdf")) if c < top]
    steps = [*cuts, top]  # upper ends of the magnitude classes: class j holds steps[j-1] < |v| <= steps[j]
    levels = {1: (2,), 2: (1, 3), 3: (1, 2, 3)}[len(steps)]

    def above(x: float) -> float:  # the smallest value greater than x
        return x + 1.0 if integer else math.nextafter(x, math.inf)

    sides = [(above(steps[j - 1]) if j else above(0.0), steps[j]) for j in range(len(steps))]
    colors = [DIVERGING[3 - levels[j]] for j in reversed(range(len(steps)))]
    bounds = [(-hi, -lo) for lo, hi in reversed(sides)]
    colors.append(DIVERGING[3])
    bounds.append((0.0, 0.0))
    colors += [DIVERGING[3 + levels[j]] for j in range(len(steps))]
    bounds += sides
    return Classes(tuple(colors), tuple(bounds), integer)


# ---------------------------------------------------------------- geometry for display


@dataclass(frozen=True)
class DisplayGeometry:
    """Simplified, rounded shapes for drawing (EPSG:4326) and the outlines built from them."""

    sections: gpd.GeoDataFrame  # section_id, section_name, municipality, region, geometry
    municipalities: gpd.GeoDataFrame  # municipality, region, geometry
    regions: gpd.GeoDataFrame  # region, geometry

    def select(self, region: str = "", municipality: str = "") -> DisplayGeometry:
        """The shapes of one region and/or municipality ("" for all); new frames."""
        s, mu, r = self.sections, self.municipalities, self.regions
        if region:
            s, mu, r = s[s["region"] == region], mu[mu["region"] == region], r[r["region"] == region]
        if municipality:
            s, mu = s[s["municipality"] == municipality], mu[mu["municipality"] == municipality]
            r = r[r["region"].isin(set(s["region"]))]
        return DisplayGeometry(s.copy(), mu.copy(), r.copy())

    def only(self, section_ids: list[str]) -> DisplayGeometry:
        """Just these sections, with the outlines of their municipalities and regions; new frames."""
        s = self.sections[self.sections["section_id"].isin([str(i) for i in section_ids])]
        mu = self.municipalities[self.municipalities["municipality"].isin(set(s["municipality"]))]
        r = self.regions[self.regions["region"].isin(set(s["region"]))]
        return DisplayGeometry(s.copy(), mu.copy(), r.copy())


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def display_geometry(
    sections: gpd.GeoDataFrame, tolerance: float = DISPLAY_TOLERANCE, decimals: int = DISPLAY_DECIMALS
) -> DisplayGeometry:
    """Sections simplified as one coverage (neighbours keep shared edges) plus municipality and region outlines.

    ``tolerance`` in degrees; coordinates rounded to ``decimals``. Only the
    columns tooltips need are kept. Falls back to the unsimplified shape for
    any section the simplification would empty.
    """
    if sections.crs is not None and not sections.crs.equals("EPSG:4326"):
        sections = sections.to_crs("EPSG:4326")
    if len(sections):  # about a pixel of the whole map: finer detail would only add bytes
        minx, miny, maxx, maxy = sections.total_bounds
        tolerance = max(tolerance, max(maxx - minx, maxy - miny) / 1500)
        decimals = min(decimals, 4) if tolerance >= 0.001 else decimals
    cols = ["section_id", "section_name", "municipality", "region"]
    geoms = np.asarray(sections.geometry.values, dtype=object)
    try:
        simple = shapely.coverage_simplify(geoms, tolerance)
    except Exception:  # noqa: BLE001 - GEOS rejects some invalid coverages; per-shape simplification still draws
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    simple = np.where(shapely.is_empty(simple) | shapely.is_missing(simple), geoms, simple)
    simple = _round(simple, decimals)
    out = gpd.GeoDataFrame(
        {c: sections[c].astype("string").to_numpy() for c in cols}, geometry=list(simple), crs="EPSG:4326"
    )

    def dissolve(by: list[str]) -> gpd.GeoDataFrame:
        rows = []
        for key, grp in out.groupby(by, dropna=False, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            parts = np.asarray(grp.geometry.values, dtype=object)
            g = (
                shapely.coverage_union_all(parts)
                if shapely.coverage_is_valid(parts)
                else shapely.union_all(parts, grid_size=10.0**-decimals)
            )
            rows.append((*key, g))
        frame = pd.DataFrame(rows, columns=[*by, "geometry"])
        return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")

    frames = (out, dissolve(["municipality", "region"]), dissolve(["region"]))
    for frame in frames:  # GeoJSON once here, not on every page run (the shapes do not change)
        frame[GEOJSON_COL] = [json.loads(g) for g in shapely.to_geojson(np.asarray(frame.geometry.values))]
    return DisplayGeometry(*frames)


#: Column of :func:`display_geometry`'s frames with each shape as a GeoJSON geometry (parsed, shared: read only).
GEOJSON_COL = "_geojson"


# ---------------------------------------------------------------- folium pieces


class _Legend(MacroElement):
    """A legend as a Leaflet control; ``body`` is HTML the caller has escaped.

    The legend covers nothing of the data at the starting view: once it is
    drawn, the map is fitted again to the data's bounds (:func:`base_map`)
    with the legend's width kept free on the right or its height at the bottom,
    whichever allows the larger zoom. Zooming in later may bring shapes under
    it, as under any map control.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "cp-legend");
            div.innerHTML = {{ this.body|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        (function (map, legend, bounds) {
            if (!bounds) return;
            var b = L.latLngBounds(bounds), done = false;
            function reserve() {
                var size = map.getSize(), box = legend.getContainer().getBoundingClientRect();
                if (done || !size.x || !size.y || !box.width) return;
                done = true;
                var w = box.width + 14, h = box.height + 14;
                var right = map.getBoundsZoom(b, false, L.point(w + 10, 20));
                var bottom = map.getBoundsZoom(b, false, L.point(20, h + 10));
                var pad = right >= bottom ? [w, 10] : [10, h];
                map.fitBounds(b, {paddingTopLeft: [10, 10], paddingBottomRight: pad, animate: false});
            }
            reserve();
            map.on("resize", reserve);  // a map laid out later (a hidden frame): once it has a size
        })({{ this._parent.get_name() }}, {{ this.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, body: str):
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.bounds: list[list[float]] | None = None

    def render(self, **kwargs):
        self.bounds = getattr(self._parent, "_cp_bounds", None)
        super().render(**kwargs)


class _Styles(MacroElement):
    """CSS for the legend, labels and background, the SVG patterns for "no data" (hatched) and "withheld"
    (dotted), and a metric scale bar (folium's ``control_scale`` shows miles too)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .leaflet-container { background: {{ this.background }}; }
        .cp-legend { background: rgba(255,255,255,.92); padding: 6px 8px; font: 12px/1.35 sans-serif;
                     color: #222; border-radius: 4px; box-shadow: 0 0 4px rgba(0,0,0,.3); max-width: 240px; }
        .cp-legend .cp-title { font-weight: 600; margin-bottom: 4px; }
        .cp-legend .cp-row { display: flex; align-items: center; gap: 6px; }
        .cp-legend .cp-swatch { width: 18px; height: 12px; border: 1px solid #777; flex: none; }
        .cp-legend .cp-nodata-swatch { background: repeating-linear-gradient(45deg, #e0e0e0 0 3px, #9e9e9e 3px 4px); }
        .cp-legend .cp-withheld-swatch { background: #f3f3f3 radial-gradient(circle, #6b6b6b 1.2px, transparent 1.6px)
                                         0 0 / 5px 5px; }
        .cp-legend .cp-line { width: 18px; height: 0; flex: none; border-top-style: solid; border-top-color: #000; }
        .cp-nodata { fill: url(#cp-hatch); }
        .cp-withheld { fill: url(#cp-dots); }
        .cp-label-icon { display: flex; justify-content: center; align-items: center; }
        .cp-label-icon.cp-hidden { visibility: hidden; }
        .cp-label { color: #111; font: 11px/1.1 sans-serif; white-space: nowrap; text-align: center; width: max-content;
                    text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; pointer-events: none; }
        .cp-label.cp-municipality { font-weight: 600; font-size: 12px; }
        .leaflet-tooltip.foliumtooltip { font: 12px/1.35 sans-serif; }
        .cp-tip table { border-collapse: collapse; margin-top: 3px; }
        .cp-tip td { padding: 0 6px 0 0; }
        .cp-tip td.cp-num { text-align: right; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <svg style="position:absolute;width:0;height:0" aria-hidden="true" focusable="false"><defs>
        <pattern id="cp-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
        <rect width="6" height="6" fill="#e0e0e0"></rect><line x1="0" y1="0" x2="0" y2="6" stroke="#9e9e9e"
        stroke-width="2"></line></pattern>
        <pattern id="cp-dots" patternUnits="userSpaceOnUse" width="5" height="5">
        <rect width="5" height="5" fill="#f3f3f3"></rect><circle cx="2.5" cy="2.5" r="1.2" fill="#6b6b6b"></circle>
        </pattern></defs></svg>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, background: str = BACKGROUND):
        super().__init__()
        self._name = "Styles"
        self.background = background


def base_map(
    bounds: tuple[float, float, float, float] | None,
    assets: Assets,
    basemap: Basemap | None = None,
) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees) loading only ``assets``.

    No tiles unless ``basemap`` is given; a plain light background otherwise.
    """
    untrusted.install()  # again here, for element classes loaded since import: every map is built from here
    m = folium.Map(
        location=[42.6, 20.9],
        zoom_start=9,
        tiles=None,
        control_scale=False,  # the metric one is added by _Styles
        attribution_control=basemap is not None,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    # Only the local Leaflet: folium's defaults would load jQuery, Bootstrap and icon fonts from CDNs.
    m.default_js = list(assets.js)
    m.default_css = list(assets.css)
    if basemap is not None:
        folium.TileLayer(basemap.url, attr=html_text(basemap.attribution or basemap.url), name="basemap").add_to(m)
    _Styles().add_to(m)
    if bounds is not None and all(np.isfinite(bounds)):
        minx, miny, maxx, maxy = bounds
        m._cp_bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]  # also for _Legend
        _Fit(m._cp_bounds).add_to(m)
    return m


class _Fit(MacroElement):
    """Fit the map to ``bounds`` at once. folium's ``fit_bounds`` animates from its starting zoom, one frame
    later, and so undoes any fit made before the animation ends (the legend's, :class:`_Legend`)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "Fit"
        self.bounds = bounds


class _GeoJson(folium.GeoJson):
    """``folium.GeoJson`` that knows its bounds: folium (and streamlit-folium on every run) would walk every
    coordinate in Python to find them."""

    def __init__(self, data: dict, *args, bounds: tuple[float, float, float, float] | None = None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self._known_bounds = bounds

    def _get_self_bounds(self):
        if self._known_bounds is None or not all(np.isfinite(self._known_bounds)):
            return super()._get_self_bounds()
        minx, miny, maxx, maxy = self._known_bounds
        return [[miny, minx], [maxy, maxx]]


def _features(frame: gpd.GeoDataFrame, props: dict[str, list]) -> dict:
    if GEOJSON_COL in frame:  # from display_geometry: already GeoJSON
        geometries = frame[GEOJSON_COL].tolist()
    else:
        geometries = [json.loads(g) for g in shapely.to_geojson(np.asarray(frame.geometry.values, dtype=object))]
    feats = []
    for i, g in enumerate(geometries):
        feats.append(
            {
                "type": "Feature",
                "id": str(props["section_id"][i]) if "section_id" in props else str(i),
                "properties": {k: v[i] for k, v in props.items()},
                "geometry": g,
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _legend_line_rows(lines) -> list[str]:
    """Legend rows for outlines: ``(name, weight in px, colour)`` each; names escaped."""
    return [
        f'<div class="cp-row"><span class="cp-line" style="border-top-width:{weight:g}px;'
        f'border-top-color:{color}"></span><span>{html_text(name)}</span></div>'
        for name, weight, color in lines
    ]


def legend_html(
    title: str,
    classes: Classes,
    label: Callable[[float], str],
    _: Callable[..., str],
    show_no_data: bool,
    lines: tuple[tuple[str, float, str], ...] = (),
    no_data_text: str = "",
    withheld_text: str = "",
) -> str:
    """The legend's HTML: escaped title, one swatch per class, "no data" (or ``no_data_text``), the public
    version's uncoloured sections (dotted, labelled ``withheld_text``, "fewer than 5" say, when given) and
    outline keys."""
    parts = [f'<div class="cp-title">{html_text(title)}</div>']
    for color, (lo, hi) in zip(classes.colors, classes.bounds, strict=True):
        text = label(lo) if lo == hi else f"{label(lo)} – {label(hi)}"
        parts.append(
            f'<div class="cp-row"><span class="cp-swatch" style="background:{color}"></span>'
            f"<span>{html_text(text)}</span></div>"
        )
    if show_no_data:
        parts.append(
            '<div class="cp-row"><span class="cp-swatch cp-nodata-swatch"></span>'
            f"<span>{html_text(no_data_text or _('No data'))}</span></div>"
        )
    if withheld_text:
        parts.append(_withheld_row(withheld_text))
    parts.extend(_legend_line_rows(lines))
    return "".join(parts)


def _withheld_row(text: str) -> str:
    """The legend row of the public version's sections whose count shows as ``text`` ("fewer than 5"):
    dotted, unlike "no data"; a legend entry of its own, outside the classes."""
    return f'<div class="cp-row"><span class="cp-swatch cp-withheld-swatch"></span><span>{html_text(text)}</span></div>'


class _Labels(MacroElement):
    """Text labels as Leaflet markers with a ``divIcon`` (never the default image icon), decluttered.

    ``labels`` holds ``[lat, lon, html, rank, box]`` with the text already
    escaped; ``rank`` orders the labels (the larger shape's first) and ``box``
    (``[south, west, north, east]`` of the labelled shape, or ``None``) asks
    that the label be shown only when it fits inside that box on screen.

    The decluttering runs in the browser, after layout and again on every zoom
    and resize: only there are the labels' real widths known (fonts, language)
    and only there does the zoom change. A label whose box would overlap that
    of a label drawn before it (a larger shape's) is hidden, never moved; so is
    a label wider or taller than its ``box`` at the current zoom. A label with
    a short form (``data-short``) tries it before it is hidden. Zooming in
    brings the hidden and shortened labels back as room appears.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, labels) {
            var items = labels.map(function (l) {
                var marker = L.marker([l[0], l[1]], {
                    icon: L.divIcon({html: l[2], className: "cp-label-icon", iconSize: [160, 16], iconAnchor: [80, 8]}),
                    interactive: false, keyboard: false
                }).addTo(map);
                return {marker: marker, rank: l[3], box: l[4]};
            });
            items.sort(function (a, b) { return b.rank - a.rank; });
            function declutter() {
                var size = map.getSize();
                if (!size.x || !size.y) return;  // not laid out yet (a hidden frame): decide once it is
                var kept = [];
                // the box a label would take (from the map's projection and the text's layout size: right
                // even mid-animation), or null when it does not fit its shape or overlaps one kept before
                function room(el, p, box) {
                    var w = el.offsetWidth, h = el.offsetHeight;
                    if (!w) return null;
                    if (box) {
                        var sw = map.latLngToContainerPoint([box[0], box[1]]);
                        var ne = map.latLngToContainerPoint([box[2], box[3]]);
                        if (w > Math.abs(ne.x - sw.x) || h > Math.abs(sw.y - ne.y)) return null;
                    }
                    var r = {left: p.x - w / 2, right: p.x + w / 2, top: p.y - h / 2, bottom: p.y + h / 2};
                    return kept.some(function (k) {
                        return r.left < k.right + 3 && k.left < r.right + 3
                            && r.top < k.bottom + 1 && k.top < r.bottom + 1;
                    }) ? null : r;
                }
                items.forEach(function (it) {
                    var icon = it.marker.getElement();
                    if (!icon || !icon.firstElementChild) return;
                    var el = icon.firstElementChild, p = map.latLngToContainerPoint(it.marker.getLatLng());
                    if (it.full === undefined) it.full = el.textContent;
                    // the full name, else its short form (data-short), else nothing
                    var forms = el.dataset.short ? [it.full, el.dataset.short] : [it.full], r = null;
                    for (var i = 0; i < forms.length && !r; i++) {
                        el.textContent = forms[i];  // text, never HTML
                        r = room(el, p, it.box);
                    }
                    if (r) kept.push(r);
                    else el.textContent = it.full;
                    icon.classList.toggle("cp-hidden", !r);
                });
                var c = map.getContainer();  // what was decided, and at which zoom (for tests)
                c.dataset.cpLabels = kept.length + "/" + items.length;
                c.dataset.cpLabelsZoom = String(map.getZoom());
            }
            map.whenReady(function () { declutter(); window.requestAnimationFrame(declutter); });
            map.on("zoomend viewreset resize", declutter);
        })({{ this._parent.get_name() }}, {{ this.labels|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[tuple]):
        super().__init__()
        self._name = "Labels"
        self.labels = [
            [round(lat, 5), round(lon, 5), html_, float(rank), [round(float(v), 5) for v in box] if box else None]
            for lat, lon, html_, rank, box in labels
        ]


def section_label_texts(sections: pd.DataFrame, muni_name: Callable[[str], str]) -> list[str]:
    """A label per section: its name, or its municipality's name (in the reader's language) for a section
    that is its municipality ("Municipality of Deçan" is labelled "Deçan", once)."""
    return [
        muni_name(str(m)) if places.names_the_municipality(n, m) else str(n)
        for n, m in zip(sections["section_name"], sections["municipality"], strict=True)
    ]


def _label(lat: float, lon: float, text: str, css: str, short: str = "") -> tuple[float, float, str]:
    """A label's HTML (escaped here); ``short``: a shorter form the map shows when the full one has no room."""
    alt = f' data-short="{html_text(short)}"' if short and short != text else ""
    return (float(lat), float(lon), f'<div class="cp-label {css}"{alt}>{html_text(text)}</div>')


def short_name(name: str) -> str:
    """A section's name without the numbered prefix many section names carry ("Prishtinë 38 – Rrilin" →
    "Rrilin"); ``""`` when there is none."""
    for dash in (" – ", " — ", " - "):
        head, sep, tail = name.rpartition(dash)
        if sep and head.strip() and tail.strip():
            return tail.strip()
    return ""


def shape_labels(
    frame: gpd.GeoDataFrame, names: list[str], css: str, fit: bool = False, short: bool = False
) -> list[tuple[float, float, str, float, list[float] | None]]:
    """Labels for :class:`_Labels`: each shape's name at a point on its surface, ranked by the shape's area
    (larger first); with ``fit`` a label is shown only when it fits inside its shape's bounding box; with
    ``short`` a name's :func:`short_name` is tried before the label is dropped."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if not len(geoms):
        return []
    pts = shapely.point_on_surface(geoms)
    areas = shapely.area(geoms)  # square degrees: only the order matters
    boxes = shapely.bounds(geoms)  # minx, miny, maxx, maxy
    out = []
    for p, name, area, (x0, y0, x1, y1) in zip(pts, names, areas, boxes, strict=True):
        lat, lon, html_ = _label(p.y, p.x, name, css, short_name(name) if short else "")
        out.append((lat, lon, html_, float(area), [y0, x0, y1, x1] if fit else None))
    return out


def map_labels(
    geometry: DisplayGeometry, muni_name: Callable[[str], str]
) -> list[tuple[float, float, str, float, list[float] | None]]:
    """Section names when few sections are shown (each only where it fits), municipality names otherwise."""
    sections = geometry.sections
    if 0 < len(sections) <= MAX_SECTION_LABELS:
        return shape_labels(sections, section_label_texts(sections, muni_name), "cp-section", fit=True, short=True)
    munis = geometry.municipalities
    return shape_labels(munis, [muni_name(str(n)) for n in munis["municipality"]], "cp-municipality")


def _section_layer(
    features: dict,
    style,
    tooltip: folium.GeoJsonTooltip | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> folium.GeoJson:
    """The sections as one GeoJSON layer with a hover highlight; the tooltip shows the ``tip`` property
    unless another is given. ``bounds`` (minx, miny, maxx, maxy): spares folium a walk over every coordinate."""
    return _GeoJson(
        features,
        bounds=bounds,
        name="sections",
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=tooltip or folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        zoom_on_click=False,
        smooth_factor=0.5,
    )


def choropleth(
    geometry: DisplayGeometry,
    measures: pd.DataFrame,
    measure: str,
    _: Callable[..., str],
    *,
    assets: Assets,
    number: Callable[..., str] | None = None,
    title: str = "",
    basemap: Basemap | None = None,
    selected: str = "",
    withheld: Mapping[str, str] | None = None,
    classes: Classes | None = None,
) -> folium.Map:
    """Sections coloured by ``measure`` with municipality and region outlines on top.

    Parameters
    ----------
    geometry
        From :func:`display_geometry`, already narrowed to the sections to show.
    measures
        From :func:`geo.figures.section_measures`, indexed by ``section_id``.
    measure
        ``rate`` (per 1,000 residents), ``rate_smoothed`` (the same, empirical-Bayes
        smoothed: :func:`geo.figures.smoothed_rates`), ``count``, ``change`` (vs the previous
        period) or ``change_year`` (vs the same days a year earlier). Changes
        are coloured by their flag (``flag``/``flag_year`` columns, :mod:`geo.compare`:
        the exact test with the false discovery rate controlled across the
        sections): grey unless noteworthy; "no comparison" hatched.
    _
        The translator (:class:`geo.i18n.Translator`); its ``number``,
        ``municipality`` and ``region`` methods are used when present.
    assets
        Where Leaflet is served (:func:`geo.offline.leaflet_assets`).
    title
        The legend's title (translated by the caller; escaped here).
    selected
        A ``section_id`` to outline more strongly.
    withheld
        Public version (``measures`` from :meth:`geo.public.PublicPolicy.measures` on published counts):
        the text shown instead of a count, by the kind in its ``*_withheld`` column (``{"small": "fewer
        than 5"}``, :meth:`geo.public.PublicPolicy.texts`). Those sections are left uncoloured, with a
        legend entry of their own, and their values take no part in the classes.
    classes
        Class breaks of ``rate``, ``rate_smoothed`` or ``count``: :func:`sequential_classes` of all of
        Kosovo's sections, so the same colour means the same values in every area; default: quantiles of
        the sections shown (stretched to the area).
    """
    if measure not in ("rate", "rate_smoothed", "count", "change", "change_year"):
        raise ValueError(f"measure must be one of rate, rate_smoothed, count, change, change_year; got {measure!r}")
    number = number or getattr(_, "number", None) or (lambda x, decimals=0: f"{x:,.{decimals}f}")
    muni_name = getattr(_, "municipality", None) or (lambda s: s)
    region_name = getattr(_, "region", None) or (lambda s: s)

    sections = geometry.sections
    ids = sections["section_id"].tolist()
    m_ = measures.reindex(pd.Index(ids, name="section_id"))
    is_change = measure in ("change", "change_year")
    flag_col = "flag" if measure == "change" else "flag_year"
    flag_text = getattr(_, "label", None)

    def col(name: str) -> list:
        return m_[name].tolist() if name in m_.columns else [None] * len(m_)

    # public version: uncoloured because a count is withheld (dotted), not because there is none (hatched)
    kinds_of = {"change": ("count", "previous"), "change_year": ("count", "year_earlier")}.get(measure, ("count",))
    held_kinds = list(zip(*(col(f"{c}_withheld") for c in kinds_of), strict=True))
    hidden = [bool(withheld) and any(k in withheld for k in ks) for ks in held_kinds]
    # a value made from a count shown as "fewer than N" is no class bound and has no colour
    values = m_[measure].astype("float64").mask(np.array(hidden, dtype=bool)) if any(hidden) else m_[measure]
    if is_change:
        flags = m_[flag_col].fillna("no_data").astype(str).tolist()
        colors = [FLAG_COLOURS.get(f, NO_DATA) for f in flags]
        classes = Classes((), (), True)
        nodata = [f not in FLAG_COLOURS for f in flags]
    else:
        classes = classes if classes is not None else sequential_classes(values)
        colors = classes.color(values)
        nodata = [bool(k < 0) for k in classes.classify(values)]
    colors = [NO_DATA if h else c for c, h in zip(colors, hidden, strict=True)]
    nodata = [nd or h for nd, h in zip(nodata, hidden, strict=True)]
    held = hidden  # uncoloured because a count shows as "fewer than N" (dotted), not for want of data (hatched)
    held_text = " / ".join(
        dict.fromkeys(withheld[k] for ks, h in zip(held_kinds, held) if h for k in ks if k in withheld)
    )
    decimals = 0 if classes.integer else (2 if measure in ("rate", "rate_smoothed") else 1)

    def fmt(x: float, signed: bool = False) -> str:
        if x is None or not np.isfinite(x):
            return "–"
        s = number(x, decimals=decimals)
        return f"+{s}" if signed and x > 0 else s

    def signed_n(v: object) -> str:
        if v is None or pd.isna(v):
            return "–"
        return f"+{number(v)}" if v > 0 else number(v)

    def p_text(pv: object, adj: object) -> str:
        """`` · p = 0.03 (0.41)``: the section's p-value and, in brackets, adjusted across the sections shown."""
        if pv is None or pd.isna(pv):
            return ""
        text = " · " + compare.p_text(float(pv), _)
        if adj is not None and pd.notna(adj):
            text += f" ({number(adj, decimals=3 if adj < 0.01 else 2)})"
        return text

    def num(v: object, d: int = 0) -> str:
        return "–" if v is None or pd.isna(v) else number(v, decimals=d)

    def nums(name: str, d: int = 0) -> list[str]:
        return _.numbers(col(name), decimals=d) if hasattr(_, "numbers") else [num(v, d) for v in col(name)]

    def counts(name: str) -> list[str]:
        """A count per section; the ``withheld`` text where the public version withholds it."""
        shown = nums(name)
        if not withheld:
            return shown
        kinds = col(f"{name}_withheld")
        return [html_text(withheld[k]) if k in withheld else t for t, k in zip(shown, kinds, strict=True)]

    pv, pv_fdr, pv_year, pv_year_fdr = col("p"), col("p_fdr"), col("p_year"), col("p_year_fdr")
    fields = {
        "tip": [html_text(n) for n in sections["section_name"].astype(str)],  # the name; "tip" as before
        "t1": [  # municipality · region, once where the two have the same name (Prishtinë)
            html_text(a) if a == b else f"{html_text(a)} · {html_text(b)}"
            for a, b in (
                (muni_name(str(x)), region_name(str(y)))
                for x, y in zip(sections["municipality"], sections["region"], strict=True)
            )
        ],
        "t2": counts("count"),
        "t3": counts("previous"),
        "t4": [html_text(signed_n(v) + p_text(a, b)) for v, a, b in zip(col("change"), pv, pv_fdr, strict=True)],
    }
    p_note = " · " + _("p (adjusted across the sections shown)") if is_change else ""
    aliases = [
        _("Police section"),
        _("Area"),
        _("Incidents"),
        _("Previous period"),
        _("Change vs previous period") + p_note,
    ]
    if "year_earlier" in m_.columns:
        fields["t5"] = counts("year_earlier")
        fields["t6"] = [
            html_text(signed_n(v) + p_text(a, b))
            for v, a, b in zip(col("change_year"), pv_year, pv_year_fdr, strict=True)
        ]
        aliases += [_("A year earlier"), _("Change vs a year earlier") + p_note]
    fields["t7"] = nums("rate", 2)
    aliases += [_("Per 1,000 residents")]
    if "rate_smoothed" in m_.columns:
        fields["t9"] = nums("rate_smoothed", 2)
        aliases += [_("Per 1,000 residents, smoothed")]
    fields["t8"] = nums("population")
    aliases += [_("Residents")]

    props = {"section_id": ids, **fields, "c": colors, "nd": nodata, "wh": held}
    bounds = tuple(sections.total_bounds) if len(sections) else None
    m = base_map(bounds, assets, basemap)

    def style(feature: dict) -> dict:
        p = feature["properties"]
        chosen = selected and feature["id"] == selected
        s = {
            "fillColor": p["c"],
            "fillOpacity": 0.85,
            "color": "#000000" if chosen else OUTLINE,
            "weight": 3 if chosen else 0.6,
        }
        if p["nd"]:
            s["className"] = "cp-withheld" if p.get("wh") else "cp-nodata"
        return s

    _section_layer(
        _features(sections, props),
        style,
        tooltip=folium.GeoJsonTooltip(
            fields=list(fields), aliases=[html_text(a) for a in aliases], labels=True, sticky=True
        ),
        bounds=tuple(sections.total_bounds) if len(sections) else None,
    ).add_to(m)

    show_munis = len(geometry.municipalities) > 0
    show_regions = geometry.regions["region"].nunique() > 1
    outline_keys = [(_("Municipality boundary"), 1.8, MUNICIPALITY_LINE)] if show_munis else []
    if show_munis:
        _GeoJson(
            _features(geometry.municipalities, {"municipality": geometry.municipalities["municipality"].tolist()}),
            name="municipalities",
            bounds=tuple(geometry.municipalities.total_bounds),
            style_function=lambda f: {"fill": False, "color": MUNICIPALITY_LINE, "weight": 1.8, "opacity": 0.9},
            interactive=False,
            smooth_factor=0.5,
        ).add_to(m)
    if show_regions:
        outline_keys.append((_("Police region boundary"), 3.5, REGION_LINE))
        _GeoJson(
            _features(geometry.regions, {"region": geometry.regions["region"].tolist()}),
            name="regions",
            bounds=tuple(geometry.regions.total_bounds),
            style_function=lambda f: {"fill": False, "color": REGION_LINE, "weight": 3.5, "opacity": 0.9},
            interactive=False,
            smooth_factor=0.5,
        ).add_to(m)

    # labels: section names when few sections are shown, municipality names otherwise
    labels = map_labels(geometry, muni_name)
    if labels:
        _Labels(labels).add_to(m)

    if is_change:

        def flag_name(f: str) -> str:
            return flag_text("change_flag", f) if flag_text else compare.FLAG_TEXT[f]

        entries = [(FLAG_COLOURS[f], flag_name(f)) for f in compare.CHANGES]
        body = category_legend_html(title, entries, ())
        missing = {
            f if f == compare.NO_COMPARISON else "no_data"
            for f, nd, wh in zip(flags, nodata, held, strict=True)
            if nd and not wh
        }
        for f in sorted(missing):  # hatched: "no comparison", then "no data"
            text = flag_name(f) if f == compare.NO_COMPARISON else _("No data")
            body += (
                '<div class="cp-row"><span class="cp-swatch cp-nodata-swatch"></span>'
                f"<span>{html_text(text)}</span></div>"
            )
        body += (_withheld_row(held_text) if held_text else "") + "".join(_legend_line_rows(tuple(outline_keys)))
        note = _(
            "Each section is tested exactly for its two periods; with many sections at once, the false "
            "discovery rate is kept below the stated levels across them (Benjamini–Hochberg)."
        )
        body += f'<div class="cp-note" style="margin-top:4px;font-size:11px;color:#444">{html_text(note)}</div>'
    else:
        body = legend_html(
            title,
            classes,
            fmt,
            _,
            show_no_data=any(nd and not wh for nd, wh in zip(nodata, held, strict=True)),
            lines=tuple(outline_keys),
            withheld_text=held_text,
        )
    _Legend(body).add_to(m)
    return m


# ---------------------------------------------------------------- more maps: shared pieces


def png_bytes(rgba: np.ndarray) -> bytes:
    """An RGBA image (``uint8``, rows from the top) as PNG bytes, without any imaging library."""
    import struct
    import zlib

    img = np.ascontiguousarray(rgba, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"rgba must have shape (height, width, 4); got {img.shape}")
    h, w = img.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), img.reshape(h, w * 4)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


#: ColorBrewer YlOrRd anchors for the density surface (distinct from the Gi* RdBu and the YlGnBu choropleths).
DENSITY_RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def ramp(t: np.ndarray, colours: tuple[str, ...] = DENSITY_RAMP) -> np.ndarray:
    """Colours (``uint8`` RGB, shape ``t.shape + (3,)``) interpolated along ``colours`` for ``t`` in [0, 1]."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    anchors = np.array([_hex_rgb(c) for c in colours], dtype=float)
    pos = np.linspace(0, 1, len(colours))
    rgb = np.stack([np.interp(t, pos, anchors[:, k]) for k in range(3)], axis=-1)
    return np.round(rgb).astype(np.uint8)


@dataclass(frozen=True)
class DensityOverlay:
    """A density surface drawn as one PNG image (a data URL) and where it goes on the map (degrees)."""

    url: str
    bounds: tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
    vmax: float  # density at the top of the colour ramp, incidents per km²
    threshold: float  # densities below this are transparent, incidents per km²
    size: tuple[int, int]  # (width, height) in pixels

    def colour_at(self, value: float) -> str:
        """The ramp's colour for a density (per km²): square-root scale up to :attr:`vmax`."""
        rgb = ramp(np.sqrt(np.clip(value / self.vmax, 0, 1)))
        return "#" + "".join(f"{int(v):02x}" for v in rgb)


def density_overlay(
    grid,
    mask: shapely.Geometry | None = None,
    max_px: int = 720,
    threshold: float = 0.02,
) -> DensityOverlay | None:
    """Colour a :class:`geo.hotspots.DensityGrid` (EPSG:9141) and warp it to the map's projection as one PNG.

    Leaflet stretches an image overlay linearly in Web Mercator, so the image
    is resampled on a regular Web Mercator raster (nearest grid cell): it
    lines up with the sections at every zoom. Its size depends on the grid,
    never on the number of incidents (at most ``max_px`` pixels a side).
    Colours: :data:`DENSITY_RAMP` on a square-root scale up to the highest
    density inside ``mask``; transparent outside ``mask`` (a polygon in
    EPSG:9141, e.g. the selected sections) and where the density is below
    ``threshold`` × that maximum. ``None`` when the surface is zero everywhere.
    """
    from pyproj import Transformer

    if not 0 <= threshold < 1:
        raise ValueError(f"threshold is a share of the maximum in [0, 1); got {threshold!r}")
    xmin, ymin, xmax, ymax = grid.bounds
    ring = shapely.segmentize(shapely.box(xmin, ymin, xmax, ymax), max(xmax - xmin, ymax - ymin) / 50)
    to_merc = Transformer.from_crs("EPSG:9141", "EPSG:3857", always_xy=True)
    from_merc = Transformer.from_crs("EPSG:3857", "EPSG:9141", always_xy=True)
    to_deg = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    cx, cy = shapely.get_coordinates(ring).T
    mx, my = to_merc.transform(cx, cy)
    mx0, mx1, my0, my1 = float(np.min(mx)), float(np.max(mx)), float(np.min(my)), float(np.max(my))
    ny_cells, nx_cells = grid.density.shape
    scale = (mx1 - mx0) / max(1, nx_cells)
    width = int(min(max_px, max(1, round((mx1 - mx0) / scale))))
    height = int(min(max_px, max(1, round((my1 - my0) / scale))))
    if width == max_px or height == max_px:
        step = max((mx1 - mx0) / max_px, (my1 - my0) / max_px)
        width, height = max(1, int(round((mx1 - mx0) / step))), max(1, int(round((my1 - my0) / step)))
    px = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    py = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height  # rows from the top (north)
    gx, gy = np.meshgrid(px, py)
    x, y = from_merc.transform(gx.ravel(), gy.ravel())
    x, y = np.asarray(x), np.asarray(y)
    value = grid.value_at(x, y)
    inside = np.ones(len(value), dtype=bool)
    if mask is not None and not shapely.is_empty(mask):
        shapely.prepare(mask)
        inside = shapely.contains_xy(mask, x, y)
    vmax = float(value[inside].max()) if inside.any() else 0.0
    if not np.isfinite(vmax) or vmax <= 0:
        return None
    t = np.sqrt(np.clip(value / vmax, 0, 1))
    rgb = ramp(t)
    visible = inside & (value >= threshold * vmax)
    alpha = np.where(visible, np.round(255 * (0.35 + 0.5 * t)), 0).astype(np.uint8)
    rgba = np.concatenate([rgb, alpha[:, None]], axis=1).reshape(height, width, 4)
    import base64

    url = "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")
    (w_lon, e_lon), (s_lat, n_lat) = (
        np.asarray(v) for v in to_deg.transform(np.array([mx0, mx1]), np.array([my0, my1]))
    )
    bounds = ((round(float(s_lat), 6), round(float(w_lon), 6)), (round(float(n_lat), 6), round(float(e_lon), 6)))
    return DensityOverlay(url, bounds, vmax, threshold * vmax, (width, height))


class _ImageOverlay(MacroElement):
    """One image over the map (beneath the vector layers added after it); not interactive."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.imageOverlay({{ this.url|tojson }}, {{ this.bounds|tojson }},
                       {opacity: 1, interactive: false, className: "cp-density", alt: {{ this.alt|tojson }}})
         .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, bounds, alt: str = ""):
        super().__init__()
        self._name = "ImageOverlay"
        self.url = url
        self.bounds = [list(bounds[0]), list(bounds[1])]
        self.alt = alt


def gradient_legend_html(title: str, overlay: DensityOverlay, number: Callable[..., str], note: str = "") -> str:
    """A compact legend for the density surface: a colour bar on its square-root scale, labelled at its
    start, middle (a quarter of the maximum) and end; texts escaped here."""
    stops = ", ".join(f"{overlay.colour_at(overlay.vmax * (i / 10) ** 2)} {i * 10}%" for i in range(11))
    decimals = 0 if overlay.vmax >= 20 else (1 if overlay.vmax >= 2 else 2)
    ticks = (overlay.threshold, overlay.vmax * 0.25, overlay.vmax)  # at 0 %, 50 % and 100 % of the bar
    labels = "".join(f"<span>{html_text(number(v, decimals=decimals))}</span>" for v in ticks)
    bar = f'<div style="height:10px;margin:2px 0 1px;background:linear-gradient(to right, {stops})"></div>'
    scale = f'<div style="display:flex;justify-content:space-between;gap:8px">{labels}</div>'
    extra = f'<div style="margin-top:2px;color:#555">{html_text(note)}</div>' if note else ""
    return f'<div class="cp-title">{html_text(title)}</div>{bar}{scale}{extra}'


def category_legend_html(title: str, entries: list[tuple[str, str]], lines: tuple = (), outlined: bool = False) -> str:
    """A legend of named colours ``[(colour, text), …]`` (texts escaped here) and optional outline keys.

    ``outlined``: the colours are drawn as outlines (see :func:`section_fill_map`), so are the swatches.
    """
    parts = [f'<div class="cp-title">{html_text(title)}</div>']
    for colour, text in entries:
        style = f"background:transparent;border:3px solid {colour}" if outlined else f"background:{colour}"
        parts.append(
            f'<div class="cp-row"><span class="cp-swatch" style="{style}"></span><span>{html_text(text)}</span></div>'
        )
    parts.extend(_legend_line_rows(lines))
    return "".join(parts)


def tip_html(title: str, subtitle: str, rows: list[tuple[str, str]]) -> str:
    """A tooltip: bold title, a line under it, a two-column table; every text escaped here."""
    cells = "".join(f'<tr><td>{html_text(k)}</td><td class="cp-num">{html_text(v)}</td></tr>' for k, v in rows)
    sub = f"{html_text(subtitle)}" if subtitle else ""
    return f'<div class="cp-tip"><b>{html_text(title)}</b><br>{sub}<table>{cells}</table></div>'


def _outlines(m: folium.Map, geometry: DisplayGeometry, _: Callable[..., str]) -> list[tuple[str, float, str]]:
    keys = []
    if len(geometry.municipalities):
        keys.append((_("Municipality boundary"), 1.8, MUNICIPALITY_LINE))
        folium.GeoJson(
            _features(geometry.municipalities, {"municipality": geometry.municipalities["municipality"].tolist()}),
            name="municipalities",
            style_function=lambda f: {"fill": False, "color": MUNICIPALITY_LINE, "weight": 1.8, "opacity": 0.9},
            interactive=False,
            smooth_factor=0.5,
        ).add_to(m)
    if geometry.regions["region"].nunique() > 1:
        keys.append((_("Police region boundary"), 3.5, REGION_LINE))
        folium.GeoJson(
            _features(geometry.regions, {"region": geometry.regions["region"].tolist()}),
            name="regions",
            style_function=lambda f: {"fill": False, "color": REGION_LINE, "weight": 3.5, "opacity": 0.9},
            interactive=False,
            smooth_factor=0.5,
        ).add_to(m)
    return keys


def _name_labels(m: folium.Map, geometry: DisplayGeometry, muni_name: Callable[[str], str]) -> None:
    labels = map_labels(geometry, muni_name)
    if labels:
        _Labels(labels).add_to(m)


def section_fill_map(
    geometry: DisplayGeometry,
    fills: list[str | None],
    tips: list[str],
    legend: str,
    _: Callable[..., str],
    *,
    assets: Assets,
    basemap: Basemap | None = None,
    selected: str = "",
    overlay: DensityOverlay | None = None,
    overlay_alt: str = "",
    cells: gpd.GeoDataFrame | None = None,
    cell_fills: list[str] | None = None,
    cell_tips: list[str] | None = None,
    fill_opacity: float = 0.85,
    labels: bool = True,
    outlined: bool = False,
) -> folium.Map:
    """Sections filled with given colours (``None``: not filled, the layers beneath show), with outlines on top.

    ``outlined``: draw the colours as thick section outlines instead of fills,
    so that an ``overlay`` beneath stays readable.

    ``tips`` are tooltip HTML the caller built with :func:`tip_html` (escaped).
    ``legend`` is legend HTML (escaped by the caller's builder). Optional
    ``overlay`` (a density image, drawn beneath the sections) and ``cells``
    (grid cells in EPSG:4326 with their own fills and tooltips, drawn above
    the sections).
    """
    muni_name = getattr(_, "municipality", None) or (lambda s: s)
    sections = geometry.sections
    ids = sections["section_id"].tolist()
    if len(fills) != len(ids) or len(tips) != len(ids):
        raise ValueError(f"fills and tips need one entry per section ({len(ids)}); got {len(fills)} and {len(tips)}")
    bounds = tuple(sections.total_bounds) if len(sections) else None
    m = base_map(bounds, assets, basemap)
    if overlay is not None:
        _ImageOverlay(overlay.url, overlay.bounds, overlay_alt).add_to(m)
    props = {"section_id": ids, "tip": tips, "c": [f or "" for f in fills]}

    def style(feature: dict) -> dict:
        p = feature["properties"]
        chosen = selected and feature["id"] == selected
        if outlined:
            return {
                "fillColor": "#ffffff",
                "fillOpacity": 0.0,
                "color": "#000000" if chosen else (p["c"] or OUTLINE),
                "weight": 3 if (chosen or p["c"]) else 0.6,
            }
        return {
            "fillColor": p["c"] or "#ffffff",
            "fillOpacity": fill_opacity if p["c"] else 0.0,
            "color": "#000000" if chosen else OUTLINE,
            "weight": 3 if chosen else 0.6,
        }

    _section_layer(_features(sections, props), style).add_to(m)
    if cells is not None and len(cells):
        cell_fills = cell_fills or [NO_DATA] * len(cells)
        cell_tips = cell_tips or [""] * len(cells)
        cell_geo = cells.to_crs("EPSG:4326") if cells.crs is not None and not cells.crs.equals("EPSG:4326") else cells
        cell_geo = cell_geo.set_geometry(_round(np.asarray(cell_geo.geometry.values, dtype=object), DISPLAY_DECIMALS))
        folium.GeoJson(
            _features(cell_geo, {"cell_id": cells["cell_id"].astype(str).tolist(), "tip": cell_tips, "c": cell_fills}),
            name="cells",
            style_function=lambda f: {
                "fillColor": f["properties"]["c"],
                "fillOpacity": 0.85,
                "color": "#555555",
                "weight": 0.3,
            },
            highlight_function=lambda f: {"weight": 2, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
            zoom_on_click=False,
        ).add_to(m)
    keys = _outlines(m, geometry, _)
    if labels:
        _name_labels(m, geometry, muni_name)
    if keys:
        legend += category_legend_html("", [], tuple(keys)).replace('<div class="cp-title"></div>', "")
    _Legend(legend).add_to(m)
    return m


def municipality_map(
    municipalities: gpd.GeoDataFrame,
    fills: list[str],
    tips: list[str],
    legend: str,
    _: Callable[..., str],
    *,
    assets: Assets,
    basemap: Basemap | None = None,
    regions: gpd.GeoDataFrame | None = None,
    selected: str = "",
) -> folium.Map:
    """Municipalities (from :class:`DisplayGeometry`) filled with given colours, labelled, with tooltips.

    Features carry the municipality's canonical name as ``id`` (a click returns it).
    """
    muni_name = getattr(_, "municipality", None) or (lambda s: s)
    names = municipalities["municipality"].astype(str).tolist()
    if len(fills) != len(names) or len(tips) != len(names):
        raise ValueError(f"fills and tips need one entry per municipality ({len(names)})")
    bounds = tuple(municipalities.total_bounds) if len(municipalities) else None
    m = base_map(bounds, assets, basemap)
    feats = _features(municipalities, {"tip": tips, "c": fills})
    for f, name in zip(feats["features"], names, strict=True):
        f["id"] = name
    folium.GeoJson(
        feats,
        name="municipalities",
        style_function=lambda f: {
            "fillColor": f["properties"]["c"],
            "fillOpacity": 0.85,
            "color": "#000000" if selected and f["id"] == selected else MUNICIPALITY_LINE,
            "weight": 3 if selected and f["id"] == selected else 1.2,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        zoom_on_click=False,
        smooth_factor=0.5,
    ).add_to(m)
    keys = []
    if regions is not None and regions["region"].nunique() > 1:
        keys.append((_("Police region boundary"), 3.5, REGION_LINE))
        folium.GeoJson(
            _features(regions, {"region": regions["region"].tolist()}),
            name="regions",
            style_function=lambda f: {"fill": False, "color": REGION_LINE, "weight": 3.5, "opacity": 0.9},
            interactive=False,
            smooth_factor=0.5,
        ).add_to(m)
    if len(municipalities):
        _Labels(shape_labels(municipalities, [muni_name(n) for n in names], "cp-municipality")).add_to(m)
    if keys:
        legend += category_legend_html("", [], tuple(keys)).replace('<div class="cp-title"></div>', "")
    _Legend(legend).add_to(m)
    return m
