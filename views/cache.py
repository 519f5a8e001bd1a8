"""The dashboard's caches: thin ``st.cache_*`` wrappers around :mod:`geo` (which never imports Streamlit).

Every cached function takes small hashable arguments: the data's key (:func:`current`, which changes
with any table's revision) plus the frozen :class:`~geo.figures.Filters`,
:class:`~geo.figures.Period` and :class:`~geo.public.PublicPolicy` themselves
(never values unpacked from them and rebuilt). Objects that cannot or should not be
hashed (the source, the loaded dataset) are passed with a leading underscore,
which Streamlit leaves out of the key; the fingerprint stands for them.

* :func:`current` keeps the newest load of each source for all sessions (``st.cache_resource``) and
  reloads only the tables whose revision moved; :func:`geometry` is one shared object too. Neither is
  ever copied. Nothing may modify them; every
  function in :mod:`geo.figures` and :mod:`geo.analysis` returns new frames.
* Figures that depend on filters use ``st.cache_data`` (each caller gets its
  own copy) with ``max_entries`` so a long-running server stays small.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import analysis, db, figures, maps, offline, uploads
from geo import deployment as deploy
from geo.dataset import Dataset
from geo.deployment import Decision
from geo.public import PublicPolicy
from geo.saved import OwnData
from geo.settings import Settings
from geo.source import DataSource, Loaded, fingerprint_of, refresh


@st.cache_resource(show_spinner=False)
def leaflet_ready(static_dir: str = str(offline.STATIC_DIR)) -> str:
    """Copy Leaflet into the served static folder once per server process."""
    return str(offline.ensure_leaflet(Path(static_dir)))


class _Latest:
    """The newest load of one source, shared by every session of the process, and its public copies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded: Loaded | None = None
        self.public: dict[PublicPolicy, tuple[Dataset, Dataset]] = {}
        #: the revisions of the last few loads, by fingerprint: what a page drew, when it asks later
        self.seen: OrderedDict[str, dict[str, str]] = OrderedDict()

    def remember(self, loaded: Loaded) -> None:
        self.seen[loaded.fingerprint] = loaded.revisions
        self.seen.move_to_end(loaded.fingerprint)
        while len(self.seen) > SEEN:
            self.seen.popitem(last=False)


#: How many loads of a source :func:`table_key` can still name by their fingerprint.
SEEN = 32


@st.cache_resource(max_entries=8, show_spinner=False)
def _latest(key: str) -> _Latest:
    return _Latest()


def current(source: DataSource, policy: PublicPolicy | None = None) -> tuple[Dataset, str]:
    """The dataset of ``source`` now (shared; do not modify), its public copy when a
    :class:`~geo.public.PublicPolicy` is given, and the key that stands for it in the caches below
    (a public copy's key differs from the restricted one's).

    Every call asks the source for its tables' revisions (cheap) and reloads only the tables that moved
    (:func:`geo.source.refresh`): a new concern shows on the next rerun of every session, without
    reloading the incidents or rebuilding their cube (or, in public, their published copy)."""
    latest = _latest(source.key())
    with latest.lock:
        loaded = refresh(source, latest.loaded)
        latest.loaded = loaded
        latest.remember(loaded)
        if policy is None:
            return loaded.dataset, loaded.fingerprint
        before = latest.public.get(policy)
        if before is not None and before[0] is loaded.dataset:
            return before[1], _public_key(loaded.fingerprint, policy)
        made = policy.apply(loaded.dataset, reuse=before)
        latest.public[policy] = (loaded.dataset, made)
        return made, _public_key(loaded.fingerprint, policy)


def _public_key(fingerprint: str, policy: PublicPolicy) -> str:
    return f"{fingerprint}|public:{policy!r}"


def dataset(source: DataSource, policy: PublicPolicy | None = None) -> Dataset:
    """:func:`current`'s dataset (shared; do not modify)."""
    return current(source, policy)[0]


@st.cache_resource(max_entries=4, show_spinner=False)
def _decided(url: str) -> dict:
    return {}


def deployment(settings: Settings, own: Callable[[], OwnData]) -> Decision:
    """:func:`geo.deployment.source` with ``own()`` (the data folder, read only when needed); once the
    database is the source it stays so for the process (no further checks, no data folder scan). A data
    folder whose files could not be imported is not tried again until its files change."""
    box = _decided(db.describe(db.url_of(settings)))
    decision = box.get("database")
    if decision is not None:
        return decision
    with _deciding:
        decision = box.get("database")
        if decision is not None:
            return decision
        folder = own()
        tried = box.get("failed")
        if tried is not None and folder.source is not None and tried[0] == folder.source.fingerprint():
            return tried[1]
        decision = deploy.source(settings, folder)
        if decision.kind == "database" and not decision.problem:
            box["database"] = decision
        elif decision.problem == "import failed" and folder.source is not None:
            box["failed"] = (folder.source.fingerprint(), decision)
    return decision


_deciding = threading.Lock()


def table_key(source: DataSource, *tables: str, at: str | None = None) -> str:
    """A key of ``source`` that changes only with ``tables`` as last loaded (the map's shapes change only
    with ``"sections"``). ``at``: the fingerprint :func:`current` gave with the data a page drew: the key of
    that load, not of the newest one, which another session may have loaded since (so that a page that
    compares it later sees that the tables moved after it drew them)."""
    latest = _latest(source.key())
    if at is not None:
        revisions = latest.seen.get(at.split("|public:", 1)[0])
        if revisions is not None:
            return fingerprint_of(source.key(), {n: revisions.get(n, "") for n in tables})
    loaded = latest.loaded
    if loaded is not None:
        return loaded.table_key(*tables)
    revisions = source.revisions()
    return fingerprint_of(source.key(), {n: revisions.get(n, "") for n in tables})


def data_key(source: DataSource, policy: PublicPolicy | None = None, at: str | None = None) -> str:
    """What decides whether a session's filters still fit: the source, its sections and incidents (a new
    concern or meeting keeps them), and whether it is the public view. ``at``: as in :func:`table_key`."""
    return table_key(source, "sections", "incidents", at=at) + ("|public" if policy is not None else "")


@st.cache_resource(max_entries=4, show_spinner=False)
def _geometry(_data: Dataset, fingerprint: str) -> maps.DisplayGeometry:
    return maps.display_geometry(_data.sections)


def geometry(data: Dataset, fingerprint: str) -> maps.DisplayGeometry:
    """Simplified section shapes and outlines for drawing (shared; do not modify). ``fingerprint``: the
    sections' own key, ``table_key(source, "sections")``, so that a new concern or incident keeps them."""
    return _geometry(data, fingerprint)


@st.cache_data(max_entries=64, show_spinner=False)
def section_measures(
    _data: Dataset, fingerprint: str, filters: figures.Filters, period: figures.Period
) -> pd.DataFrame:
    """:func:`geo.analysis.area_measures`: the measures of the area's sections."""
    return analysis.area_measures(_data, filters, period)


@st.cache_data(max_entries=32, show_spinner=False)
def public_measures(
    _data: Dataset, fingerprint: str, policy: PublicPolicy, period: figures.Period, categories: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`geo.analysis.public_measures`: every section's published measures, fit for public view."""
    return analysis.public_measures(_data, policy, period, categories)


@st.cache_data(max_entries=64, show_spinner=False)
def headlines(
    _data: Dataset, fingerprint: str, filters: figures.Filters, period: figures.Period
) -> dict[str, figures.Headline]:
    """:func:`geo.analysis.headlines`: the area's headline figures (of a public dataset, the published ones)."""
    return analysis.headlines(_data, filters, period)


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


@st.cache_data(max_entries=32, show_spinner=False)
def section_hotspots(
    _data: Dataset,
    fingerprint: str,
    filters: figures.Filters,
    period: figures.Period,
    measure: str,
    kind: str,
    threshold_m: float | None,
    permutations: int,
    policy: PublicPolicy | None = None,
) -> pd.DataFrame:
    """:func:`geo.analysis.section_hotspots` (seed 0); with ``policy``, of a public dataset's published counts."""
    return analysis.section_hotspots(_data, filters, period, measure, kind, threshold_m, permutations, 0, policy)


@st.cache_data(max_entries=16, show_spinner=False)
def grid_hotspots(
    _data: Dataset,
    fingerprint: str,
    filters: figures.Filters,
    period: figures.Period,
    cell_m: float,
    measure: str,
    kind: str,
    threshold_m: float | None,
    permutations: int,
):
    """:func:`geo.analysis.grid_hotspots` (seed 0): the area's grid cells (EPSG:4326) and Gi* on them."""
    return analysis.grid_hotspots(_data, filters, period, cell_m, measure, kind, threshold_m, permutations, 0)


@st.cache_data(max_entries=16, show_spinner=False)
def density_overlay(
    _data: Dataset, fingerprint: str, filters: figures.Filters, period: figures.Period, bandwidth_m: float
):
    """The density surface of the area's located incidents (:func:`geo.analysis.density`) as one image
    (:func:`geo.maps.density_overlay`); also (points used, incidents unlocated)."""
    surface = analysis.density(_data, filters, period, bandwidth_m)
    if surface.grid is None:
        return None, 0, surface.unlocated
    return maps.density_overlay(surface.grid, surface.mask), surface.points, surface.unlocated


@st.cache_data(max_entries=16, show_spinner=False)
def prediction(
    _data: Dataset,
    fingerprint: str,
    filters: figures.Filters,
    train: figures.Period,
    test: figures.Period,
    share: float,
    bandwidth_m: float,
    kind: str,
    threshold_m: float | None,
    how: str,
) -> pd.DataFrame:
    """:func:`geo.analysis.prediction` on the area's sections; ``attrs`` hold the window totals."""
    return analysis.prediction(_data, filters, train, test, share, bandwidth_m, kind, threshold_m, how)


@st.cache_data(max_entries=32, show_spinner=False)
def agreement(
    _data: Dataset,
    fingerprint: str,
    incidents: str,
    filters: figures.Filters,
    window: figures.Period,
    categories: tuple[str, ...],
) -> pd.DataFrame:
    """:func:`geo.analysis.agreement` of the area's sections in a window. ``incidents``: the
    :func:`incidents_key` of the data, under which the incident counts are kept: a new concern (a new
    ``fingerprint``) compares anew without counting the incidents again."""
    return analysis.agreement(_data, filters, window, categories, category_counts(_data, incidents, filters, window))


@st.cache_data(max_entries=32, show_spinner=False)
def category_counts(_data: Dataset, incidents: str, filters: figures.Filters, window: figures.Period) -> pd.DataFrame:
    """:func:`geo.analysis.category_counts`, kept by the data's :func:`incidents_key`."""
    return analysis.category_counts(_data, filters, window)


def incidents_key(source: DataSource, policy: PublicPolicy | None, fingerprint: str) -> str:
    """What the incidents' cube of the data drawn at ``fingerprint`` depends on: the sections and incidents as
    loaded then, and (its published copy) the public policy."""
    key = table_key(source, "sections", "incidents", at=fingerprint)
    return key if policy is None else _public_key(key, policy)
