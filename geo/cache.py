"""The dashboard's caches: the one module of ``geo`` that imports Streamlit.

Every cached function takes small hashable arguments: the data source's
``fingerprint()`` plus filter values. Objects that cannot or should not be
hashed (the source, the loaded dataset) are passed with a leading underscore,
which Streamlit leaves out of the key; the fingerprint stands for them.

* :func:`dataset` and :func:`geometry` use ``st.cache_resource``: one shared
  object for all sessions, never copied. Nothing may modify them; every
  function in :mod:`geo.figures` returns new frames.
* Figures that depend on filters use ``st.cache_data`` (each caller gets its
  own copy) with ``max_entries`` so a long-running server stays small.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from geo import figures, maps, offline, public, uploads
from geo.dataset import Dataset
from geo.public import PublicPolicy, PublishedCube
from geo.source import DataSource


@st.cache_resource(show_spinner=False)
def leaflet_ready(static_dir: str = str(offline.STATIC_DIR)) -> str:
    """Copy Leaflet into the served static folder once per server process."""
    return str(offline.ensure_leaflet(Path(static_dir)))


@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(_source: DataSource, fingerprint: str, policy: PublicPolicy | None) -> Dataset:
    data = _source.load()
    return policy.apply(data) if policy is not None else data


def dataset(source: DataSource, policy: PublicPolicy | None = None) -> Dataset:
    """The loaded, joined dataset of ``source`` (shared; do not modify); its public copy when a
    :class:`~geo.public.PublicPolicy` is given. Cache keys of figures from a public copy must differ
    from the restricted ones: use :func:`fingerprint`."""
    return _dataset(source, source.fingerprint(), policy)


def fingerprint(source: DataSource, policy: PublicPolicy | None = None) -> str:
    """The key that stands for ``dataset(source, policy)`` in the caches below."""
    return source.fingerprint() + ("" if policy is None else f"|public:{policy!r}")


@st.cache_resource(max_entries=4, show_spinner=False)
def _geometry(_data: Dataset, fingerprint: str) -> maps.DisplayGeometry:
    return maps.display_geometry(_data.sections)


def geometry(data: Dataset, fingerprint: str) -> maps.DisplayGeometry:
    """Simplified section shapes and outlines for drawing (shared; do not modify)."""
    return _geometry(data, fingerprint)


@st.cache_data(max_entries=64, show_spinner=False)
def section_measures(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    categories: tuple[str, ...],
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """:func:`geo.figures.section_measures` for the sections of a region/municipality."""
    sections = figures.select_sections(_data.sections, figures.Filters(region, municipality))
    return figures.section_measures(sections, _data.cube, figures.Period(start, end), categories)


@st.cache_data(max_entries=32, show_spinner=False)
def public_measures(
    _data: Dataset, fingerprint: str, policy: PublicPolicy, categories: tuple[str, ...], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Every section's measures on the public dataset's cube (published counts), fit for public view
    (:meth:`PublicPolicy.measures`: "fewer than N" takes the rate and changes made from it). For all
    sections at once, so that every page and area filter shows the same figures."""
    measures = figures.section_measures(_data.sections, _data.cube, figures.Period(start, end), categories)
    return policy.measures(measures)


@st.cache_data(max_entries=64, show_spinner=False)
def headlines(
    _data: Dataset, fingerprint: str, filters: figures.Filters, start: dt.date, end: dt.date
) -> dict[str, figures.Headline]:
    """:func:`geo.figures.headlines` for the chosen area and period; of a public dataset, its published
    figures (:func:`geo.public.headlines`)."""
    period = figures.Period(start, end)
    if isinstance(_data.cube, PublishedCube):
        return public.headlines(_data.cube.policy, _data, filters, period)
    return figures.headlines(_data.cube, _data.concerns, _data.committees, _data.sections, filters, period)


@st.cache_data(max_entries=32, show_spinner=False)
def file_columns(path: str, input: str, mtime_ns: int, layer: str = "") -> tuple[list[str], str]:
    """The columns of an uploaded file (of ``layer``, default the first) and the reason when it cannot be
    read (``""`` when it can)."""
    return uploads.read_columns(Path(path), input, layer or None)


@st.cache_data(max_entries=32, show_spinner=False)
def file_guess(path: str, input: str, mtime_ns: int, layer: str = "") -> dict[str, str]:
    """The column mapping guessed for an uploaded file's layer (:func:`geo.uploads.guess_mapping`)."""
    return uploads.guess_mapping(Path(path), input, layer=layer or None)


@st.cache_data(max_entries=64, show_spinner=False)
def file_labels(path: str, input: str, column: str, mtime_ns: int, layer: str = "") -> list[str]:
    """The distinct values of one column of an uploaded file (at most 200)."""
    return uploads.distinct_values(Path(path), input, column, layer=layer or None)


@st.cache_data(max_entries=32, show_spinner=False)
def file_layers(path: str, mtime_ns: int) -> list[str]:
    """The layers of an uploaded GeoPackage or zip (``[]`` for other files)."""
    from geo.io import layers_of

    if Path(path).suffix.lower() not in (".gpkg", ".zip"):
        return []
    return layers_of(Path(path))


# ---------------------------------------------------------------- hotspots


def _area(data: Dataset, region: str, municipality: str):
    return figures.select_sections(data.sections, figures.Filters(region, municipality))


@st.cache_data(max_entries=32, show_spinner=False)
def section_hotspots(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    categories: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    measure: str,
    kind: str,
    threshold_m: float | None,
    permutations: int,
    policy: PublicPolicy | None = None,
) -> pd.DataFrame:
    """Gi* on the sections of the area (:func:`geo.hotspots.section_hotspots`, seed 0).

    ``policy`` (public version, ``_data`` a public dataset): Gi* of the published counts. Counts that show
    as "fewer than N" (:func:`public_measures`) enter the statistic as 0, and their sections are "not
    significant" with no z, as on the command line: the neighbours' z would otherwise give them back.
    """
    from geo import hotspots

    if policy is not None and not isinstance(_data.cube, PublishedCube):
        raise ValueError("public hot spots are computed from a public dataset's published counts (PublicPolicy.apply)")
    sections = _area(_data, region, municipality)
    ids = pd.Index(sections["section_id"].astype(str))
    counts = figures.incident_counts(_data.cube, figures.Period(start, end), categories, ids)
    withheld = pd.Series(False, index=ids)
    if policy is not None:
        kinds = public_measures(_data, fingerprint, policy, categories, start, end)["count_withheld"]
        withheld = kinds.reindex(ids).fillna("").astype(bool)
        counts = counts.reindex(ids, fill_value=0).where(~withheld, 0)
    result = hotspots.section_hotspots(sections, counts, measure, kind, threshold_m, permutations, seed=0)
    hide = withheld.reindex(result.index).fillna(False).to_numpy(dtype=bool)
    if hide.any():
        result = result.copy()
        result.loc[hide, [c for c in ("z", "p", "p_fdr", "value") if c in result]] = np.nan
        for col in ("label", "label_sim"):
            if col in result:
                result.loc[hide, col] = hotspots.NOT_SIGNIFICANT
    return result


@st.cache_data(max_entries=16, show_spinner=False)
def grid_hotspots(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    categories: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    cell_m: float,
    measure: str,
    kind: str,
    threshold_m: float | None,
    permutations: int,
):
    """Grid cells of the area (EPSG:4326) and Gi* on them; incidents located only by section are not on the grid."""
    from geo import hotspots

    sections = _area(_data, region, municipality)
    cells = hotspots.grid_cells(sections, cell_m)
    points, _unlocated = figures.located_incidents(
        _data.cube, figures.Period(start, end), categories, pd.Index(sections["section_id"].astype(str))
    )
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    counts = hotspots.cell_counts(cells, x, y, points["count"].to_numpy())
    result = hotspots.grid_hotspots(cells, counts, measure, kind, threshold_m, permutations, seed=0)
    return cells.to_crs("EPSG:4326"), result


@st.cache_data(max_entries=16, show_spinner=False)
def density_overlay(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    categories: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    bandwidth_m: float,
):
    """The density surface of the area's located incidents as one image; also (points used, incidents unlocated)."""
    import shapely

    from geo import hotspots

    sections = _area(_data, region, municipality)
    points, unlocated = figures.located_incidents(
        _data.cube, figures.Period(start, end), categories, pd.Index(sections["section_id"].astype(str))
    )
    if points.empty:
        return None, 0, unlocated
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    grid = hotspots.density_for_area(x, y, sections, bandwidth_m, weights=points["count"].to_numpy())
    mask = shapely.union_all(sections.to_crs("EPSG:9141").geometry.values)
    return maps.density_overlay(grid, mask), int(points["count"].sum()), unlocated


@st.cache_data(max_entries=16, show_spinner=False)
def prediction(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    categories: tuple[str, ...],
    train: tuple[dt.date, dt.date],
    test: tuple[dt.date, dt.date],
    share: float,
    bandwidth_m: float,
    kind: str,
    threshold_m: float | None,
    how: str,
) -> pd.DataFrame:
    """:func:`geo.hotspots.compare_predictors` on the sections of the area; ``attrs`` hold the window totals."""
    from geo import hotspots

    sections = _area(_data, region, municipality)
    ids = pd.Index(sections["section_id"].astype(str))
    train_p, test_p = figures.Period(*train), figures.Period(*test)
    train_counts = figures.incident_counts(_data.cube, train_p, categories, ids)
    test_counts = figures.incident_counts(_data.cube, test_p, categories, ids).reindex(ids, fill_value=0)
    points, _unlocated = figures.located_incidents(_data.cube, train_p, categories, ids)
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    scores = hotspots.prediction_scores(
        sections, train_counts, x, y, points["count"].to_numpy(), bandwidth_m, kind, threshold_m, how
    )
    out = hotspots.compare_predictors(scores, test_counts.to_numpy(), hotspots.areas_km2(sections), share)
    out.attrs = {"train_total": int(train_counts.sum()), "test_total": int(test_counts.sum())}
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def agreement(
    _data: Dataset,
    fingerprint: str,
    region: str,
    municipality: str,
    start: dt.date,
    end: dt.date,
    categories: tuple[str, ...],
) -> pd.DataFrame:
    """:func:`geo.concerns.section_agreement` for the sections of the area in a window."""
    from geo import concerns

    sections = _area(_data, region, municipality)
    ids = pd.Index(sections["section_id"].astype(str))
    period = figures.Period(start, end)
    window = concerns.raised_in(_data.concerns, start, end)
    counts = figures.counts_by_category(_data.cube, period, ids)
    return concerns.section_agreement(window, counts, ids, categories)
