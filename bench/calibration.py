"""False-positive rates of the period comparison, before and after: ``python -m bench.calibration``.

Simulates pairs of Poisson counts of one true rate (``rate`` events per
current period; the previous period has the same length, or 1.5 times it for
"unequal", with proportionally more events) and prints, for each level, the
share of pairs flagged by the old test (``z = 2(√current − √previous)``, with
the previous count scaled to the current length for unequal periods, and as
the old code computed it, lengths ignored) and by
the new exact conditional test (:func:`geo.compare.p_value`). Seeded. Not part
of the test suite (``tests/test_calibration.py`` asserts the new rates).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from geo import compare

RATES = (0.5, 1, 2, 20, 200, 2000, 10000)
LENGTHS = {"equal": (30, 30), "unequal": (30, 45)}
LEVELS = {"noteworthy": (2.0, compare.NOTEWORTHY), "strong": (3.0, compare.STRONG)}


def old_z(current: np.ndarray, previous: np.ndarray, days_current: float, days_previous: float) -> np.ndarray:
    """The old statistic; for unequal lengths the previous count scaled to the current period's (the
    nearest the old code could come: it ignored lengths)."""
    return 2.0 * (np.sqrt(current) - np.sqrt(previous * days_current / days_previous))


def table(pairs: int = 200_000, seed: int = 11) -> list[dict[str, object]]:
    """One row per rate × lengths × level: ``old`` and ``new`` false-positive shares, the nominal level."""
    rng = np.random.default_rng(seed)
    rows = []
    for rate in RATES:
        for name, (tc, tp) in LENGTHS.items():
            c = rng.poisson(rate, pairs)
            p = rng.poisson(rate * tp / tc, pairs)
            z = old_z(c, p, tc, tp)
            z_raw = old_z(c, p, 1, 1)  # what the old code computed: lengths ignored
            pv = compare.p_value(c, p, tc, tp)
            for level, (z_cut, alpha) in LEVELS.items():
                rows.append(
                    {
                        "rate": rate,
                        "lengths": f"{name} ({tc}/{tp} d)",
                        "level": f"{level} ({alpha})",
                        "old": float(np.mean(np.abs(z) >= z_cut)),
                        "old_raw": float(np.mean(np.abs(z_raw) >= z_cut)),
                        "new": float(np.mean(np.isfinite(pv) & (pv < alpha))),
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200_000, help="simulated pairs per rate and lengths")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    print(f"False-positive rate, {args.pairs:,} pairs of one true rate each (seed {args.seed})\n")
    print("| rate per period | lengths | level | old: 2(√c − √p) | old, lengths ignored | new: exact conditional |")
    print("|---:|---|---|---:|---:|---:|")
    for r in table(args.pairs, args.seed):
        print(
            f"| {r['rate']:g} | {r['lengths']} | {r['level']} | {r['old']:.2%} | {r['old_raw']:.2%} | {r['new']:.2%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
