"""Public-safe mode: the policy, what it removes, small-count suppression."""

import itertools

import numpy as np
import pandas as pd
import pytest

from geo.public import SECONDARY, SMALL, PublicPolicy, protect, protect_areas, strip_contacts, suppress


def test_off_unless_the_deployment_turns_it_on():
    assert PublicPolicy.from_settings({}) is None
    assert PublicPolicy.from_settings({"DASHBOARD_PUBLIC": "0"}) is None
    p = PublicPolicy.from_settings({"DASHBOARD_PUBLIC": "1"})
    assert p == PublicPolicy() and p.min_count == 5
    assert p.sensitive == ("domestic_violence", "sexual_offence")


def test_settings_are_read():
    p = PublicPolicy.from_settings(
        {
            "DASHBOARD_PUBLIC": "true",
            "DASHBOARD_PUBLIC_MIN_COUNT": "10",
            "DASHBOARD_PUBLIC_SENSITIVE": "domestic_violence, sexual_offence, drugs",
        }
    )
    assert p.min_count == 10
    assert p.sensitive == ("domestic_violence", "sexual_offence", "drugs")
    assert p.categories(["theft", "drugs", "assault"]) == ("theft", "assault")


@pytest.mark.parametrize("kwargs", [{"min_count": 0}, {"min_count": -5}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        PublicPolicy(**kwargs)


def test_suppress_hides_small_counts_and_keeps_them_out_of_totals():
    v = pd.Series({"A": 0, "B": 3, "C": 4, "D": 5, "E": 12})
    shown, small = suppress(v, 5)
    assert small.tolist() == [False, True, True, False, False]
    assert shown.isna().tolist() == [False, True, True, False, False]
    assert shown.sum() == 17  # 0 + 5 + 12: the total of what is shown; 3 and 4 cannot be recovered
    p = PublicPolicy()
    assert p.is_small(3) and not p.is_small(0) and not p.is_small(5)


def test_measures_withhold_small_counts_and_every_figure_made_from_them():
    m = pd.DataFrame(
        {
            "count": [12, 3, 8, 0, 40],
            "previous": [10, 9, 2, 0, 41],
            "change": [2, -6, 6, 0, -1],
            "rate": [1.2, 0.3, 0.8, 0.0, 4.0],
            "population": [10000, 10000, 10000, 10000, 10000],
            "flag": ["", "down", "up", "", ""],
        },
        index=pd.Index(["A", "B", "C", "D", "E"], name="section_id"),
    )
    out = PublicPolicy().measures(m)
    # now: B is small; C (8, the smallest other) is withheld with it, or B = total - the rest
    assert out["count_withheld"].tolist() == ["", "small", "secondary", "", ""]
    assert out["count"].isna().tolist() == [False, True, True, False, False]
    assert out["rate"].isna().tolist() == [False, True, True, False, False]
    # before: C is small, B (9) goes with it
    assert out["previous_withheld"].tolist() == ["", "secondary", "small", "", ""]
    assert out["change"].isna().tolist() == [False, True, True, False, False]
    assert out["flag"].isna().tolist() == [False, True, True, False, False]
    assert out["population"].tolist() == m["population"].tolist()
    assert out.loc["A", "count"] == 12 and out.loc["D", "count"] == 0 and out.loc["E", "previous"] == 41


@pytest.mark.parametrize(
    "text, name",
    [
        ("Fatmir Rama (+383 49 000 001, fatmir.rama@example.invalid)", "Fatmir Rama"),
        ("Ana Petrović (ana.petrovic@example.invalid)", "Ana Petrović"),
        ("Ilir Morina +383 49 000 006", "Ilir Morina"),
        ("Besa Krasniqi", "Besa Krasniqi"),
        ("Arben Hoxha 044.123.456", "Arben Hoxha"),
        ("Arben Hoxha (arben[at]example.invalid)", "Arben Hoxha"),
        ("Arben Hoxha +383 (0)44 123 456", "Arben Hoxha"),
        ("Drita Gashi, tel. 049-000-111", "Drita Gashi"),
        ("Nora Telaku", "Nora Telaku"),
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


def test_apply_leaves_no_trace_of_the_removed_records(demo):
    """No loader row numbers; concerns numbered 1 … n by date and category; meetings count public concerns."""
    public = PublicPolicy().apply(demo)
    assert "row" not in public.incidents and "row" not in public.concerns and "row" not in public.meetings
    con = public.concerns
    assert con["concern_id"].tolist() == [str(k) for k in range(1, len(con) + 1)]
    keys = list(zip(con["raised_on"], con["category"].astype(str), strict=True))
    assert keys == sorted(keys)
    linked = con["meeting_id"].astype("string").replace("", pd.NA).dropna().value_counts()
    raised = public.meetings.set_index("meeting_id")["concerns_raised"]
    assert (raised.reindex(linked.index) == linked).all() and raised.drop(linked.index).eq(0).all()
    restricted = demo.meetings.set_index("meeting_id")["concerns_raised"]
    assert (raised <= restricted.reindex(raised.index)).all() and raised.sum() < restricted.sum()
    # applying it twice gives the same public copy (a brief may be given the public copy again)
    again = PublicPolicy().apply(public)
    pd.testing.assert_frame_equal(again.concerns, con)
    pd.testing.assert_frame_equal(again.meetings, public.meetings)
    # the demo itself keeps its ids, rows and counts
    assert "row" in demo.concerns and demo.concerns["concern_id"].iloc[0] != "1"


def test_meetings_concerns_are_unknown_when_no_public_concern_names_a_meeting():
    from geo.public import public_meetings, renumber_concerns

    meetings = pd.DataFrame({"meeting_id": ["M1", "M2"], "concerns_raised": pd.array([3, 1], dtype="Int64")})
    concerns = pd.DataFrame(
        {
            "concern_id": pd.array(["K-9", "K-2", "K-5"], dtype="string"),
            "raised_on": pd.to_datetime(["2024-03-02", "2024-03-01", "2024-03-01"]),
            "category": ["road_safety", "road_safety", "drugs"],
            "meeting_id": pd.array([None, "", None], dtype="string"),
        }
    )
    assert public_meetings(meetings, concerns)["concerns_raised"].isna().all()
    ordered = renumber_concerns(concerns)
    assert ordered["concern_id"].tolist() == ["1", "2", "3"]
    assert ordered["category"].tolist() == ["drugs", "road_safety", "road_safety"]  # date, then category
    assert str(ordered["concern_id"].dtype) == "string"
    assert renumber_concerns(concerns.iloc[0:0]).empty


def test_protect_leaves_no_withheld_count_recoverable_from_the_total():
    """Brute force: whoever knows the total, the shown counts and the rule still has two or more
    possible values for every withheld count."""
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(3000):
        n = int(rng.integers(1, 7))
        v = pd.Series(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 30], size=n).astype(float))
        kinds, total_ok = protect(v, 5)
        assert (kinds == SMALL).tolist() == ((v > 0) & (v < 5)).tolist()  # every small count is withheld
        if not total_ok or 0 < v.sum() < 5:  # then the total itself is withheld or "fewer than 5"
            assert not total_ok or 0 < v.sum() < 5
            continue
        withheld = [i for i in v.index if kinds[i]]
        if not withheld:
            continue
        rest = int(v[withheld].sum())
        shown = [int(x) for i, x in v.items() if not kinds[i] and x > 0]
        cap = min([rest, *shown])  # a secondary one is picked smallest first: at most the smallest shown
        ranges = [range(1, 5) if kinds[i] == SMALL else range(5, cap + 1) for i in withheld]
        possible = {i: set() for i in withheld}
        for combo in itertools.product(*ranges):
            if sum(combo) == rest:
                for i, x in zip(withheld, combo, strict=True):
                    possible[i].add(x)
        assert all(len(p) >= 2 for p in possible.values()), (v.tolist(), kinds.tolist(), possible)
        checked += 1
    assert checked > 1000


def test_the_order_of_choice_gives_nothing_away():
    # 4, 5, 5, 20 with the total shown: withholding 4 and one 5 would pin both (the other must be the
    # smallest shown, 5, so the small one is 4); the rule withholds both 5s
    kinds, ok = protect(pd.Series({"S1": 4, "S2": 5, "S3": 5, "S4": 20}), 5)
    assert kinds.tolist() == [SMALL, SECONDARY, SECONDARY, ""] and ok


def test_a_part_that_cannot_be_protected_withholds_the_total():
    values = pd.Series({"A": 4, "B": 4, "C": 30, "D": 40})
    groups = [pd.Series({"A": "Ferizaj", "B": "Ferizaj", "C": "Prizren", "D": "Prizren"})]
    kinds, ok = protect(values, 5, groups)
    # Ferizaj's 8 = 4 + 4 whatever else is withheld: its total must not be shown next to these
    assert kinds[["A", "B"]].tolist() == [SMALL, SMALL] and not ok
    kinds, ok = protect(pd.Series({"A": 4, "B": 4}), 5)
    assert not ok


def test_protect_examples():
    kinds, ok = protect(pd.Series({"a": 3, "b": 20, "c": 7, "d": 0}), 5)
    assert kinds.to_dict() == {"a": SMALL, "b": "", "c": SECONDARY, "d": ""} and ok
    kinds, ok = protect(pd.Series({"a": 4, "b": 4}), 5)  # 8 = 4 + 4 only: the total must go too
    assert not ok
    kinds, ok = protect(pd.Series({"a": 0, "b": 12}), 5)
    assert (kinds == "").all() and ok


def area_sections() -> pd.DataFrame:
    """S1–S4 in Prishtinë and S5 in Fushë Kosovë (region Prishtinë); S6–S7 in Ferizaj (region Ferizaj)."""
    return pd.DataFrame(
        {
            "section_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7"],
            "municipality": ["Prishtinë"] * 4 + ["Fushë Kosovë", "Ferizaj", "Ferizaj"],
            "region": ["Prishtinë"] * 5 + ["Ferizaj"] * 2,
        }
    )


def test_a_small_municipality_is_not_the_difference_of_two_shown_totals():
    counts = pd.Series({"S1": 20, "S2": 20, "S3": 20, "S4": 20, "S5": 3, "S6": 30, "S7": 30})
    out = protect_areas(counts, area_sections(), 5)
    assert out[("municipality", "Fushë Kosovë")] == SMALL
    # region Prishtinë (83) minus municipality Prishtinë (80) would be Fushë Kosovë's 3
    assert ("municipality", "Prishtinë") in out or ("region", "Prishtinë") in out


def test_a_region_whose_sections_give_each_other_away_is_withheld_everywhere():
    counts = pd.Series({"S1": 20, "S2": 20, "S3": 20, "S4": 20, "S5": 20, "S6": 4, "S7": 4})
    out = protect_areas(counts, area_sections(), 5)
    # Ferizaj's 8 with both sections "fewer than 5" would make each 4; Kosovo minus Prishtinë would give the 8
    assert ("region", "Ferizaj") in out and (("region", "Prishtinë") in out or ("all", "") in out)


def test_large_areas_are_all_shown():
    counts = pd.Series({"S1": 20, "S2": 20, "S3": 20, "S4": 20, "S5": 20, "S6": 30, "S7": 30})
    assert protect_areas(counts, area_sections(), 5) == {}
