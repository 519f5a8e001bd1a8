"""The permutation check of Gi* can confirm: enough permutations for every level after FDR, and agreement."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import hotspots as h

X0, Y0 = 7_490_000, 4_720_000  # metres, EPSG:9141
N = 20
HOT = (h.HOT_99, h.HOT_95, h.HOT_90)


@pytest.fixture(scope="module")
def queen():
    cells = [
        shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
        for j in range(N)
        for i in range(N)
    ]
    grid = gpd.GeoDataFrame({"section_id": [f"C{k:03d}" for k in range(N * N)]}, geometry=cells, crs="EPSG:9141")
    return h.neighbours(grid, "queen")


def _cell(i: int, j: int) -> int:
    return j * N + i


CLUSTER = [_cell(i, j) for i in range(8, 11) for j in range(8, 11)]


def test_the_count_lets_a_single_unit_reach_every_level_after_fdr():
    assert h.permutations_for(273) == 27_999
    assert h.permutations_for(2_000) == 199_999
    assert h.permutations_for(400) == 39_999
    assert h.permutations_for(5) == 999  # never fewer than the usual 999
    for n in (1, 10, 273, 400, 1_234, 2_000, 20_000):
        p = h.permutations_for(n)
        assert n / (p + 1) <= 0.01 + 1e-15  # the smallest p, corrected across n units, reaches 99 %
        assert p == 999 or n / (p + 1 - 1000) > 0.01  # and no more than a thousand too many
    assert h.permutations_for(273, alpha=0.05) == 5_999
    with pytest.raises(ValueError, match="alpha"):
        h.permutations_for(10, alpha=0)


def test_with_that_count_a_single_unit_at_the_floor_is_hot_at_99():
    n = 273
    z = np.zeros(n)
    z[0] = 5.0
    p = np.ones(n)
    p[0] = h.smallest_permutation_p(h.permutations_for(n))
    assert h.classify(z, p)[0] == h.HOT_99
    p[0] = h.smallest_permutation_p(999)  # the old fixed count: it cannot
    assert h.classify(z, p)[0] != h.HOT_99


def test_a_planted_cluster_is_hot_under_both_gi_and_the_permutation_check(queen):
    confirmed = 0
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        y = rng.poisson(3, N * N).astype(float)
        y[CLUSTER] = rng.poisson(15, len(CLUSTER))
        res = h.getis_ord(y, queen, permutations=h.permutations_for(N * N), seed=seed)
        assert res.loc[CLUSTER, "label"].isin(HOT).all()
        both = res["label"].isin(HOT) & res["label_sim"].isin(HOT)
        assert both[CLUSTER].sum() >= 6  # a corner's neighbourhood is mostly background: the check is stricter
        confirmed += int(both[CLUSTER].sum())
        centre = _cell(9, 9)
        assert res.loc[centre, "label"] == h.HOT_99 and res.loc[centre, "label_sim"] == h.HOT_99
        far = [_cell(0, 0), _cell(19, 19), _cell(0, 19), _cell(19, 0)]
        assert not res.loc[far, "label_sim"].isin(HOT).any()
        if seed == 0:  # the old fixed 999 permutations cannot confirm the centre at 99 %
            old = h.getis_ord(y, queen, permutations=999, seed=seed)
            assert old.loc[centre, "label_sim"] != h.HOT_99
    assert confirmed >= 35  # of 45 cluster cells


def test_a_random_pattern_gives_almost_nothing_under_either(queen):
    rng = np.random.default_rng(21)
    found = {"label": [], "label_sim": []}
    for seed in range(10):
        y = rng.poisson(4, N * N).astype(float)
        res = h.getis_ord(y, queen, permutations=h.permutations_for(N * N), seed=seed)
        for col, n in found.items():
            n.append(int((res[col] != h.NOT_SIGNIFICANT).sum()))
    for col, n in found.items():
        # FDR at 10 %: a map of pure chance shows nothing at all 9 times in 10; a chance spot brings its
        # neighbours, so a map that shows one shows a few
        assert sum(1 for k in n if k) <= 2, (col, n)
        assert sum(n) <= 20, (col, n)  # of 4,000 unit tests


def _reference(y, graph, permutations, seed):
    """The definition, unit by unit and draw by draw: u's neighbours are the first k drawn units that are not u."""
    n = len(y)
    adj = graph.adjacency.reset_index()
    adj.columns = ["focal", "neighbor", "weight"]
    adj = adj[(adj["weight"] > 0) & (adj["focal"] != adj["neighbor"])]
    pos = {uid: i for i, uid in enumerate(graph.unique_ids)}
    focal, neigh = adj["focal"].map(pos).to_numpy(), adj["neighbor"].map(pos).to_numpy()
    card = np.bincount(focal, minlength=n)
    observed = y + np.bincount(focal, weights=y[neigh], minlength=n)
    draws = h._ordered_draws(np.random.default_rng(seed), n, int(card.max()) + 1, permutations)
    total, tol = y.sum(), 1e-9 * max(1.0, y.sum())
    p = np.ones(n)
    for u in range(n):
        k = card[u]
        expected = y[u] + k * (total - y[u]) / (n - 1)
        far = 0
        for row in draws:
            sample = [d for d in row if d != u][:k]
            far += abs(y[u] + y[sample].sum() - expected) >= abs(observed[u] - expected) - tol
        p[u] = (far + 1) / (permutations + 1)
    return p


@pytest.mark.parametrize("weights", ["queen", "distance"])
def test_the_fast_count_equals_the_definition(queen, weights):
    rng = np.random.default_rng(22)
    y = rng.poisson(3, N * N).astype(float)
    y[CLUSTER] += 10
    y[:40] = 0  # ties with the many zeros of sparse counts
    graph = queen
    if weights == "distance":  # many neighbours: the other way of drawing
        cells = [
            shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
            for j in range(N)
            for i in range(N)
        ]
        graph = h.neighbours(gpd.GeoDataFrame(geometry=cells, crs="EPSG:9141"), "distance", 3500)
        assert (int(graph.cardinalities.max()) + 1) ** 2 > 2 * N * N
    fast = h.permutation_p(y, graph, 49, seed=3)
    assert np.array_equal(fast, _reference(y, graph, 49, 3))
    assert np.array_equal(fast, h.permutation_p(y, graph, 49, seed=3))  # seeded
    assert not np.array_equal(fast, h.permutation_p(y, graph, 49, seed=4))


def test_draws_are_distinct_and_uniform():
    rng = np.random.default_rng(23)
    for n, m in ((50, 4), (20, 15)):  # drawn with replacement and redrawn; Fisher–Yates
        d = h._ordered_draws(rng, n, m, 20_000)
        assert d.shape == (20_000, m)
        assert (np.sort(d, axis=1)[:, 1:] != np.sort(d, axis=1)[:, :-1]).all()
        first = np.bincount(d[:, 0], minlength=n) / 20_000  # each position is any unit with chance 1/n
        last = np.bincount(d[:, -1], minlength=n) / 20_000
        se = np.sqrt((1 / n) * (1 - 1 / n) / 20_000)
        assert np.abs(first - 1 / n).max() < 5 * se and np.abs(last - 1 / n).max() < 5 * se


# ---------------------------------------------------------------- the command line


def test_the_command_line_chooses_the_count_and_writes_the_check(tmp_path, capsys):
    from geo.cli import main

    out = tmp_path / "h.csv"
    assert main(["hotspots", "--permutations", "auto", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    n = len(doc["units"])
    assert doc["permutations"] == h.permutations_for(n)
    assert {"p_sim", "label_sim"} <= set(doc["units"][0])
    assert min(u["p_sim"] for u in doc["units"]) >= 1 / (doc["permutations"] + 1) - 1e-12
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns)[-2:] == ["p_sim", "label_sim"]
    assert main(["hotspots", "--permutations", "99"]) == 0
    assert "permutation check (99)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["hotspots", "--permutations", "many"])
    assert exc.value.code == 2
    assert "a number of permutations (0 for none) or auto" in capsys.readouterr().err


def test_public_mode_hides_the_check_of_withheld_sections(monkeypatch, capsys):
    from geo.cli import main

    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    assert main(["hotspots", "--permutations", "999", "--json"]) == 0
    units = json.loads(capsys.readouterr().out)["units"]
    withheld = [u for u in units if u["withheld"] == "small"]
    assert withheld and all(u["p_sim"] is None and u["label_sim"] == h.NOT_SIGNIFICANT for u in withheld)
