"""What every page gets from the entry file: :class:`Context`, typed.

``dashboard.py`` builds one per run, after the shared sidebar, and puts it in
``st.session_state["ctx"]``; a page starts with
``ctx: Context = st.session_state["ctx"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from geo import figures, i18n, maps, offline, rates
from geo.dataset import Dataset
from geo.public import PublicPolicy
from geo.settings import Settings
from geo.source import DataSource
from views.gate import LOCAL, Visitor


@dataclass(frozen=True)
class Context:
    """What every page gets from the entry file (one per run; pages read it, never change it)."""

    #: the translator of the session's language
    _: i18n.Translator
    #: the language code (``sq``, ``sr``, ``en``)
    lang: str
    #: where the data came from (a page may load it again, e.g. as a public copy)
    source: DataSource
    #: the loaded, joined dataset (shared by every session: never modify it); the public copy in public mode
    data: Dataset
    #: the key that stands for ``data`` in the caches (:func:`views.cache.current`)
    fingerprint: str
    #: the sidebar's area and categories
    filters: figures.Filters
    #: the sidebar's period
    period: figures.Period
    #: the offline map files (Leaflet) as the server serves them
    assets: offline.Assets
    #: the deployment's online basemap, if it configures one
    basemap: maps.Basemap | None
    #: ``select_section(section_id, municipality, region)``: a widget callback that selects a section
    select_section: Callable[[str, str, str], None]
    #: the public-safe rules when the deployment is public (``data`` is then already the public copy)
    policy: PublicPolicy | None = None
    #: warnings every page shows at the top
    notices: tuple[str, ...] = ()
    #: sections with fewer residents are marked, not ranked first, in the "highest rate" table
    min_population: int = rates.MIN_POPULATION
    #: the presentation layout (projector): map first and large, one-line banners, larger type
    presentation: bool = False
    #: the deployment's settings (:mod:`geo.settings`), read once for this run
    settings: Settings = field(default_factory=Settings)
    #: who is using the session and what they may do (:mod:`views.gate`); pages record audited actions with it
    who: Visitor = LOCAL

    @property
    def public(self) -> bool:
        return self.policy is not None
