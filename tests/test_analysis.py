"""geo.analysis: the analyses the dashboard caches and the command line prints, on small hand-made data.

No AppTest: each function is called on :func:`small_dataset` (a 6 × 6 grid of sections with a planted
cluster, January–April 2024) or :func:`tiny_dataset`, and checked against the library functions it puts
together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import CLUSTER, public_policy, small_dataset, tiny_dataset

from geo import analysis, concerns, figures, hotspots, public

QUARTER = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
PRISHTINE = figures.Filters(municipality="Prishtinë")
EVERY = figures.Filters(categories=figures.DEFAULT_CATEGORIES)


@pytest.fixture(scope="module")
def small():
    return small_dataset()


@pytest.fixture(scope="module")
def published(small):
    """The public copy of :func:`small_dataset` and its policy."""
    policy = public_policy()
    return policy, policy.apply(small)


def ids_of(data, filters) -> list[str]:
    return figures.select_sections(data.sections, filters)["section_id"].astype(str).tolist()


# ---------------------------------------------------------------- measures and headline figures


def test_area_measures_are_those_of_the_area_sections_and_the_filters_categories(small):
    got = analysis.area_measures(small, figures.Filters(municipality="Fushë Kosovë", categories=("theft",)), QUARTER)
    sections = figures.select_sections(small.sections, figures.Filters(municipality="Fushë Kosovë"))
    expected = figures.section_measures(sections, small.cube, QUARTER, ("theft",))
    assert list(got.index) == ids_of(small, figures.Filters(municipality="Fushë Kosovë")) and len(got) == 18
    pd.testing.assert_frame_equal(got, expected)
    every = analysis.area_measures(small, figures.Filters(municipality="Fushë Kosovë"), QUARTER)
    assert (every["count"] >= got["count"]).all() and (every["count"] > got["count"]).any()  # the default: more


def test_public_measures_mark_published_counts_below_the_minimum(published):
    policy, data = published
    got = analysis.public_measures(data, policy, QUARTER, ("burglary",))
    counts = data.cube.incident_counts(QUARTER, ("burglary",)).reindex(got.index, fill_value=0)
    small = counts.map(policy.is_small)
    assert small.any() and (~small).any()  # the control: both kinds present
    assert (got["count_withheld"] == np.where(small, public.SMALL, "")).all()
    assert got.loc[small.to_numpy(), "rate"].isna().all()
    assert len(got) == len(data.sections)  # every section, whatever the area


def test_headlines_of_a_restricted_and_of_a_public_dataset(small, published):
    policy, data = published
    assert analysis.headlines(small, PRISHTINE, QUARTER) == figures.headlines(
        small.cube, small.concerns, small.committees, small.sections, PRISHTINE, QUARTER
    )
    assert analysis.headlines(data, PRISHTINE, QUARTER) == public.headlines(policy, data, PRISHTINE, QUARTER)
    assert analysis.headlines(data, PRISHTINE, QUARTER) != analysis.headlines(small, PRISHTINE, QUARTER)


# ---------------------------------------------------------------- hot spots


def test_small_sections_are_those_public_measures_withhold(published):
    policy, data = published
    cats = figures.DEFAULT_CATEGORIES
    ids = pd.Index(ids_of(data, figures.Filters()))
    got = analysis.small_sections(data, policy, QUARTER, ("assault",), ids)
    marked = analysis.public_measures(data, policy, QUARTER, ("assault",))["count_withheld"] != ""
    assert got.any() and list(got.index) == list(ids)
    assert (got == marked.reindex(ids)).all()
    assert not analysis.small_sections(data, policy, QUARTER, cats, pd.Index(list(CLUSTER))).any()


def test_section_hotspots_restricted_are_gi_star_of_the_area_counts(small):
    filters = figures.Filters(municipality="Prishtinë", categories=figures.DEFAULT_CATEGORIES)
    got = analysis.section_hotspots(small, filters, QUARTER, "count", "queen", None, 0)
    sections = figures.select_sections(small.sections, filters)
    counts = figures.incident_counts(small.cube, QUARTER, figures.DEFAULT_CATEGORIES)
    expected = hotspots.section_hotspots(sections, counts, "count", "queen", None, 0, seed=0)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == 18 and list(got.index) == ids_of(small, filters)
    everywhere = analysis.section_hotspots(small, EVERY, QUARTER)
    assert set(CLUSTER) <= set(everywhere.index[everywhere["label"].str.startswith("hot")])  # the planted cluster


def test_section_hotspots_auto_permutations(small):
    got = analysis.section_hotspots(small, PRISHTINE, QUARTER, permutations="auto", seed=3)
    again = analysis.section_hotspots(small, PRISHTINE, QUARTER, permutations=hotspots.permutations_for(18), seed=3)
    pd.testing.assert_frame_equal(got, again)
    assert "label_sim" in got


def test_public_section_hotspots_enter_small_counts_as_zero_and_label_them_not_significant(small):
    """A section amid the cluster whose published count shows as "fewer than N": its true count makes it
    hot; in public it enters as 0 and has no z, p, permutation p or value."""
    sid = CLUSTER[0]
    inc = small.incidents
    mine = inc.index[
        (inc["section_id"] == sid) & (inc["category"] != "traffic_ticket") & QUARTER.mask(inc["occurred_at"])
    ]
    restricted = replace(small, incidents=inc.drop(mine[1:]).reset_index(drop=True))
    assert analysis.section_hotspots(restricted, EVERY, QUARTER).loc[sid, "label"] != hotspots.NOT_SIGNIFICANT
    policy = public_policy()
    data = policy.apply(restricted)
    got = analysis.section_hotspots(data, EVERY, QUARTER, permutations=99, policy=policy)
    small_ones = analysis.small_sections(data, policy, QUARTER, figures.DEFAULT_CATEGORIES, got.index)
    assert small_ones[sid]
    hidden = got.loc[small_ones.to_numpy()]
    assert (hidden["label"] == hotspots.NOT_SIGNIFICANT).all() and (
        hidden["label_sim"] == hotspots.NOT_SIGNIFICANT
    ).all()
    assert hidden[list(analysis.WITHHELD_COLUMNS)].isna().all().all() and (hidden["count"] == 0).all()
    shown = got.loc[~small_ones.to_numpy()]
    assert shown["z"].notna().all() and shown["p_sim"].notna().all()
    published_counts = data.cube.incident_counts(QUARTER, figures.DEFAULT_CATEGORIES).reindex(shown.index, fill_value=0)
    assert (shown["count"] == published_counts).all()


def test_public_section_hotspots_refuse_a_restricted_dataset(small):
    with pytest.raises(ValueError, match="public dataset"):
        analysis.section_hotspots(small, EVERY, QUARTER, policy=public_policy())


def test_grid_hotspots_count_the_area_located_incidents(small):
    filters = figures.Filters(municipality="Fushë Kosovë", categories=("theft", "burglary"))
    cells, result = analysis.grid_hotspots(small, filters, QUARTER, 1000.0)
    assert cells.crs.to_epsg() == 4326 and list(result.index) == cells["cell_id"].astype(str).tolist()
    located, _unlocated = figures.located_incidents(
        small.cube, QUARTER, ("theft", "burglary"), pd.Index(ids_of(small, filters))
    )
    assert result["count"].sum() == located["count"].sum() > 0
    west = cells.geometry.union_all().bounds[0]
    assert west >= 21.13 - 1e-6  # Fushë Kosovë's columns only (the grid starts at 21.13°E)


def test_density_of_the_area_and_its_unlocated_incidents(small, published):
    with_tickets = figures.Filters(municipality="Prishtinë", categories=("theft", "traffic_ticket"))
    got = analysis.density(small, with_tickets, QUARTER, 500.0)
    located, unlocated = figures.located_incidents(
        small.cube, QUARTER, ("theft", "traffic_ticket"), pd.Index(ids_of(small, with_tickets))
    )
    assert got.points == located["count"].sum() > 0 and got.unlocated == unlocated > 0  # tickets: by section only
    assert got.grid is not None and got.mask.area > 0
    assert got.mask.bounds[2] <= figures.select_sections(small.sections, with_tickets).to_crs(9141).total_bounds[2] + 1
    _policy, data = published  # no coordinates in public: nothing to draw
    empty = analysis.density(data, EVERY, QUARTER, 500.0)
    assert empty.grid is None and empty.points == 0


def test_prediction_compares_the_predictors_of_the_area(small):
    train = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 2, 29))
    test = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    got = analysis.prediction(small, PRISHTINE, train, test, 0.2, 800.0)
    ids = pd.Index(ids_of(small, PRISHTINE))
    assert set(got.index) == {"density", "gi_star", "last_period"}
    assert got.attrs == {
        "train_total": int(figures.incident_counts(small.cube, train, figures.DEFAULT_CATEGORIES, ids).sum()),
        "test_total": int(figures.incident_counts(small.cube, test, figures.DEFAULT_CATEGORIES, ids).sum()),
    }
    assert got.loc["last_period", "pai"] > 1 and got.loc["density", "pai"] > 1  # the cluster is where it was


def test_agreement_is_section_agreement_of_the_window(small):
    window = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 4, 30))
    got = analysis.agreement(small, PRISHTINE, window, ("theft",))
    ids = pd.Index(ids_of(small, PRISHTINE))
    expected = concerns.section_agreement(
        concerns.raised_in(small.concerns, window.start, window.end),
        figures.counts_by_category(small.cube, window, ids),
        ids,
        ("theft",),
    )
    pd.testing.assert_frame_equal(got, expected)
    assert list(got.index) == list(ids) and got.loc[list(CLUSTER[:1]), "concerns"].sum() > 0


def test_the_analyses_never_modify_the_dataset():
    data = tiny_dataset()
    before = {name: getattr(data, name).copy() for name in ("sections", "incidents", "concerns")}
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    analysis.area_measures(data, figures.Filters(), march)
    analysis.section_hotspots(data, figures.Filters(), march)
    analysis.grid_hotspots(data, figures.Filters(), march, 1000.0)
    analysis.density(data, figures.Filters(), march, 500.0)
    analysis.agreement(data, figures.Filters(), march, ())
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(data, name), frame)


# ---------------------------------------------------------------- the command line prints the same analyses


@pytest.mark.parametrize("public_version", [False, True], ids=["restricted", "public"])
def test_the_hotspots_command_prints_the_dashboard_s_section_hotspots(public_version, monkeypatch, capsys):
    import json

    from geo import cli

    monkeypatch.setattr(cli, "_load_or_fail", lambda args: small_dataset())
    argv = ["hotspots", "--from", "2024-01-01", "--to", "2024-03-31", "--json"]
    assert cli.main(argv + (["--public"] if public_version else [])) == 0
    units = pd.DataFrame(json.loads(capsys.readouterr().out)["units"]).set_index("section_id")
    policy = public_policy() if public_version else None
    data = policy.apply(small_dataset()) if policy else small_dataset()
    expected = analysis.section_hotspots(data, EVERY, QUARTER, policy=policy)
    assert list(units.index) == list(expected.index)
    assert np.allclose(units["z"].astype(float), expected["z"], equal_nan=True)
    assert (units["label"] == expected["label"]).all()
    if public_version:
        hidden = expected["z"].isna()
        assert hidden.any() and units.loc[hidden.to_numpy(), "count"].isna().all()


def test_the_hotspots_command_prints_the_dashboard_s_grid_hotspots(monkeypatch, capsys):
    import json

    from geo import cli

    monkeypatch.setattr(cli, "_load_or_fail", lambda args: small_dataset())
    argv = ["hotspots", "--from", "2024-01-01", "--to", "2024-03-31", "--unit", "grid", "--cell-m", "1000", "--json"]
    assert cli.main(argv) == 0
    units = pd.DataFrame(json.loads(capsys.readouterr().out)["units"]).set_index("cell_id")
    _cells, expected = analysis.grid_hotspots(small_dataset(), EVERY, QUARTER, 1000.0)
    assert list(units.index) == list(expected.index) and units["count"].sum() == expected["count"].sum() > 0
    assert np.allclose(units["z"].astype(float), expected["z"], equal_nan=True)
