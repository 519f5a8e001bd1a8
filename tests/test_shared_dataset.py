"""The shared dataset is never modified: checked by hash, not only written in a docstring.

The app keeps one loaded :class:`~geo.dataset.Dataset` per source for every session
(``st.cache_resource`` in :mod:`views.cache`: never copied). Marking arrays read-only would not guard it
(in pandas 3 ``df[col] = …`` replaces a column without writing into the old array), so this test runs
every page (restricted and public, with the settings that change what they compute), every output
(briefs, the map file, the exports, the analyses) and every command that takes a dataset on one object,
then compares a hash of each of its tables (columns, dtypes, index, values; geometry as WKB) with the
hash taken before, and with the hash of a fresh load. The public copies the app made from it are
compared with fresh public copies the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import numpy as np
import pandas as pd
from dashboard_fixtures import CLUSTER, PAGES, ok, public_policy, small_dataset
from datasethash import digest
from streamlit.testing.v1 import AppTest

from geo import analysis, brief, cli, exports, figures
from geo.dataset import Dataset
from geo.public import PublicPolicy
from geo.source import WholeSource

APP = "../dashboard.py"
QUARTER = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
APRIL = figures.Period(dt.date(2024, 4, 1), dt.date(2024, 4, 30))


def fresh() -> Dataset:
    """:func:`small_dataset` plus an incident outside every section (a missing section id)."""
    data = small_dataset()
    outside = data.incidents.iloc[[0]].assign(incident_id="OUT", lon=20.74, lat=42.21, row=len(data.incidents) + 1)
    outside["section_id"] = np.nan
    outside["section_id"] = outside["section_id"].astype(data.incidents["section_id"].dtype)
    return dataclasses.replace(data, incidents=pd.concat([data.incidents, outside], ignore_index=True))


class SharedSource(WholeSource):
    """A data source that gives the same object every time (a key of its own: no earlier cache entry)."""

    def __init__(self, data: Dataset):
        self.data = data
        self.name = f"shared-{uuid.uuid4().hex}"

    def fingerprint(self) -> str:
        return self.name

    def load(self) -> Dataset:
        return self.data


def run_pages(source: SharedSource, public: bool) -> None:
    """Every page; then the pages again with a section chosen, the hot spots' other settings, the printouts."""
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=180)
        at.session_state["source"] = source
        at.session_state["lang"] = "en"
        at.switch_page(page)
        at.run()
        ok(at)
        if not public:
            at.session_state["period_start"] = dt.date(2024, 1, 1)
            at.session_state["period_end"] = dt.date(2024, 4, 30)
        at.session_state["region"] = "Prishtinë"
        at.session_state["municipality"] = "Prishtinë"
        at.session_state["section"] = CLUSTER[0]
        at.run()
        ok(at)
        if page == "views/hotspots.py" and not public:
            for key, value in {
                "hs_units": "grid",
                "hs_cell": 1000,
                "hs_measure": "rate",
                "hs_kind": "distance",
            }.items():
                at.session_state[key] = value
            at.session_state["section"] = ""
            at.run()
            ok(at)
        if page == "views/print.py":
            for what in ("brief", "map"):
                button = next((b for b in at.button if b.key == f"print_{what}_button"), None)
                if button is not None and not button.disabled:
                    button.click().run()
                    ok(at)


def run_outputs(data: Dataset, policy: PublicPolicy, tmp_path, monkeypatch) -> None:
    """The briefs, the map file, the exports, the analyses and the commands, on ``data`` itself."""
    every = figures.Filters(categories=figures.DEFAULT_CATEGORIES)
    area = figures.Filters(municipality="Prishtinë", categories=figures.DEFAULT_CATEGORIES)
    for pol in (None, policy):
        for where in ({"municipality": "Prishtinë"}, {"section": CLUSTER[0]}):
            content = brief.brief_content(data, QUARTER, "en", policy=pol, **where)
            assert brief.to_html(content)
        assert exports.overview_map_html(data, QUARTER, "en", municipality="Prishtinë", policy=pol)
    assert exports.overview_map_html(data, QUARTER, "en", selected=CLUSTER[0])
    marking = exports.marking_for(None)
    for frame in (data.incidents, data.concerns, data.committees, data.meetings, data.surveys):
        exports.csv_bytes(frame, marking)
    exports.joined_csv(data.incidents, data.sections, marking=marking)
    exports.joined_csv(data.concerns, data.sections, concerns=True, marking=marking)
    exports.sections_geojson(data.sections, marking)
    exports.public_sections(data.sections)
    exports.public_concerns(data.concerns)
    exports.problems_csv(data.report, marking)
    analysis.area_measures(data, area, QUARTER)
    analysis.headlines(data, area, QUARTER)
    analysis.grid_hotspots(data, area, QUARTER, 1000.0)
    analysis.density(data, area, QUARTER, 500.0)
    analysis.prediction(data, area, QUARTER, APRIL, 0.1, 500.0)
    analysis.agreement(data, area, QUARTER, ())
    public_copy = policy.apply(data)
    analysis.public_measures(public_copy, policy, QUARTER, policy.categories(figures.DEFAULT_CATEGORIES))
    analysis.headlines(public_copy, figures.Filters(), QUARTER)
    analysis.section_hotspots(public_copy, every, QUARTER, policy=policy)
    analysis.section_hotspots(data, every, QUARTER, permutations=99)
    # the commands, each given this object instead of loading
    monkeypatch.setattr(cli, "_load_or_fail", lambda args: data)
    monkeypatch.setattr(cli, "source_from_args", lambda args: SharedSource(data))
    period = ["--from", "2024-01-01", "--to", "2024-03-31"]
    for argv in (
        ["validate", "--json"],
        ["brief", "--municipality", "Prishtinë", *period, "--out", str(tmp_path / "b.html")],
        ["brief", "--section", CLUSTER[0], *period, "--public", "--out", str(tmp_path / "p.pdf")],
        ["hotspots", *period, "--json"],
        ["hotspots", *period, "--public", "--out", str(tmp_path / "h.csv")],
        ["hotspots", *period, "--unit", "grid", "--out", str(tmp_path / "h.geojson")],
        ["map", *period, "--out", str(tmp_path / "m.html")],
        ["map", *period, "--public", "--municipality", "Prishtinë", "--out", str(tmp_path / "pm.html")],
    ):
        assert cli.main(argv) in (0, 1), argv  # validate says 1 for a report with errors; never a crash


def test_no_page_output_or_command_modifies_the_shared_dataset(monkeypatch, tmp_path, capsys):
    data = fresh()
    before = digest(data)
    assert before == digest(fresh())  # a fresh load hashes the same: the comparison below means something
    policy = public_policy()
    copies: list[tuple[PublicPolicy, Dataset]] = []  # the public copies made of the shared dataset
    real_apply = PublicPolicy.apply

    def apply(self, given, reuse=None):
        out = real_apply(self, given, reuse=reuse)
        if given.incidents is data.incidents:  # the shared tables, as the data source handed them on
            copies.append((self, out))
        return out

    monkeypatch.setattr(PublicPolicy, "apply", apply)
    source = SharedSource(data)
    run_pages(source, public=False)
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    run_pages(source, public=True)
    monkeypatch.delenv("DASHBOARD_PUBLIC")
    run_outputs(data, policy, tmp_path, monkeypatch)
    capsys.readouterr()

    assert digest(data, cube=True) == digest(fresh(), cube=True)
    assert digest(data) == before
    assert copies, "the public pages made no public copy of the shared dataset"
    for pol, copy in copies:  # shared as well (cached for every public session): unmodified
        assert digest(copy, cube=True) == digest(real_apply(pol, fresh()), cube=True)


def test_the_hash_sees_a_replaced_column_a_changed_cell_and_a_moved_shape():
    base = digest(fresh())
    changes = [
        lambda d: d.incidents.__setitem__("count", d.incidents["count"] + 0),  # the same values, a new column
        lambda d: d.incidents.__setitem__("section_id", d.incidents["section_id"].astype("string")),
        lambda d: d.concerns.loc.__setitem__((3, "status"), "open" if d.concerns.loc[3, "status"] != "open" else "x"),
        lambda d: d.committees.at[0, "sections"].append("G99"),
        lambda d: d.sections.__setitem__("geometry", d.sections.geometry.translate(1e-9)),
        lambda d: d.report.set_counts("sections", loaded=37, accepted=37, rejected=0, repaired=0),
    ]
    seen = []
    for change in changes:
        data = fresh()
        change(data)
        after = digest(data)
        seen.append(after != base)
    # a column replaced by equal values is no modification (the test is about content, not identity)
    assert seen == [False, True, True, True, True, True]
