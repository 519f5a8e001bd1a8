"""Honest comparisons: the exact conditional test for two counts over periods of known lengths."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geo import compare


def test_p_value_is_twice_the_smaller_binomial_tail():
    # 100 against 64 over equal periods: current | 164 ~ Binomial(164, 1/2)
    expected = 2 * stats.binom.sf(99, 164, 0.5)
    assert compare.p_value(100, 64)[()] == pytest.approx(expected)
    # unequal lengths: 30 days against 60 days, q = 1/3
    assert compare.p_value(10, 10, 30, 60)[()] == pytest.approx(2 * stats.binom.sf(9, 20, 1 / 3))
    assert compare.p_value(3, 3)[()] == 1.0  # capped at 1


def test_small_counts_do_not_light_up():
    # +100 % on tiny numbers is not meaningful
    res = compare.compare([6], [3])
    assert res.loc[0, "change_pct"] == pytest.approx(100)
    assert res.loc[0, "flag"] == "no_change"


def test_flags_by_level_and_direction():
    p = np.array([0.001, 0.03, 0.5, 0.03, 0.0001, np.nan])
    sign = np.array([1, 1, 1, -1, -1, 0])
    assert compare.flag(p, sign).tolist() == [
        "strong_increase",
        "increase",
        "no_change",
        "decrease",
        "strong_decrease",
        "no_comparison",
    ]
    # the levels are the normal tails beyond 2 and 3
    assert compare.NOTEWORTHY == pytest.approx(2 * stats.norm.sf(2), abs=1e-4)
    assert compare.STRONG == pytest.approx(2 * stats.norm.sf(3), abs=1e-4)


def test_direction_is_that_of_the_rates():
    # 40 in 30 days against 60 in 60 days: more per day now, though fewer in all
    assert compare.direction(40, 60, 30, 60)[()] == 1
    assert compare.direction(20, 60, 30, 60)[()] == -1
    assert compare.direction(30, 60, 30, 60)[()] == 0


def test_nothing_to_compare_is_no_comparison():
    assert compare.compare_one(0, 0) == (pytest.approx(np.nan, nan_ok=True), compare.NO_COMPARISON)
    assert compare.compare_one(5, None)[1] == compare.NO_COMPARISON  # a period outside the data
    assert compare.compare_one(5, 3, 0, 30)[1] == compare.NO_COMPARISON  # a period of no length
    assert np.isnan(compare.p_value([np.nan, 4], [3, np.nan])).all()  # missing counts: not in the data
    assert compare.NO_COMPARISON in compare.FLAGS and compare.NO_COMPARISON not in compare.CHANGES


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        compare.p_value(-1, 3)
    with pytest.raises(ValueError, match="whole numbers"):
        compare.p_value(1.5, 3)


def test_year_earlier_handles_leap_day():
    s, e = compare.year_earlier(pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-29"))
    assert (s, e) == (pd.Timestamp("2023-02-01"), pd.Timestamp("2023-02-28"))


def test_compare_one_and_the_flag_texts():
    p, flag = compare.compare_one(100, 64)
    assert p == pytest.approx(2 * stats.binom.sf(99, 164, 0.5)) and flag == "increase"  # p = 0.006
    assert compare.compare_one(160, 100)[1] == "strong_increase"
    assert compare.compare_one(6, 3)[1] == "no_change"
    assert set(compare.FLAG_TEXT) == set(compare.FLAGS)
    assert not any("z" in text for text in compare.FLAG_TEXT.values())


def test_fdr_flags_many_at_once():
    p = np.array([0.01, 0.04, 0.5, np.nan])
    sign = np.array([1, 1, -1, 0])
    # one at a time both first are flagged; across three comparisons only the first survives
    assert compare.flag(p, sign).tolist()[:2] == ["increase", "increase"]
    assert compare.flag_fdr(p, sign).tolist() == ["increase", "no_change", "no_change", "no_comparison"]


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.025, "p = 0.03: a change this large happens by chance about 1 time in 40"),
        (0.004, "p = 0.004: a change this large happens by chance about 1 time in 250"),
        (0.00002, "p < 0.001: a change this large happens by chance less than 1 time in 10,000"),
        (0.6, "p = 0.60: a change this large often happens by chance"),
        (np.nan, ""),
    ],
)
def test_chance_in_plain_words(p, text):
    from geo import i18n

    assert compare.chance_text(p, i18n.translator("en")) == text
