"""Public-safe mode: what may be shown to a committee meeting, a projector or a printed page.

Chosen by whoever deploys the dashboard (environment variable
``DASHBOARD_PUBLIC=1`` or ``[public] enabled = true`` in
``.streamlit/secrets.toml``), never by a widget. A :class:`PublicPolicy`
turns a :class:`~geo.source.Dataset` into a public one *before* anything is
drawn, so no page, export or command can reach what it removed:

- incidents lose their coordinates (only section aggregates remain);
- sensitive categories (domestic violence, sexual offences by default) are
  removed entirely, so they are in no total;
- concerns lose their coordinates, and their description unless marked public;
- officers' contacts are removed unless the section marks them public;
- counts below ``min_count`` are shown as "fewer than N" and left out of
  colours and of every total (:func:`suppress`), so they cannot be recovered
  by subtraction;
- density surfaces and grid cells are no finer than ``min_cell_m`` metres.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo.source import Dataset

#: Categories never shown in public, by default.
SENSITIVE_DEFAULT = ("domestic_violence", "sexual_offence")
#: Concern categories withheld in public with them.
SENSITIVE_CONCERNS_DEFAULT = ("domestic_violence",)
_CONTACT = re.compile(r"\s*\((?=[^)]*(?:@|\+?\d[\d\s\-/]{5,}))[^)]*\)")


@dataclass(frozen=True)
class PublicPolicy:
    """The public-safe rules (defaults as documented in README)."""

    min_count: int = 5
    min_cell_m: float = 500.0
    sensitive: tuple[str, ...] = SENSITIVE_DEFAULT
    sensitive_concerns: tuple[str, ...] = SENSITIVE_CONCERNS_DEFAULT

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, not {self.min_count!r}")
        if self.min_cell_m <= 0:
            raise ValueError(f"min_cell_m must be a positive number of metres, not {self.min_cell_m!r}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> PublicPolicy | None:
        """The policy from ``DASHBOARD_PUBLIC*`` settings; ``None`` when public mode is off.

        ``DASHBOARD_PUBLIC`` (1/true/yes turns it on), ``DASHBOARD_PUBLIC_MIN_COUNT``,
        ``DASHBOARD_PUBLIC_MIN_CELL_M``, ``DASHBOARD_PUBLIC_SENSITIVE`` (comma-separated codes).
        """
        on = str(settings.get("DASHBOARD_PUBLIC", "")).strip().lower() in ("1", "true", "yes", "on", "po", "da")
        if not on:
            return None
        kwargs = {}
        if settings.get("DASHBOARD_PUBLIC_MIN_COUNT"):
            kwargs["min_count"] = int(settings["DASHBOARD_PUBLIC_MIN_COUNT"])
        if settings.get("DASHBOARD_PUBLIC_MIN_CELL_M"):
            kwargs["min_cell_m"] = float(settings["DASHBOARD_PUBLIC_MIN_CELL_M"])
        if settings.get("DASHBOARD_PUBLIC_SENSITIVE"):
            kwargs["sensitive"] = tuple(
                c.strip() for c in settings["DASHBOARD_PUBLIC_SENSITIVE"].split(",") if c.strip()
            )
        return cls(**kwargs)

    @classmethod
    def from_env(cls) -> PublicPolicy | None:
        return cls.from_settings(os.environ)

    # -- data

    def apply(self, data: Dataset) -> Dataset:
        """A public copy of ``data``: nothing restricted is left in it."""
        inc = data.incidents
        inc = inc[~inc["category"].astype(str).isin(self.sensitive)].copy()
        inc["lon"] = np.nan
        inc["lat"] = np.nan
        for col in ("incident_id", "category_raw"):
            if col in inc:
                inc[col] = pd.NA
        con = data.concerns
        con = con[~con["category"].astype(str).isin(self.sensitive_concerns)].copy()
        con["lon"] = np.nan
        con["lat"] = np.nan
        if "description" in con:
            public = con["description_public"].fillna(False).astype(bool)
            con["description"] = con["description"].where(public, pd.NA)
        sec = data.sections.copy()
        if "officers" in sec:
            public = sec["officers_public"].fillna(False).astype(bool)
            sec["officers"] = [
                o if p else [strip_contacts(x) for x in (o or [])] for o, p in zip(sec["officers"], public)
            ]
        return replace(data, incidents=inc, concerns=con, sections=sec, label=data.label)

    def bandwidth(self, requested_m: float) -> float:
        """A density bandwidth or grid cell no finer than the minimum."""
        return max(float(requested_m), self.min_cell_m)


def strip_contacts(officer: str) -> str:
    """An officer's name without phone numbers or e-mail addresses in brackets."""
    text = _CONTACT.sub("", str(officer))
    text = re.sub(r"\S+@\S+", "", text)
    text = re.sub(r"\+?\d[\d\s\-/]{5,}\d", "", text)
    return " ".join(text.split())


def suppress(values: pd.Series, min_count: int) -> tuple[pd.Series, pd.Series]:
    """Counts with the small ones withheld: ``(shown, suppressed)``.

    ``shown`` has NaN where ``0 < value < min_count`` (zeros are shown: a zero
    reveals nobody). Sum ``shown`` (NaN-skipping) for any total: suppressed
    counts are then in no total and cannot be recovered by subtraction.
    """
    v = pd.to_numeric(values, errors="coerce")
    small = (v > 0) & (v < min_count)
    return v.where(~small), small
