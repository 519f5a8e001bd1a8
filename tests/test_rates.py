"""Rates that small populations cannot inflate: empirical-Bayes smoothing, the minimum population, national classes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geo import figures, i18n, maps, rates

# ---------------------------------------------------------------- smoothed rates against hand-computed values


def test_a_small_example_pysal_inverts_and_the_clamp_corrects():
    e = np.array([1.0, 2.0, 3.0, 0.0])
    n = np.array([100.0, 300.0, 250.0, 200.0])
    # by hand: b = 6/850 = 0.0070588 per resident; rates 0.01, 0.00667, 0.012, 0;
    # s² = Σ nᵢ (rᵢ − b)² / Σ nᵢ = (0.000865 + 0.0000461 + 0.0061038 + 0.0099654) / 850 = 1.9977e-5;
    # b / n̄ = 0.0070588 / 212.5 = 3.3218e-5 > s², so a = s² − b/n̄ = −1.324e-5 < 0: no evidence of real
    # differences between these four, and the variance is clamped at 0
    b, a = rates.eb_prior(e, n)
    assert b == pytest.approx(6 / 850)
    assert a == 0.0
    assert rates.eb_weights(e, n) == pytest.approx([0, 0, 0, 0])
    assert rates.eb_rates(e, n) == pytest.approx([1000 * 6 / 850] * 4)  # 7.0588 per 1,000 for each

    # PySAL's Empirical_Bayes, the same formula without the clamp: negative weights (−0.23, −0.60, −0.88 …),
    # and the section with no incident comes out highest, the one with the highest rate lowest
    from esda.smoothing import Empirical_Bayes

    pysal = Empirical_Bayes(e.reshape(-1, 1), n.reshape(-1, 1)).r.ravel() * 1000
    assert pysal == pytest.approx([6.380, 7.564, 2.695, 11.297], abs=1e-3)
    assert np.argmax(pysal) == 3 and np.argmin(pysal) == 2  # inverted: raw rates 10, 6.7, 12, 0 per 1,000


def test_a_second_example_with_real_differences():
    e = np.array([2.0, 30.0, 5.0, 60.0])
    n = np.array([1000.0, 2000.0, 400.0, 3000.0])
    # by hand: b = 97/6400 = 0.01515625; s² = 0.246345 / 6400 = 3.84914e-5; n̄ = 1600, b/n̄ = 9.4727e-6;
    # a = 2.90187e-5; weights a / (a + b/nᵢ) = 0.6569, 0.7929, 0.4337, 0.8517
    b, a = rates.eb_prior(e, n)
    assert b == pytest.approx(97 / 6400)
    assert a == pytest.approx(2.90187e-5, rel=1e-4)
    assert rates.eb_weights(e, n) == pytest.approx([0.6569, 0.7929, 0.4337, 0.8517], abs=1e-4)
    # 0.6569 · 2 + 0.3431 · 15.156 = 6.514, …: raw 2, 15, 12.5, 20 per 1,000
    smoothed = rates.eb_rates(e, n)
    assert smoothed == pytest.approx([6.514, 15.032, 14.004, 19.282], abs=1e-3)
    # the small section's 12.5 moves most, towards 15.16; with a > 0 PySAL agrees
    from esda.smoothing import Empirical_Bayes

    assert Empirical_Bayes(e.reshape(-1, 1), n.reshape(-1, 1)).r.ravel() * 1000 == pytest.approx(smoothed)


def test_equal_rates_give_that_rate_where_pysal_gives_nan():
    e = np.array([2.0, 4.0, 6.0])
    n = np.array([100.0, 200.0, 300.0])
    assert rates.eb_rates(e, n) == pytest.approx([20.0, 20.0, 20.0])
    from esda.smoothing import Empirical_Bayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        equal = Empirical_Bayes(np.array([[2.0], [2.0], [2.0]]), np.array([[100.0], [100.0], [100.0]])).r.ravel()
    assert np.isnan(equal).all()
    assert rates.eb_rates(np.array([2.0, 2.0, 2.0]), np.array([100.0, 100.0, 100.0])) == pytest.approx([20.0] * 3)


def test_zero_and_missing_populations_get_no_rate_and_stay_out_of_the_prior():
    e = np.array([1.0, 2.0, 3.0, 0.0, 4.0, np.nan])
    n = np.array([100.0, 200.0, 300.0, 0.0, np.nan, 500.0])
    out = rates.eb_rates(e, n)
    assert np.isnan(out[3:]).all()  # zero population, unknown population, unknown (withheld) count
    assert out[:3] == pytest.approx(rates.eb_rates(e[:3], n[:3]))  # the prior of the other three only
    assert out[:3] == pytest.approx([10.0, 10.0, 10.0])  # 6 in 600: equal rates
    from esda.smoothing import Empirical_Bayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pysal = Empirical_Bayes(np.array([[1.0], [2.0], [3.0], [0.0]]), np.array([[100.0], [200.0], [300.0], [0.0]]))
    assert np.isnan(pysal.r).all()  # one zero population and every rate is lost


def test_no_events_and_no_population_and_bad_input():
    assert rates.eb_rates(np.zeros(3), np.array([100.0, 200.0, 300.0])) == pytest.approx([0.0, 0.0, 0.0])
    assert np.isnan(rates.eb_rates(np.array([1.0, 2.0]), np.array([0.0, np.nan]))).all()
    assert rates.eb_rates(np.zeros(0), np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError, match="differ in length"):
        rates.eb_rates(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="negative"):
        rates.eb_rates(np.array([-1.0, 2.0]), np.array([100.0, 100.0]))


def test_a_section_keeps_its_smoothed_rate_whatever_the_area_shown():
    national = pd.DataFrame(
        {"count": [2, 30, 5, 60, 7], "population": [1000.0, 2000.0, 400.0, 3000.0, np.nan]},
        index=pd.Index(["A", "B", "C", "D", "E"], name="section_id"),
    )
    everywhere = figures.smoothed_rates(national)
    area = national.loc[["B", "C"]]
    assert figures.smoothed_rates(area, national).to_numpy() == pytest.approx(everywhere.loc[["B", "C"]].to_numpy())
    assert np.isnan(everywhere["E"])
    # public version: a withheld count (missing) takes no part and gets no rate
    public = national.astype({"count": "float64"})
    public.loc["A", "count"] = np.nan
    assert np.isnan(figures.smoothed_rates(public)["A"])


# ---------------------------------------------------------------- small sections are marked, not ranked first


def _measures() -> pd.DataFrame:
    ids = [f"S{i}" for i in range(12)]
    count = [4, 30, 25, 20, 18, 16, 15, 14, 12, 10, 9, 1]
    pop = [300, 4000, 3800, 3500, 3400, 3300, 3200, 3100, 3000, 2900, 2800, 200]
    m = pd.DataFrame({"count": count, "population": np.array(pop, dtype=float)}, index=pd.Index(ids, name="section_id"))
    m["rate"] = m["count"] / m["population"] * 1000
    return m.assign(rate_smoothed=figures.smoothed_rates(m))


def test_small_sections_are_marked_not_ranked_first():
    m = _measures()
    assert m["rate"].idxmax() == "S0"  # 4 incidents among 300 residents: 13.3 per 1,000, the highest raw rate
    for smoothed in (True, False):
        top = figures.highest_rates(m, min_population=500, smoothed=smoothed, n=5)
        assert top.index[0] != "S0" and not top["small_population"].iloc[0]
        assert list(top["rank"].iloc[:5]) == [1, 2, 3, 4, 5]
        assert top.index[-1] == "S0" and bool(top.loc["S0", "small_population"]) and pd.isna(top.loc["S0", "rank"])
        assert "S11" not in top.index  # small but not among the highest: not listed at all
    # without a minimum the raw ranking puts it first again
    assert figures.highest_rates(m, min_population=0, smoothed=False, n=5).index[0] == "S0"
    with pytest.raises(ValueError, match="rate_smoothed"):
        figures.highest_rates(m.drop(columns="rate_smoothed"), smoothed=True)


def test_the_smoothed_ranking_pulls_a_small_section_down():
    m = _measures()
    top = figures.highest_rates(m, min_population=0, smoothed=True, n=12)
    assert list(top.index).index("S0") > 0  # 13.3 per 1,000 from 4 incidents does not lead the smoothed ranking
    assert top["rate_smoothed"].is_monotonic_decreasing


def test_the_minimum_population_setting():
    assert rates.min_population_from_settings({}) == 500
    assert rates.min_population_from_settings({"DASHBOARD_MIN_POPULATION": " 1200 "}) == 1200
    assert rates.min_population_from_settings({"DASHBOARD_MIN_POPULATION": "0"}) == 0
    for bad in ("many", "-5", "2.5"):
        with pytest.raises(ValueError, match="DASHBOARD_MIN_POPULATION"):
            rates.min_population_from_settings({"DASHBOARD_MIN_POPULATION": bad})


# ---------------------------------------------------------------- one set of colour classes for the country


def test_a_municipality_uses_the_national_class_breaks(demo):
    from geo import offline

    en = i18n.translator("en")

    period = figures.Period(pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-10-31").date())
    national = figures.section_measures(demo.sections, demo.cube, period, figures.DEFAULT_CATEGORIES)
    geom_all = maps.display_geometry(demo.sections)
    muni = figures.select_sections(demo.sections, figures.Filters("Prishtinë", "Prishtinë"))
    ids = muni["section_id"].astype(str).tolist()
    assets = offline.leaflet_assets("")
    for measure in ("rate", "count"):
        breaks = maps.sequential_classes(national[measure])
        everywhere = maps.choropleth(geom_all, national, measure, en, assets=assets, classes=breaks)
        here = maps.choropleth(
            geom_all.select("Prishtinë", "Prishtinë"), national.loc[ids], measure, en, assets=assets, classes=breaks
        )
        stretched = maps.choropleth(
            geom_all.select("Prishtinë", "Prishtinë"), national.loc[ids], measure, en, assets=assets
        )
        national_fills, muni_fills, stretched_fills = (_section_fills(m) for m in (everywhere, here, stretched))
        assert muni_fills == {i: national_fills[i] for i in ids}  # the same colour as on the national map
        assert stretched_fills != muni_fills  # stretched to the area: its own quantiles
        assert maps.sequential_classes(national.loc[ids, measure]).bounds != breaks.bounds


def _section_fills(fmap) -> dict[str, str]:
    """Fill colour per section id of a :func:`geo.maps.choropleth` map, from its GeoJSON layer's data."""
    for child in fmap._children.values():
        data = getattr(child, "data", None)
        if isinstance(data, dict) and data.get("features") and "c" in data["features"][0].get("properties", {}):
            return {f["id"]: f["properties"]["c"] for f in data["features"]}
    raise AssertionError("no section layer in the map")


def test_the_rate_map_colours_by_the_smoothed_rate_and_shows_both(demo):
    from geo import offline

    period = figures.Period(pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-10-31").date())
    m = figures.section_measures(demo.sections, demo.cube, period, figures.DEFAULT_CATEGORIES)
    m = m.assign(rate_smoothed=figures.smoothed_rates(m))
    geom = maps.display_geometry(demo.sections)
    fmap = maps.choropleth(geom, m, "rate_smoothed", i18n.translator("en"), assets=offline.leaflet_assets(""))
    fills = _section_fills(fmap)
    expected = maps.sequential_classes(m["rate_smoothed"]).color(m["rate_smoothed"])
    assert fills == dict(zip(m.index, expected, strict=True))
    assert fills != dict(zip(m.index, maps.sequential_classes(m["rate"]).color(m["rate"]), strict=True))
    page = fmap.get_root().render()
    assert "Per 1,000 residents, smoothed" in page and "Per 1,000 residents" in page


def test_the_map_file_of_a_municipality_uses_the_smoothed_rate_and_the_national_classes(demo):
    """The offline map file (brief page, ``python -m geo map``) colours as the Overview does by default."""
    from geo import exports

    period = figures.Period(pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-10-31").date())
    page = exports.overview_map_html(demo, period, "en", municipality="Prishtinë")
    national = figures.section_measures(demo.sections, demo.cube, period, figures.DEFAULT_CATEGORIES)
    national = national.assign(rate_smoothed=figures.smoothed_rates(national))
    breaks = maps.sequential_classes(national["rate_smoothed"])
    ids = demo.sections.loc[demo.sections["municipality"] == "Prishtinë", "section_id"].astype(str)
    expected = dict(zip(ids, breaks.color(national.loc[ids, "rate_smoothed"]), strict=True))
    import json
    import re

    fills = {}
    for m in re.finditer(r'"properties": (\{[^{}]*\})', page):
        props = json.loads(m.group(1))
        if "section_id" in props:
            fills[props["section_id"]] = props["c"]
    assert fills and {k: fills[k] for k in expected if k in fills} == {k: v for k, v in expected.items() if k in fills}
    assert "Incidents per 1,000 residents, smoothed" in page
