"""The public-safe rule the dashboard used before cell-key perturbation, kept only as the control of
``test_public_attacks``: withhold every count of 1 … N − 1, then more ("complementary suppression",
smallest first) until no withheld count can be worked out from the total and the shown counts.

Copied unchanged from ``geo/public.py`` before commit 8c08805 (``protect``, ``pinned``, ``_pinned``).
Its flaw is the reason it was replaced: which counts it withholds depends on the hidden values, so someone
who knows the rule can rule out layouts that would have been withheld differently, and sometimes pin a
count the rule meant to hide. Not used by the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

#: Why a count is withheld: below the threshold, or withheld with it so the small one cannot be worked out.
SMALL, SECONDARY = "small", "secondary"


def protect(values, min_count: int, groups: Sequence[pd.Series] = (), seed: Iterable = ()) -> tuple[pd.Series, bool]:
    """Which counts of a set to withhold when the set's total is (or may be) shown: ``(kinds, total_ok)``.

    ``kinds`` is :data:`SMALL` for ``0 < value < min_count``, :data:`SECONDARY` for a count withheld with
    them, ``""`` for a count shown (zeros are shown: a zero reveals nobody). Someone who knows the total,
    the shown counts and this rule knows what the withheld counts add up to, that a small one lies in
    1 … ``min_count`` − 1 and a secondary one is at least ``min_count``. Secondary counts, smallest first,
    are added until that leaves every withheld count more than one possible value.

    ``seed``: labels withheld from the start, whatever their value.

    ``groups``: labels (same index as ``values``) of the parts whose totals may be shown elsewhere, e.g.
    the sections' municipality and region: each part is protected the same way, so a municipality's total
    in a brief cannot give back a count withheld on a national map.

    ``total_ok`` is false when no such set exists for the whole set or one of its parts (two counts of 4
    and nothing else, say): the total shown with these counts must then be withheld too.
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    x = v.fillna(0).to_numpy()
    code = np.where((x > 0) & (x < min_count), 1, 0).astype(np.int8)  # 0 shown, 1 small, 2 secondary
    seeded = v.index.isin(list(seed)) & (code == 0) & (x > 0)  # withheld from the start (totals elsewhere)
    code[seeded] = 2
    parts = [np.arange(len(x))]
    for labels in groups:
        lab = pd.Series(labels).reindex(v.index).to_numpy(dtype=object)
        parts += [np.flatnonzero(lab == g) for g in pd.unique(lab[pd.notna(lab)])]
    changed = True
    while changed:
        changed = False
        for part in parts:
            while _pinned(x[part], code[part], min_count):
                free = part[(code[part] == 0) & (x[part] > 0)]
                if not len(free):
                    break
                code[free[np.argmin(x[free])]] = 2
                changed = True
    exposed = [part for part in parts if _pinned(x[part], code[part], min_count) and not 0 < x[part].sum() < min_count]
    kinds = pd.Series(np.array(["", SMALL, SECONDARY], dtype=object)[code], index=v.index, dtype=object)
    return kinds, not exposed


def pinned(values: pd.Series, kinds: pd.Series, min_count: int) -> bool:
    """Whether some withheld count has only one value consistent with the others' sum and the bounds.

    The bounds are what the rule itself tells: a small count is 1 … ``min_count`` − 1; a secondary one is
    at least ``min_count`` and, being chosen smallest first, at most the smallest count still shown.
    """
    k = pd.Series(kinds).to_numpy(dtype=object)
    code = np.where(k == SMALL, 1, np.where(k == SECONDARY, 2, 0)).astype(np.int8)
    return _pinned(pd.to_numeric(pd.Series(values), errors="coerce").fillna(0).to_numpy(), code, min_count)


def _pinned(x: np.ndarray, code: np.ndarray, min_count: int) -> bool:
    """:func:`pinned` on arrays: counts ``x``, ``code`` 0 shown, 1 small, 2 secondary."""
    w = code > 0
    if not w.any():
        return False
    small = code[w] == 1
    total = float(x[w].sum())
    shown = x[~w & (x > 0)]
    cap = min(total, float(shown.min())) if len(shown) else total
    lo = np.where(small, 1.0, float(min_count))
    hi = np.where(small, float(min_count - 1), cap)
    low = np.maximum(lo, total - (hi.sum() - hi))  # the least each can be, the others as large as they may
    high = np.minimum(hi, total - (lo.sum() - lo))
    return bool((high <= low).any())


def protect_codes(x: np.ndarray, min_count: int) -> tuple[np.ndarray, bool]:
    """:func:`protect` of one set without parts or seeds, on an array: ``(code, total_ok)`` with ``code`` 0
    shown, 1 small, 2 secondary. The same steps without pandas (the attack tests call it many times)."""
    x = np.asarray(x, dtype=float)
    code = np.where((x > 0) & (x < min_count), 1, 0).astype(np.int8)
    while _pinned(x, code, min_count):
        free = np.flatnonzero((code == 0) & (x > 0))
        if not len(free):
            break
        code[free[np.argmin(x[free])]] = 2
    exposed = _pinned(x, code, min_count) and not 0 < x.sum() < min_count
    return code, not exposed
