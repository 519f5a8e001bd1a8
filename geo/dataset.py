"""The loaded data as one value: clean, joined tables and the report that accounts for every record.

:class:`Dataset` is what every analysis, page, output and command works on.
It knows nothing of where the data came from: reading files is
:mod:`geo.loader`, the columnar cache :mod:`geo.filecache`, and the interface to
storage :mod:`geo.source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geo.report import Report

if TYPE_CHECKING:
    from geo.cube import IncidentCube

#: The dtype of every ``section_id`` column (sections, incidents, concerns) from loading on: pandas' own
#: text dtype, ``str`` (a missing id is NaN). It is what ``astype(str)`` gives, so code that compares,
#: indexes or joins by section id takes the column as it is; committees' ``sections`` are lists of ``str``.
SECTION_ID_DTYPE = "str"


@dataclass
class Dataset:
    """Clean, joined tables. Coordinates are WGS84 (EPSG:4326).

    sections
        GeoDataFrame: contract columns (``municipality`` and ``region`` as
        canonical Albanian names, ``officers`` and ``villages`` as lists),
        ``municipality_raw``, ``row``, geometry.
    incidents
        DataFrame: ``incident_id, occurred_at, category, category_raw, count,
        lon, lat, section_id, row, id_generated``. ``section_id`` is missing (NaN) for
        records outside every section; ``lon``/``lat`` are missing for records
        located only by section. ``id_generated``: the file gave the record no id (its
        ``incident_id`` was made by the loader, and is never its identity). From the database
        also ``identity``: the record's identity for the public perturbation, as stored.
    concerns
        DataFrame: the contract's concern columns plus ``lon, lat, section_id, row``.
    committees
        DataFrame: contract columns with ``sections`` as a list of known ids.
    meetings, surveys
        DataFrames of their matched records; surveys add ``area_kind``
        (``municipality``/``region``), ``area_name`` (canonical), ``period_start``
        and ``period_end``.

    Every ``section_id`` column is :data:`SECTION_ID_DTYPE` (``str``), committees' ``sections`` lists of
    ``str``: section identity is fixed when the data is loaded, so nothing downstream converts it.

    ``cube`` (built on first use, then kept): the incidents pre-aggregated per
    section × day × category (:class:`geo.cube.IncidentCube`), for pages that
    re-aggregate on every filter change. Like the tables, it is never modified.
    """

    sections: gpd.GeoDataFrame
    incidents: pd.DataFrame
    concerns: pd.DataFrame
    committees: pd.DataFrame
    meetings: pd.DataFrame
    surveys: pd.DataFrame
    report: Report
    label: str = ""
    is_demo: bool = False

    @property
    def data_as_of(self) -> pd.Timestamp | None:
        """The latest date in incidents or concerns, or ``None`` when there are none."""
        dates = []
        if len(self.incidents):
            dates.append(self.incidents["occurred_at"].max())
        if len(self.concerns):
            dates.append(self.concerns["raised_on"].max())
        dates = [d for d in dates if pd.notna(d)]
        return max(dates) if dates else None

    @cached_property
    def cube(self) -> IncidentCube:
        """The incidents per section × day × category (:mod:`geo.cube`); built on first use."""
        from geo.cube import IncidentCube

        return IncidentCube.build(self.incidents)
