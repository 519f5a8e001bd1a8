"""The analyses of an area and a period on a loaded dataset, as the dashboard and the command line show them.

Each function takes the dataset, the area and categories as :class:`geo.figures.Filters`, the period as
:class:`geo.figures.Period` and, for the public version, the :class:`geo.public.PublicPolicy`, and returns a
new frame (the dataset is never modified). The dashboard caches them (``views/cache.py``); the command line
calls them directly, so that both show the same figures.

The area is the sections :func:`geo.figures.select_sections` picks (region, municipality, section as set);
the incident categories are :attr:`Filters.incident_categories`. Gi* and the prediction test are seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import concerns, figures, hotspots
from geo.public import PublicPolicy, PublishedCube
from geo.public import headlines as public_headlines

if TYPE_CHECKING:  # the value type only: the analyses never load data
    from geo.dataset import Dataset

#: Columns of a Gi* result left empty for a section whose published count shows as "fewer than N".
WITHHELD_COLUMNS = ("z", "p", "p_fdr", "p_sim", "value")


def area_sections(data: Dataset, filters: figures.Filters) -> gpd.GeoDataFrame:
    """The sections of the filters' area (a new frame, in the dataset's order)."""
    return figures.select_sections(data.sections, filters)


def _ids(sections: pd.DataFrame) -> pd.Index:
    return pd.Index(sections["section_id"])


def _permutations(permutations: int | str, n_units: int) -> int:
    """``permutations`` as a number: ``"auto"`` is :func:`geo.hotspots.permutations_for` the units."""
    return hotspots.permutations_for(n_units) if permutations == "auto" else int(permutations)


# ---------------------------------------------------------------- measures and headline figures


def area_measures(data: Dataset, filters: figures.Filters, period: figures.Period) -> pd.DataFrame:
    """:func:`geo.figures.section_measures` of the area's sections and the filters' incident categories."""
    return figures.section_measures(area_sections(data, filters), data.cube, period, filters.incident_categories)


def public_measures(
    data: Dataset, policy: PublicPolicy, period: figures.Period, categories: tuple[str, ...]
) -> pd.DataFrame:
    """Every section's measures on a public dataset's cube (published counts), fit for public view
    (:meth:`PublicPolicy.measures`: "fewer than N" takes the rate and changes made from it). For all
    sections at once, so that every page and area filter shows the same figures."""
    measures = figures.section_measures(data.sections, data.cube, period, categories)
    return policy.measures(measures)


def headlines(data: Dataset, filters: figures.Filters, period: figures.Period) -> dict[str, figures.Headline]:
    """:func:`geo.figures.headlines` for the area and period; of a public dataset, its published figures
    (:func:`geo.public.headlines`)."""
    if isinstance(data.cube, PublishedCube):
        return public_headlines(data.cube.policy, data, filters, period)
    return figures.headlines(data.cube, data.concerns, data.committees, data.sections, filters, period)


# ---------------------------------------------------------------- hot spots


def small_sections(
    data: Dataset, policy: PublicPolicy, period: figures.Period, categories: tuple[str, ...], ids: pd.Index
) -> pd.Series:
    """Whether each section of ``ids`` has a published count that shows as "fewer than N" (bool, by id):
    the sections :func:`public_measures` marks in ``count_withheld``."""
    counts = figures.incident_counts(data.cube, period, categories, ids).reindex(ids, fill_value=0)
    return counts.map(policy.is_small).astype(bool)


def section_hotspots(
    data: Dataset,
    filters: figures.Filters,
    period: figures.Period,
    measure: str = "count",
    kind: str = "queen",
    threshold_m: float | None = None,
    permutations: int | str = 0,
    seed: int = 0,
    policy: PublicPolicy | None = None,
) -> pd.DataFrame:
    """Gi* on the area's sections (:func:`geo.hotspots.section_hotspots`); ``permutations`` a number or
    ``"auto"`` (:func:`geo.hotspots.permutations_for` the sections).

    ``policy`` (the public version; ``data`` a public dataset, :meth:`PublicPolicy.apply`): Gi* of the
    published counts. A count that shows as "fewer than N" enters the statistic as 0, and its section is
    "not significant" with no z, p or value (:data:`WITHHELD_COLUMNS`): the neighbours' z would otherwise
    give it back. Raises ``ValueError`` for a public policy on a restricted dataset.
    """
    if policy is not None and not isinstance(data.cube, PublishedCube):
        raise ValueError("public hot spots are computed from a public dataset's published counts (PublicPolicy.apply)")
    sections = area_sections(data, filters)
    ids = _ids(sections)
    categories = filters.incident_categories
    counts = figures.incident_counts(data.cube, period, categories, ids)
    withheld = pd.Series(False, index=ids)
    if policy is not None:
        withheld = small_sections(data, policy, period, categories, ids)
        counts = counts.reindex(ids, fill_value=0).where(~withheld, 0)
    n = _permutations(permutations, len(sections))
    result = hotspots.section_hotspots(sections, counts, measure, kind, threshold_m, n, seed=seed)
    hide = withheld.reindex(result.index).fillna(False).to_numpy(dtype=bool)
    if hide.any():
        result = result.copy()
        result.loc[hide, [c for c in WITHHELD_COLUMNS if c in result]] = np.nan
        for col in ("label", "label_sim"):
            if col in result:
                result.loc[hide, col] = hotspots.NOT_SIGNIFICANT
    return result


def grid_hotspots(
    data: Dataset,
    filters: figures.Filters,
    period: figures.Period,
    cell_m: float,
    measure: str = "count",
    kind: str = "queen",
    threshold_m: float | None = None,
    permutations: int | str = 0,
    seed: int = 0,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Grid cells of ``cell_m`` metres over the area (EPSG:4326) and Gi* on them
    (:func:`geo.hotspots.grid_hotspots`). Incidents located only by section are not on the grid, nor are
    incidents outside every section. Raises ``ValueError`` for too many cells."""
    sections = area_sections(data, filters)
    cells = hotspots.grid_cells(sections, cell_m)
    points, _unlocated = figures.located_incidents(data.cube, period, filters.incident_categories, _ids(sections))
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    counts = hotspots.cell_counts(cells, x, y, points["count"].to_numpy())
    n = _permutations(permutations, len(cells))
    result = hotspots.grid_hotspots(cells, counts, measure, kind, threshold_m, n, seed=seed)
    return cells.to_crs("EPSG:4326"), result


# ---------------------------------------------------------------- density


@dataclass(frozen=True)
class Density:
    """The density surface of an area's located incidents."""

    grid: hotspots.DensityGrid | None  #: the surface (EPSG:9141); ``None`` when no incident is located
    mask: object  #: the area's outline (a shapely geometry, EPSG:9141) the surface is drawn inside
    points: int  #: incidents on the surface (the sum of their ``count``)
    unlocated: int  #: incidents of the area located only by their section


def density(data: Dataset, filters: figures.Filters, period: figures.Period, bandwidth_m: float) -> Density:
    """The kernel density surface (:func:`geo.hotspots.density_for_area`, bandwidth in metres) of the area's
    located incidents of the filters' categories in the period."""
    import shapely

    sections = area_sections(data, filters)
    points, unlocated = figures.located_incidents(data.cube, period, filters.incident_categories, _ids(sections))
    if points.empty:
        return Density(None, None, 0, unlocated)
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    grid = hotspots.density_for_area(x, y, sections, bandwidth_m, weights=points["count"].to_numpy())
    mask = shapely.union_all(sections.to_crs("EPSG:9141").geometry.values)
    return Density(grid, mask, int(points["count"].sum()), unlocated)


# ---------------------------------------------------------------- prediction


def prediction(
    data: Dataset,
    filters: figures.Filters,
    train: figures.Period,
    test: figures.Period,
    share: float,
    bandwidth_m: float,
    kind: str = "queen",
    threshold_m: float | None = None,
    how: str = "mean",
) -> pd.DataFrame:
    """How well each map of the training window would have predicted the test window on the area's
    sections (:func:`geo.hotspots.compare_predictors`, each flagging ``share`` of the area); ``attrs`` hold
    the window totals (``train_total``, ``test_total``)."""
    sections = area_sections(data, filters)
    ids = _ids(sections)
    categories = filters.incident_categories
    train_counts = figures.incident_counts(data.cube, train, categories, ids)
    test_counts = figures.incident_counts(data.cube, test, categories, ids).reindex(ids, fill_value=0)
    points, _unlocated = figures.located_incidents(data.cube, train, categories, ids)
    x, y = hotspots.to_metric(points["lon"].to_numpy(), points["lat"].to_numpy())
    scores = hotspots.prediction_scores(
        sections, train_counts, x, y, points["count"].to_numpy(), bandwidth_m, kind, threshold_m, how
    )
    out = hotspots.compare_predictors(scores, test_counts.to_numpy(), hotspots.areas_km2(sections), share)
    out.attrs = {"train_total": int(train_counts.sum()), "test_total": int(test_counts.sum())}
    return out


# ---------------------------------------------------------------- concerns against incidents


def agreement(
    data: Dataset,
    filters: figures.Filters,
    window: figures.Period,
    categories: tuple[str, ...],
    counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`geo.concerns.section_agreement` of the area's sections: the concerns of ``categories`` raised
    in ``window`` against the matching incidents of the same window. ``counts``: :func:`category_counts` of
    the same area and window, if already made (a new concern does not change them)."""
    ids = _ids(area_sections(data, filters))
    raised = concerns.raised_in(data.concerns, window.start, window.end)
    if counts is None:
        counts = category_counts(data, filters, window)
    return concerns.section_agreement(raised, counts, ids, categories)


def category_counts(data: Dataset, filters: figures.Filters, window: figures.Period) -> pd.DataFrame:
    """Incidents per section and category of the area in ``window`` (:func:`geo.figures.counts_by_category`)."""
    return figures.counts_by_category(data.cube, window, _ids(area_sections(data, filters)))
