"""Honest period comparisons for counts: one exact test, used by every page, brief and command.

Two counts of the same kind of event over two periods of known lengths
(``current`` in ``days_current`` days, ``previous`` in ``days_previous``
days). If both periods share one Poisson rate, the current count *given the
total* ``n = current + previous`` is binomial,

    current | n  ~  Binomial(n, q),   q = days_current / (days_current + days_previous),

whatever that rate is (the *conditional* test for two Poisson rates). The
two-sided p-value is **twice the smaller tail, capped at 1**:
``p = min(1, 2 · min(P(X ≤ current), P(X ≥ current)))`` for ``X ~ Binomial(n, q)``.
Each tail is at most α/2 whenever the change is flagged at level α, so the
test never flags more often than α by chance, for any rate and any lengths
(it is conservative for small counts, where the binomial is coarse).

The levels keep the words the users know, tied to the normal tails beyond 2
and 3: **noteworthy** at ``p < 0.0455``, **strong** at ``p < 0.0027``. The
direction is that of the rates (per day), so periods of unequal length
compare fairly. No events in either period (0 against 0), a period of no
length or a count that is missing (a period outside the data) is **no
comparison**: a flag of its own, never coloured as a change.

One figure is one test at those levels. Where many sections are flagged at
once (a map, a change table), :func:`flag_fdr` controls the false discovery
rate across them with Benjamini–Hochberg (:func:`geo.hotspots.fdr_bh`).
``tests/test_calibration.py`` checks the false-positive rates by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

#: Two-sided p-value below which a change is *noteworthy* (the normal tail beyond ±2).
NOTEWORTHY = 0.0455
#: Two-sided p-value below which a change is *strong* (the normal tail beyond ±3).
STRONG = 0.0027
#: Flags that are the outcome of a test, strongest increase first (the map colours them).
CHANGES = ("strong_increase", "increase", "no_change", "decrease", "strong_decrease")
#: No test possible: nothing in either period, or a period the data does not cover.
NO_COMPARISON = "no_comparison"
#: Flags, from the fixed vocabulary used by maps and tables.
FLAGS = (*CHANGES, NO_COMPARISON)
#: English text per flag (translated for display by geo.i18n, context ``change_flag``).
FLAG_TEXT = {
    "strong_increase": "Strong increase (p < 0.003)",
    "increase": "Increase (p < 0.05)",
    "no_change": "No meaningful change",
    "decrease": "Decrease (p < 0.05)",
    "strong_decrease": "Strong decrease (p < 0.003)",
    NO_COMPARISON: "No comparison",
}


def _arrays(current, previous, days_current, days_previous) -> tuple[np.ndarray, ...]:
    c, p, tc, tp = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (current, previous, days_current, days_previous))
    )
    if (c < 0).any() or (p < 0).any():
        raise ValueError(f"counts must be non-negative; got current {c[c < 0][:3]}, previous {p[p < 0][:3]}")
    with np.errstate(invalid="ignore"):
        fractional = (np.isfinite(c) & (c != np.round(c))).any() or (np.isfinite(p) & (p != np.round(p))).any()
    if fractional:
        raise ValueError("counts must be whole numbers")
    return c, p, tc, tp


def _comparable(c: np.ndarray, p: np.ndarray, tc: np.ndarray, tp: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(c) & np.isfinite(p) & (c + p > 0) & np.isfinite(tc) & np.isfinite(tp) & (tc > 0) & (tp > 0)


def p_value(current, previous, days_current=1, days_previous=1) -> np.ndarray:
    """Two-sided p-value of the exact conditional test, element-wise (NaN: no comparison).

    Parameters
    ----------
    current, previous
        Counts (whole numbers ≥ 0; NaN: the period is not in the data).
    days_current, days_previous
        Lengths of the two periods in days (any positive numbers; only their ratio matters).
    """
    c, p, tc, tp = _arrays(current, previous, days_current, days_previous)
    ok = _comparable(c, p, tc, tp)
    out = np.full(c.shape, np.nan)
    if ok.any():
        n = c[ok] + p[ok]
        q = tc[ok] / (tc[ok] + tp[ok])
        lower = stats.binom.cdf(c[ok], n, q)  # P(X ≤ current)
        upper = stats.binom.sf(c[ok] - 1, n, q)  # P(X ≥ current)
        out[ok] = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    return out


def direction(current, previous, days_current=1, days_previous=1) -> np.ndarray:
    """+1 where the current rate per day is higher, −1 where lower, 0 where equal or not comparable."""
    c, p, tc, tp = _arrays(current, previous, days_current, days_previous)
    ok = _comparable(c, p, tc, tp)
    out = np.zeros(c.shape, dtype=int)
    # compare c/tc with p/tp without dividing: c·tp against p·tc
    out[ok] = np.sign(c[ok] * tp[ok] - p[ok] * tc[ok]).astype(int)
    return out


def flag(p, sign) -> np.ndarray:
    """A flag per p-value and direction: strong/ordinary increase or decrease, no meaningful change, or
    :data:`NO_COMPARISON` where ``p`` is NaN."""
    p = np.asarray(p, dtype=float)
    sign = np.broadcast_to(np.asarray(sign), p.shape)
    out = np.full(p.shape, "no_change", dtype=object)
    with np.errstate(invalid="ignore"):
        up, down = sign > 0, sign < 0
        out[(p < NOTEWORTHY) & up] = "increase"
        out[(p < STRONG) & up] = "strong_increase"
        out[(p < NOTEWORTHY) & down] = "decrease"
        out[(p < STRONG) & down] = "strong_decrease"
    out[~np.isfinite(p)] = NO_COMPARISON
    return out


def adjusted(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values over the comparable entries (NaN stays NaN)."""
    from geo.hotspots import fdr_bh

    return fdr_bh(np.asarray(p, dtype=float))


def flag_fdr(p, sign) -> np.ndarray:
    """Flags for many comparisons at once (a map's sections): :func:`flag` on the Benjamini–Hochberg adjusted
    p-values, so that among the changes flagged at a level at most that share is expected to be chance."""
    return flag(adjusted(p), sign)


def year_earlier(start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The same calendar period one year earlier (29 February becomes 28 February)."""
    return pd.Timestamp(start) - pd.DateOffset(years=1), pd.Timestamp(end) - pd.DateOffset(years=1)


def compare(current, previous, days_current=1, days_previous=1) -> pd.DataFrame:
    """Current vs previous counts: ``current, previous, change, change_pct, p, flag`` (one test per row)."""
    c = np.asarray(current, dtype=float)
    p = np.asarray(previous, dtype=float)
    pv = p_value(c, p, days_current, days_previous)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(p > 0, (c - p) / p * 100.0, np.nan)
    sign = direction(c, p, days_current, days_previous)
    return pd.DataFrame(
        {"current": c, "previous": p, "change": c - p, "change_pct": pct, "p": pv, "flag": flag(pv, sign)}
    )


def compare_one(
    current: float, previous: float, days_current: float = 1, days_previous: float = 1
) -> tuple[float, str]:
    """``(p, flag)`` for one pair of counts (see :func:`p_value` and :func:`flag`); ``(nan, "no_comparison")``
    when there is nothing to compare."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return float("nan"), NO_COMPARISON
    pv = p_value(current, previous, days_current, days_previous)
    sign = direction(current, previous, days_current, days_previous)
    return float(pv), str(flag(pv, sign))


def chance_odds(p: float) -> int | None:
    """``1 / p`` rounded to two significant figures: "about 1 time in N"; ``None`` for a missing p."""
    if p is None or not np.isfinite(p) or p <= 0:
        return None
    n = 1.0 / float(p)
    if n < 10:
        return max(1, round(n))
    digits = int(math.floor(math.log10(n))) - 1
    return int(round(n / 10**digits) * 10**digits)


def p_text(p: float, _: Callable[..., str]) -> str:
    """``p = 0.27``, ``p = 0.004``, ``p < 0.001`` in the translator's number format; empty for no comparison."""
    if p is None or not np.isfinite(p):
        return ""
    number = getattr(_, "number", None) or (lambda x, decimals=0: f"{x:,.{decimals}f}")
    if p < 0.001:
        return _("p < {p}", p=number(0.001, decimals=3))
    return _("p = {p}", p=number(p, decimals=3 if p < 0.01 else 2))


def chance_text(p: float, _: Callable[..., str]) -> str:
    """The p-value and a plain sentence, translated: "p = 0.03: a change this large happens by chance about
    1 time in 33". Empty for no comparison."""
    if p is None or not np.isfinite(p):
        return ""
    number = getattr(_, "number", None) or (lambda x, decimals=0: f"{x:,.{decimals}f}")
    shown = p_text(p, _)
    odds = chance_odds(p)
    if p < 0.0001:
        sentence = _("a change this large happens by chance less than 1 time in {n}", n=number(10000))
    elif odds is not None and odds >= 3:
        sentence = _("a change this large happens by chance about 1 time in {n}", n=number(odds))
    else:
        sentence = _("a change this large often happens by chance")
    return f"{shown}: {sentence}"
