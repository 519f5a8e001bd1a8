"""Public-safe mode: the policy, what it removes, small-count suppression."""

import numpy as np
import pandas as pd
import pytest

from geo.public import PublicPolicy, strip_contacts, suppress


def test_off_unless_the_deployment_turns_it_on():
    assert PublicPolicy.from_settings({}) is None
    assert PublicPolicy.from_settings({"DASHBOARD_PUBLIC": "0"}) is None
    p = PublicPolicy.from_settings({"DASHBOARD_PUBLIC": "1"})
    assert p == PublicPolicy() and p.min_count == 5 and p.min_cell_m == 500
    assert p.sensitive == ("domestic_violence", "sexual_offence")


def test_settings_are_read():
    p = PublicPolicy.from_settings(
        {
            "DASHBOARD_PUBLIC": "true",
            "DASHBOARD_PUBLIC_MIN_COUNT": "10",
            "DASHBOARD_PUBLIC_MIN_CELL_M": "1000",
            "DASHBOARD_PUBLIC_SENSITIVE": "domestic_violence, sexual_offence, drugs",
        }
    )
    assert (p.min_count, p.min_cell_m) == (10, 1000.0)
    assert p.sensitive == ("domestic_violence", "sexual_offence", "drugs")
    assert p.bandwidth(200) == 1000 and p.bandwidth(1500) == 1500


@pytest.mark.parametrize("kwargs", [{"min_count": 0}, {"min_cell_m": 0}, {"min_cell_m": -5}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        PublicPolicy(**kwargs)


def test_suppress_hides_small_counts_and_keeps_them_out_of_totals():
    v = pd.Series({"A": 0, "B": 3, "C": 4, "D": 5, "E": 12})
    shown, small = suppress(v, 5)
    assert small.tolist() == [False, True, True, False, False]
    assert shown.isna().tolist() == [False, True, True, False, False]
    assert shown.sum() == 17  # 0 + 5 + 12: the total of what is shown; 3 and 4 cannot be recovered


@pytest.mark.parametrize(
    "text, name",
    [
        ("Fatmir Rama (+383 49 000 001, fatmir.rama@example.invalid)", "Fatmir Rama"),
        ("Ana Petrović (ana.petrovic@example.invalid)", "Ana Petrović"),
        ("Ilir Morina +383 49 000 006", "Ilir Morina"),
        ("Besa Krasniqi", "Besa Krasniqi"),
    ],
)
def test_contacts_are_stripped_from_officers(text, name):
    assert strip_contacts(text) == name


def test_apply_removes_everything_restricted(demo):
    public = PublicPolicy().apply(demo)
    inc = public.incidents
    assert inc["lon"].isna().all() and inc["lat"].isna().all()
    assert not inc["category"].astype(str).isin(["domestic_violence", "sexual_offence"]).any()
    assert len(inc) == (~demo.incidents["category"].astype(str).isin(["domestic_violence", "sexual_offence"])).sum()
    con = public.concerns
    assert con["lon"].isna().all()
    private = ~con["description_public"].astype(bool)
    assert con.loc[private, "description"].isna().all()
    assert not con["category"].astype(str).eq("domestic_violence").any()
    sec = public.sections
    hidden = ~sec["officers_public"].astype(bool)
    for officers in sec.loc[hidden, "officers"]:
        assert all("@" not in o and "+383" not in o for o in officers)
    # the original is untouched (it is shared between sessions)
    assert demo.incidents["lon"].notna().any()
    assert np.isfinite(demo.incidents["lat"]).any()
