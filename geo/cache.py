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

import pandas as pd
import streamlit as st

from geo import figures, maps, offline, uploads
from geo.source import Dataset, DataSource


@st.cache_resource(show_spinner=False)
def leaflet_ready(static_dir: str = str(offline.STATIC_DIR)) -> str:
    """Copy Leaflet into the served static folder once per server process."""
    return str(offline.ensure_leaflet(Path(static_dir)))


@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(_source: DataSource, fingerprint: str) -> Dataset:
    return _source.load()


def dataset(source: DataSource) -> Dataset:
    """The loaded, joined dataset of ``source`` (shared; do not modify)."""
    return _dataset(source, source.fingerprint())


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
    return figures.section_measures(sections, _data.incidents, figures.Period(start, end), categories)


@st.cache_data(max_entries=64, show_spinner=False)
def headlines(
    _data: Dataset, fingerprint: str, filters: figures.Filters, start: dt.date, end: dt.date
) -> dict[str, figures.Headline]:
    """:func:`geo.figures.headlines` for the chosen area and period."""
    return figures.headlines(
        _data.incidents, _data.concerns, _data.committees, _data.sections, filters, figures.Period(start, end)
    )


@st.cache_data(max_entries=32, show_spinner=False)
def file_columns(path: str, input: str, mtime_ns: int) -> tuple[list[str], str]:
    """The columns of an uploaded file and the reason when it cannot be read (``""`` when it can)."""
    return uploads.read_columns(Path(path), input)


@st.cache_data(max_entries=64, show_spinner=False)
def file_labels(path: str, input: str, column: str, mtime_ns: int) -> list[str]:
    """The distinct values of one column of an uploaded file (at most 200)."""
    return uploads.distinct_values(Path(path), input, column)
