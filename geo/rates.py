"""Rates that small populations cannot inflate: empirical-Bayes smoothing and a minimum population.

A section of 300 residents with 4 incidents has a rate of 13.3 per 1,000; one
more incident moves it by 3.3. Ranked by raw rate, such sections lead every
table by chance. Global empirical Bayes (Marshall 1991, method of moments)
shrinks each section's rate towards the rate of all sections, the more the
fewer its residents:

* prior mean ``b = Σ events / Σ residents``;
* between-section variance ``a = s² − b / n̄``, where ``s² = Σ nᵢ (rᵢ − b)² / Σ nᵢ``
  and ``n̄`` the mean population, **clamped at zero** (no evidence of real
  differences: every section gets the prior mean);
* weight ``wᵢ = a / (a + b / nᵢ)``, smoothed rate ``wᵢ rᵢ + (1 − wᵢ) b``.

Sections with no, zero or unknown population (or an unknown count) are left
out of the prior and get no rate. PySAL's ``esda.smoothing.Empirical_Bayes``
computes the same formula without the clamp and without that exclusion: on
small examples it gives negative weights and inverts the ranking, and one
zero population or equal rates make it return NaN (``tests/test_rates.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo import settings as config

#: Sections with fewer residents are marked in rankings rather than ranked first (``DASHBOARD_MIN_POPULATION``).
MIN_POPULATION = config.MIN_POPULATION
MIN_POPULATION_SETTING = "DASHBOARD_MIN_POPULATION"


def eb_prior(counts: np.ndarray, population: np.ndarray) -> tuple[float, float]:
    """The prior mean rate ``b`` (events per resident) and between-section variance ``a`` (clamped at 0).

    Only entries with a finite count and a finite population above zero take
    part; with none, both are NaN.
    """
    e, n = _valid(counts, population)
    if not len(n) or n.sum() <= 0:
        return float("nan"), float("nan")
    b = float(e.sum() / n.sum())
    r = e / n
    s2 = float((n * (r - b) ** 2).sum() / n.sum())
    a = max(0.0, s2 - b / float(n.mean()))
    return b, a


def eb_weights(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Weight of each section's own rate in its smoothed rate, 0 to 1 (NaN where it gets no rate).

    0 for every section when the between-section variance is clamped at 0 (or there are no events).
    """
    counts = np.asarray(counts, dtype=float)
    population = np.asarray(population, dtype=float)
    ok = _ok(counts, population)
    b, a = eb_prior(counts, population)
    w = np.full(counts.shape, np.nan)
    w[ok] = a / (a + b / population[ok]) if (a > 0 and b > 0) else 0.0
    return w


def eb_rates(
    counts: np.ndarray, population: np.ndarray, per: float = 1000.0, prior: tuple[float, float] | None = None
) -> np.ndarray:
    """Empirical-Bayes smoothed rates per ``per`` residents (NaN where the population is missing or 0).

    Parameters
    ----------
    counts
        Events per section (non-negative; NaN for unknown, e.g. withheld).
    population
        Residents per section (NaN or 0 for unknown).
    per
        Rates per this many residents (default 1,000).
    prior
        ``(b, a)`` from :func:`eb_prior` of a larger set (all of Kosovo, so that a section's smoothed rate
        does not depend on the area shown); default: the prior of these sections.
    """
    counts = np.asarray(counts, dtype=float)
    population = np.asarray(population, dtype=float)
    if counts.shape != population.shape:
        raise ValueError(f"counts and population differ in length: {counts.shape} and {population.shape}")
    if (counts[np.isfinite(counts)] < 0).any():
        raise ValueError("counts must not be negative")
    ok = _ok(counts, population)
    b, a = eb_prior(counts, population) if prior is None else prior
    w = np.zeros(counts.shape)
    if a > 0 and b > 0:
        w[ok] = a / (a + b / population[ok])
    out = np.full(counts.shape, np.nan)
    if not np.isfinite(b):
        return out
    raw = np.divide(counts, population, out=np.zeros_like(counts), where=ok)
    out[ok] = (w[ok] * raw[ok] + (1.0 - w[ok]) * b) * per
    return out


def as_array(values: pd.Series | np.ndarray) -> np.ndarray:
    """Numbers as floats, NaN for missing (pandas' ``<NA>`` included)."""
    return pd.to_numeric(pd.Series(values), errors="coerce").astype("float64").to_numpy()


def min_population_from_settings(settings: Mapping[str, object]) -> int:
    """The minimum population of a ranked section from the ``DASHBOARD_MIN_POPULATION`` setting (default 500).

    Raises ``ValueError`` naming the setting when it is not a whole number of 0 or more.
    """
    return config.Settings.load(
        {MIN_POPULATION_SETTING: str(settings.get(MIN_POPULATION_SETTING, "") or "")}, None
    ).min_population


def _ok(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    return np.isfinite(counts) & np.isfinite(population) & (population > 0)


def _valid(counts: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(counts, dtype=float)
    population = np.asarray(population, dtype=float)
    ok = _ok(counts, population)
    return counts[ok], population[ok]
