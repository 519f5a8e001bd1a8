"""Honest period comparisons for counts.

A change is flagged only when it is statistically meaningful for Poisson
counts, not on percentage change alone: with the variance-stabilising square
root, ``z = 2 (√current − √previous)`` is roughly standard normal when both
periods share one rate. ``|z| ≥ 2`` is *noteworthy*, ``|z| ≥ 3`` *strong*.
Small counts (3 → 6, "+100 %") stay unflagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOTEWORTHY = 2.0
STRONG = 3.0
#: Flags, from the fixed vocabulary used by maps and tables.
FLAGS = ("strong_increase", "increase", "no_change", "decrease", "strong_decrease")
#: English text per flag (translated for display by geo.i18n, context ``change_flag``).
FLAG_TEXT = {
    "strong_increase": "Strong increase (|z| ≥ 3)",
    "increase": "Increase (|z| ≥ 2)",
    "no_change": "No meaningful change",
    "decrease": "Decrease (|z| ≥ 2)",
    "strong_decrease": "Strong decrease (|z| ≥ 3)",
}


def poisson_z(current, previous) -> np.ndarray:
    """``2 (√current − √previous)`` element-wise (counts ≥ 0)."""
    c = np.asarray(current, dtype=float)
    p = np.asarray(previous, dtype=float)
    if (c < 0).any() or (p < 0).any():
        raise ValueError("counts must be non-negative")
    return 2.0 * (np.sqrt(c) - np.sqrt(p))


def flag(z) -> np.ndarray:
    """A flag per z-score: strong/ordinary increase or decrease, or no meaningful change."""
    z = np.asarray(z, dtype=float)
    out = np.full(z.shape, "no_change", dtype=object)
    out[z >= NOTEWORTHY] = "increase"
    out[z >= STRONG] = "strong_increase"
    out[z <= -NOTEWORTHY] = "decrease"
    out[z <= -STRONG] = "strong_decrease"
    return out


def year_earlier(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The same calendar period one year earlier (29 February becomes 28 February)."""
    return pd.Timestamp(start) - pd.DateOffset(years=1), pd.Timestamp(end) - pd.DateOffset(years=1)


def compare(current, previous) -> pd.DataFrame:
    """Current vs previous counts: ``current, previous, change, change_pct, z, flag``."""
    c = np.asarray(current, dtype=float)
    p = np.asarray(previous, dtype=float)
    z = poisson_z(c, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(p > 0, (c - p) / p * 100.0, np.nan)
    return pd.DataFrame({"current": c, "previous": p, "change": c - p, "change_pct": pct, "z": z, "flag": flag(z)})


def compare_one(current: float, previous: float) -> tuple[float, str]:
    """``(z, flag)`` for one pair of counts (see :func:`poisson_z` and :func:`flag`)."""
    z = float(poisson_z(current, previous))
    return z, str(flag(z))
