"""Honest comparisons: Poisson z for counts."""

import numpy as np
import pandas as pd
import pytest

from geo import compare


def test_poisson_z_known_values():
    assert compare.poisson_z(100, 64) == pytest.approx(4.0)
    assert compare.poisson_z(9, 16) == pytest.approx(-2.0)
    assert compare.poisson_z(0, 0) == 0


def test_small_counts_do_not_light_up():
    # +100 % on tiny numbers is not meaningful
    res = compare.compare([6], [3])
    assert res.loc[0, "change_pct"] == pytest.approx(100)
    assert res.loc[0, "flag"] == "no_change"


def test_flags_by_threshold():
    z = np.array([3.5, 2.1, 0.5, -2.5, -3.0])
    assert compare.flag(z).tolist() == ["strong_increase", "increase", "no_change", "decrease", "strong_decrease"]


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        compare.poisson_z(-1, 3)


def test_year_earlier_handles_leap_day():
    s, e = compare.year_earlier(pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-29"))
    assert (s, e) == (pd.Timestamp("2023-02-01"), pd.Timestamp("2023-02-28"))


def test_compare_one_and_the_flag_texts():
    assert compare.compare_one(100, 64) == (pytest.approx(4.0), "strong_increase")
    assert compare.compare_one(6, 3)[1] == "no_change"
    assert set(compare.FLAG_TEXT) == set(compare.FLAGS)
