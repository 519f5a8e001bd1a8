"""Calibration by simulation: chance alone must not look like a change (seeded, fast).

Known answers, no timings. The false-positive rate of every test is checked
against its nominal level plus three Monte-Carlo standard errors; power is
asserted too, so that a test that never flags cannot pass.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from geo import compare, concerns, figures, public

PAIRS = 20_000
RATES = (0.5, 2, 20, 200, 2000)
#: days of the current and the previous period: equal, a month against February, a month against a quarter
LENGTHS = ((30, 30), (31, 28), (30, 91))
LEVELS = (compare.NOTEWORTHY, compare.STRONG)
CHANGED = {"increase", "strong_increase", "decrease", "strong_decrease"}


def bound(alpha: float, n: int) -> float:
    """Nominal level plus three Monte-Carlo standard errors of a share estimated from ``n`` draws."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / n)


# ---------------------------------------------------------------- one comparison


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lengths", LENGTHS, ids=lambda t: f"{t[0]}v{t[1]}d")
def test_false_positive_rate_is_at_most_nominal(rate, lengths):
    days_now, days_before = lengths
    rng = np.random.default_rng([11, int(rate * 10), days_now, days_before])
    current = rng.poisson(rate, PAIRS)  # ``rate`` events expected in the current period
    previous = rng.poisson(rate * days_before / days_now, PAIRS)  # the same rate per day
    p = compare.p_value(current, previous, days_now, days_before)
    sign = compare.direction(current, previous, days_now, days_before)
    flags = compare.flag(p, sign)
    for alpha in LEVELS:
        assert np.mean(p < alpha) <= bound(alpha, PAIRS), (rate, lengths, alpha)
    assert np.mean(np.isin(flags, list(CHANGED))) <= bound(compare.NOTEWORTHY, PAIRS)
    assert np.mean(np.isin(flags, ["strong_increase", "strong_decrease"])) <= bound(compare.STRONG, PAIRS)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("lengths", LENGTHS, ids=lambda t: f"{t[0]}v{t[1]}d")
def test_false_positive_rate_is_at_most_nominal_on_published_counts(rate, lengths):
    """The same, on what public mode shows: both periods' counts published with the default perturbation
    table, each with its own random cell key (uniform, as the sum of its records' HMAC keys is).

    The noise adds false alarms where counts are small, within the bound: at 20 events a month, p < 0.05
    in 3.9 % of pairs against 3.2 % on true counts; at 2 against 91 days, p < 0.01 in 0.26 % against
    0.08 % (the bound is 0.38 %)."""
    days_now, days_before = lengths
    rng = np.random.default_rng([13, int(rate * 10), days_now, days_before])
    table = public.default_table()
    current = table.perturb(rng.poisson(rate, PAIRS), rng.integers(0, public.N_KEYS, PAIRS))
    previous = table.perturb(rng.poisson(rate * days_before / days_now, PAIRS), rng.integers(0, public.N_KEYS, PAIRS))
    p = compare.p_value(current, previous, days_now, days_before)
    sign = compare.direction(current, previous, days_now, days_before)
    flags = compare.flag(p, sign)
    for alpha in LEVELS:
        assert np.mean(p < alpha) <= bound(alpha, PAIRS), (rate, lengths, alpha, np.mean(p < alpha))
    assert np.mean(np.isin(flags, list(CHANGED))) <= bound(compare.NOTEWORTHY, PAIRS)
    assert np.mean(np.isin(flags, ["strong_increase", "strong_decrease"])) <= bound(compare.STRONG, PAIRS)


def test_a_doubled_rate_is_found():
    rng = np.random.default_rng(7)
    current, previous = rng.poisson(400, PAIRS), rng.poisson(200, PAIRS)  # 200 → 400 expected
    p, flags = compare.p_value(current, previous), compare.flag(compare.p_value(current, previous), 1)
    assert np.mean(flags == "strong_increase") >= 0.99 and np.mean(p < compare.STRONG) >= 0.99
    # the same the other way, and over periods of unequal length (twice the events per day in 30 days as in 60)
    down = compare.compare(rng.poisson(200, PAIRS), rng.poisson(400, PAIRS))
    assert np.mean(down["flag"] == "strong_decrease") >= 0.99
    unequal = compare.compare(rng.poisson(400, PAIRS), rng.poisson(400, PAIRS), 30, 60)
    assert np.mean(unequal["flag"] == "strong_increase") >= 0.99


@pytest.mark.parametrize(
    ("current", "previous", "flag"),
    [
        (9, 4, "no_change"),  # the demo's fatal accidents: the old z = 2(√9 − √4) = 2 said "Increase"
        (1, 0, "no_change"),  # the old z = 2: "statistically meaningful" in the brief
        (0, 1, "no_change"),
        (0, 0, compare.NO_COMPARISON),
        (160, 100, "strong_increase"),  # p = 0.0002
        (100, 160, "strong_decrease"),
    ],
)
def test_the_old_failure_cases(current, previous, flag):
    assert compare.compare_one(current, previous)[1] == flag


# ---------------------------------------------------------------- worry against incidents


def simulate_area(rng, share, concern_totals, incident_totals, worry=None):
    """Concerns and incidents per section (rows) and category (columns) of one area, both Poisson with the
    same spatial pattern ``share``; ``worry`` multiplies the concerns of some sections (planted worry)."""
    lam_c = share[:, None] * np.asarray(concern_totals)[None, :]
    if worry is not None:
        lam_c = lam_c * worry[:, None]
    lam_n = share[:, None] * np.asarray(incident_totals)[None, :]
    return rng.poisson(lam_c), rng.poisson(lam_n)


def test_worry_against_incidents_is_calibrated():
    rng = np.random.default_rng(2026)
    sections, areas = 40, 1_000
    share = rng.gamma(1.5, size=sections)
    share /= share.sum()  # some sections expect less than one concern
    p_all, any_flag = [], 0
    for _area in range(areas):
        c, n = simulate_area(rng, share, (60, 15), (900, 40))
        p, _sign = concerns.agreement_p(c, n)
        p_all.append(p)
        any_flag += bool((compare.adjusted(p) < compare.NOTEWORTHY).any())
    p_all = np.concatenate(p_all)
    tested = np.isfinite(p_all)
    for alpha in LEVELS:
        assert np.mean(p_all[tested] < alpha) <= bound(alpha, int(tested.sum())), alpha
    # after Benjamini–Hochberg across the sections: an area with nothing going on has any section flagged
    # in at most 4.55 % of the simulations (with no true difference, FDR is the chance of any flag)
    assert any_flag / areas <= bound(compare.NOTEWORTHY, areas)


def test_the_old_worry_failure_and_a_planted_worry():
    rng = np.random.default_rng(5)
    share = np.full(40, 1 / 40)
    # no concern where about one was expected: the old test (z = 2(√0 − √1) = −2) flagged this about 37 %
    # of the time as "incidents without worry"
    small = []
    for _area in range(300):
        c, n = simulate_area(rng, share, (40,), (400,))
        p, _sign = concerns.agreement_p(c, n)
        small.append(p[c[:, 0] == 0])
    small = np.concatenate(small)
    assert len(small) > 1000 and np.mean(small < compare.NOTEWORTHY) == 0
    # planted: two sections worry three times as much as their incidents explain (30 concerns against 10)
    worry = np.ones(40)
    worry[:2] = 3.0
    found, elsewhere = 0, 0
    for _area in range(300):
        c, n = simulate_area(rng, share, (400,), (4000,), worry)
        p, sign = concerns.agreement_p(c, n)
        flagged = compare.adjusted(p) < compare.NOTEWORTHY
        found += int((flagged & (sign > 0))[:2].sum())
        elsewhere += int(flagged[2:].sum())
    assert found / 600 >= 0.8  # after FDR across 40 sections: found in more than four areas out of five
    assert elsewhere / (300 * 38) <= 0.01


# ---------------------------------------------------------------- many sections on one map

MARCH = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))


def map_measures(current: np.ndarray, previous: np.ndarray) -> pd.DataFrame:
    """:func:`geo.figures.section_measures` for sections with these counts in March and the period before
    (February: :meth:`~geo.figures.Period.previous` of a calendar month is the previous month)."""
    ids = [f"S{i:03d}" for i in range(len(current))]
    sections = pd.DataFrame({"section_id": ids, "population": 5000})
    before = MARCH.previous()
    rows = []
    for i, sid in enumerate(ids):  # one record per section and period, dated so that the data spans both
        rows.append((pd.Timestamp(MARCH.start) + pd.Timedelta(days=i % MARCH.days), sid, "theft", int(current[i])))
        rows.append((pd.Timestamp(before.start) + pd.Timedelta(days=i % before.days), sid, "theft", int(previous[i])))
    incidents = pd.DataFrame(rows, columns=["occurred_at", "section_id", "category", "count"])
    return figures.section_measures(sections, incidents, MARCH, ("theft",))


def test_map_flags_are_few_on_one_true_rate_and_find_a_planted_change():
    rng = np.random.default_rng(300)
    rate = np.full(300, 20.0)  # a month (31 days) …
    before = rate * MARCH.previous().days / MARCH.days  # … and the same rate per day in February
    assert MARCH.previous() == figures.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    m = map_measures(rng.poisson(rate), rng.poisson(before))
    assert (m["p"] < compare.NOTEWORTHY).sum() >= 5  # one at a time, chance alone "finds" changes …
    assert m["flag"].isin(CHANGED).sum() <= 3  # … after FDR across the 300 sections, at most a handful
    planted = rate.copy()
    planted[[3, 50, 120, 200, 299]] = 80.0  # five sections go from 20 to 80 a month
    m = map_measures(rng.poisson(planted), rng.poisson(before))
    assert set(m.index[m["flag"] == "strong_increase"]) >= {"S003", "S050", "S120", "S200", "S299"}
    assert m["flag"].isin(CHANGED).sum() <= 5 + 3
