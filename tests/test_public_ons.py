"""The ONS's own implementation of cell-key perturbation as the oracle of ours.

``cell_key_perturbation`` (the Office for National Statistics' package, a test requirement only: the
engine does not use it) tabulates microdata of one row per unit, sums the record keys of each cell modulo
the table's key range, and looks the adjustment up in a p-table of ``pcv, ckey, pvalue``, reusing rows
501–750 for counts above 750. Given our record keys as a column and our default table in its format, it
must publish what our :class:`geo.public.PublishedCube` publishes, cell for cell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io

import numpy as np
import pandas as pd
from cell_key_perturbation.create_perturbed_table import create_perturbed_table
from dashboard_fixtures import TEST_SECRET, public_policy, small_dataset

from geo import figures
from geo.public import default_table, record_keys

CATEGORIES = ("theft", "burglary", "assault", "accident_damage", "traffic_ticket")


def one_row_per_incident(seed: int = 41) -> pd.DataFrame:
    """January–April 2024, every row one incident (the ONS's tables count rows); two cells above 750."""
    rng = np.random.default_rng(seed)
    sections = small_dataset().sections
    ids = sections["section_id"].astype(str).tolist()
    days = pd.date_range("2024-01-01", "2024-04-30 23:00", freq="h")
    rows = []
    for sid in ids:
        for _ in range(int(rng.integers(0, 60))):
            rows.append((days[rng.integers(len(days))], str(rng.choice(CATEGORIES)), sid))
    march = pd.date_range("2024-03-01", "2024-03-31 23:59", freq="min")
    april = pd.date_range("2024-04-01", "2024-04-30 23:59", freq="min")
    rows += [(march[i], "theft", "G22") for i in rng.choice(len(march), 1_130, replace=False)]  # row 630
    rows += [(april[i], "theft", "G33") for i in rng.choice(len(april), 1_001, replace=False)]  # row 501
    rows += [(april[i], "burglary", "G33") for i in rng.choice(len(april), 760, replace=False)]  # row 510
    frame = pd.DataFrame(rows, columns=["occurred_at", "category", "section_id"])
    frame["count"] = 1
    frame["lon"] = rng.uniform(21.1, 21.16, len(frame))
    frame["lat"] = rng.uniform(42.6, 42.66, len(frame))
    frame["section_id"] = frame["section_id"].astype(str)
    frame["incident_id"] = pd.array([f"N{i}" for i in range(len(frame))], dtype="string")
    return frame


def ons(data: pd.DataFrame, geog: list[str], tab_vars: list[str]) -> pd.DataFrame:
    """``create_perturbed_table`` with our default table, no threshold; its progress notes silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        out = create_perturbed_table(
            data=data,
            ptable=default_table().to_frame(),
            geog=geog,
            tab_vars=tab_vars,
            record_key="record_key",
            threshold=0,
        )
    return out.set_index(geog + tab_vars)


def test_our_published_values_are_the_ons_packages():
    incidents = one_row_per_incident()
    data = dataclasses.replace(small_dataset(), incidents=incidents)
    cube = public_policy().apply(data).cube
    micro = pd.DataFrame(
        {
            "section_id": incidents["section_id"].astype(str),
            "category": incidents["category"],
            "month": incidents["occurred_at"].dt.strftime("%Y-%m"),
            "quarter": "2024-Q" + incidents["occurred_at"].dt.quarter.astype(str),
            "record_key": record_keys(incidents, TEST_SECRET),
        }
    )
    assert micro["record_key"].max() == 255  # the package checks that the key ranges agree

    cells = ons(micro, ["section_id"], ["category", "month"])
    assert cells["pre_sdc_count"].max() == 1_130 and (cells["pre_sdc_count"] > 750).sum() == 3
    compared = large = 0
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        period = figures.months_period(dt.date.fromisoformat(month + "-01"), 1)
        ours = cube.counts_by_category(period).stack()
        theirs = cells.xs(month, level="month")["count"].astype("int64")
        theirs = theirs[cells.xs(month, level="month")["pre_sdc_count"] > 0]
        ours = ours[ours.index.isin(theirs.index)] if len(ours) else ours
        pd.testing.assert_series_equal(
            ours.sort_index(), theirs.sort_index(), check_names=False, check_index_type=False
        )
        assert len(ours) == len(theirs)
        # cells absent from ours are true zeros, published as 0 by both
        zeros = cells.xs(month, level="month")
        assert (zeros.loc[zeros["pre_sdc_count"] == 0, "count"] == 0).all()
        compared += len(theirs)
        large += int((zeros["pre_sdc_count"] > 750).sum())
    assert compared > 400 and large == 3

    # whole sections in a month (all categories), every month's total, and every quarter's, by section
    by_section = ons(micro, ["section_id"], ["month"])
    totals = ons(micro, [], ["month"])
    quarters = ons(micro, ["section_id"], ["quarter"])
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        period = figures.months_period(dt.date.fromisoformat(month + "-01"), 1)
        theirs = by_section.xs(month, level="month")
        theirs = theirs.loc[theirs["pre_sdc_count"] > 0, "count"].astype("int64")
        ours = cube.incident_counts(period)
        assert ours.to_dict() == theirs.to_dict()
        assert cube.total(period) == int(totals.loc[month, "count"])
    q1 = quarters.xs("2024-Q1", level="quarter")
    q1 = q1.loc[q1["pre_sdc_count"] > 0, "count"].astype("int64")
    assert cube.incident_counts(figures.months_period(dt.date(2024, 1, 1), 3)).to_dict() == q1.to_dict()
    # the check is not vacuous: the perturbation moved most cells with records
    positive = cells[cells["pre_sdc_count"] > 0]
    assert (positive["count"] != positive["pre_sdc_count"]).mean() > 0.5
