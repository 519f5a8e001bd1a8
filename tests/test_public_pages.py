"""The dashboard in public-safe mode (``DASHBOARD_PUBLIC=1``): published figures, the fixed choices of the
public sidebar, the marking, and what happens without the perturbation secret.

Every count a public page shows is a published value (:class:`geo.public.PublishedCube`): the tests compare
the pages with the public dataset's own cells, and every public run is checked for sensitive categories and
for the old "withheld" figures (:func:`public_ok`). Distance-based leak checks over everything the app and
the command line produce are in ``test_public_leaks.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import PAGES, TEST_SECRET, ok, public_policy, small_dataset, texts, tiny_dataset
from google.protobuf.message import Message
from leakcheck import sensitive_hits
from streamlit.testing.v1 import AppTest

from geo import figures, i18n, maps
from geo import public as public_rules
from geo.dataset import Dataset
from geo.public import PublishedCube
from geo.source import WholeSource

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
SENSITIVE_NAMES = ("Domestic violence", "Sexual offence", "domestic_violence", "sexual_offence")
EN = i18n.translator("en")


def sensitive_dataset() -> Dataset:
    """:func:`small_dataset` plus domestic violence and sexual offences in April 2024 (the default period)."""
    data = small_dataset()
    inc = data.incidents
    extra = []
    for i, (cat, sid, n) in enumerate([("domestic_violence", "G22", 9), ("sexual_offence", "G33", 6)]):
        sec = data.sections[data.sections["section_id"] == sid].geometry.iloc[0].representative_point()
        for k in range(n):
            extra.append(
                {
                    "incident_id": f"S{i}-{k}",
                    "occurred_at": pd.Timestamp("2024-04-10 21:00") + pd.Timedelta(hours=k),
                    "category": cat,
                    "count": 1,
                    "lon": sec.x,
                    "lat": sec.y,
                    "section_id": sid,
                    "category_raw": cat,
                    "row": len(inc) + len(extra) + 1,
                }
            )
    inc = pd.concat([inc, pd.DataFrame(extra)], ignore_index=True)
    inc["section_id"] = inc["section_id"].astype(str)
    data.incidents = inc
    return data


class SensitiveSource(WholeSource):
    def fingerprint(self) -> str:
        return "small-sensitive-1"

    def load(self) -> Dataset:
        return sensitive_dataset()


def run(page: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def _strings(msg: Message):
    for fd, value in msg.ListFields():
        repeated = getattr(fd, "is_repeated", None)
        many = repeated if repeated is not None else fd.label == fd.LABEL_REPEATED
        for v in value if many else [value]:
            if isinstance(v, Message):
                yield from _strings(v)
            elif isinstance(v, str):
                yield v


def everything(at: AppTest) -> str:
    """Every string of every element of the run (the map's HTML included) and every table's cells."""
    out = []
    stack = [at._tree]
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            out += list(_strings(proto))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            stack += list(children.values())
    out += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(out)


def public_ok(at: AppTest, drawn: list | None = None) -> None:
    """A public run: no exception, marked PUBLIC, no sensitive category named anywhere (in any language), and
    no figure shown as "withheld" (metrics, tables, the map's sections): small counts show as "fewer than N"."""
    ok(at)
    shown = everything(at)
    assert ":blue-badge[**" in shown and ":red-badge[" not in shown
    assert not sensitive_hits(shown), sensitive_hits(shown)[:3]
    values = [m.value for m in at.metric] + [str(v) for df in at.dataframe for v in np.ravel(df.value.to_numpy())]
    for fmap in drawn or []:
        values += [str(v) for props in section_features(fmap).values() for k, v in props.items() if k[:1] == "t"]
    assert not {"withheld", "withheld (secondary)"} & set(values)


@pytest.fixture
def public(monkeypatch):
    """Public mode (the suite's secret is in the environment); the policy the app makes from it."""
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    return public_policy()


@pytest.fixture
def drawn(monkeypatch):
    """The choropleths the pages build (their features are what the browser receives)."""
    made = []
    real = maps.choropleth

    def spy(*args, **kwargs):
        m = real(*args, **kwargs)
        made.append(m)
        return m

    monkeypatch.setattr(maps, "choropleth", spy)
    return made


def section_features(fmap) -> dict[str, dict]:
    layer = next(c for c in fmap._children.values() if getattr(c, "layer_name", "") == "sections")
    return {f["id"]: f["properties"] for f in layer.data["features"]}


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def published(policy, data: Dataset) -> Dataset:
    """The public copy the app makes of ``data`` (the same secret: the same published values)."""
    return policy.apply(data)


# ---------------------------------------------------------------- marking, sensitive categories


@pytest.mark.parametrize(
    ("lang", "public_word", "restricted_word"), [("en", "PUBLIC", "RESTRICTED"), ("sq", "PUBLIK", "I KUFIZUAR")]
)
def test_every_page_is_marked_public_or_restricted(monkeypatch, lang, public_word, restricted_word):
    for page in PAGES:
        at = run(page, lang)
        ok(at)
        shown = texts(at)
        assert f":red-badge[**{restricted_word}**]" in shown and ":blue-badge[" not in shown, page
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    for page in PAGES:
        at = run(page, lang)
        public_ok(at)
        assert f":blue-badge[**{public_word}**]" in texts(at), page


def test_the_public_marking_says_figures_are_adjusted(public):
    at = run()
    public_ok(at)
    marking = at.markdown[0].value
    assert "figures adjusted slightly" in marking and "shown as “fewer than 5”" in marking
    assert "withheld" not in marking
    assert texts(at).count(public.note(EN)) == 1  # the note, once on the page


def test_public_pages_never_name_a_sensitive_category(public):
    for page in PAGES:
        at = run(page)
        public_ok(at)
        shown = texts(at) + "\n".join(str(df.value.to_csv()) for df in at.dataframe)
        shown += "\n".join(str(m.label) + str(m.help) for m in at.metric)
        for name in SENSITIVE_NAMES:
            assert name not in shown, (page, name)
    options = run().sidebar.selectbox(key="public_categories").options
    assert options and not any(name in o for o in options for name in SENSITIVE_NAMES)


def test_restricted_pages_do_show_the_sensitive_categories():
    at = run()
    ok(at)
    assert any("Domestic violence" in o for o in at.sidebar.multiselect[0].options)


# ---------------------------------------------------------------- the public sidebar: fixed choices only


def test_the_public_sidebar_offers_only_calendar_periods_and_the_fixed_category_groups(public, drawn):
    at = run()
    public_ok(at, drawn)
    assert not at.sidebar.date_input and not at.sidebar.multiselect  # no free dates, no free combinations
    period = at.sidebar.selectbox(key="public_period")
    # small_dataset: January to April 2024, every day: four months and the first quarter, no whole year
    assert period.options == ["April 2024", "March 2024", "February 2024", "January 2024", "Q1 2024"]
    assert period.value == "2024-04"  # the newest month
    assert at.session_state["ctx"].period == figures.default_period(sensitive_dataset().data_as_of)
    assert "Compared with the previous month: March 2024" in [c.value for c in at.sidebar.caption]
    groups = at.sidebar.selectbox(key="public_categories")
    names = [EN.term("incident_category", c) for c in figures.CATEGORY_CODES if c not in public.sensitive]
    assert groups.options == ["All except traffic tickets", "All categories", *names[:4], "Crimes", *names[4:]]
    assert groups.value == "" and at.session_state["ctx"].filters.categories == ()

    period.set_value("2024-Q1").run()
    public_ok(at, drawn)
    ctx = at.session_state["ctx"]
    assert ctx.period == figures.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert "Compared with the previous quarter: Q4 2023" in [c.value for c in at.sidebar.caption]
    cube = published(public, sensitive_dataset()).cube
    crimes = cube.total(ctx.period, figures.HEADLINE_CATEGORIES["crimes"])
    assert metrics(at)["Crimes"] == public.show(crimes, EN)

    at.sidebar.selectbox(key="public_categories").set_value("crimes").run()
    public_ok(at, drawn)
    ctx = at.session_state["ctx"]
    assert ctx.filters.categories == public.category_groups()["crimes"]
    assert not set(ctx.filters.categories) & set(public.sensitive)
    shown = section_features(drawn[-1])
    counts = figures.incident_counts(cube, ctx.period, ctx.filters.categories)
    assert {sid: shown[sid]["t2"] for sid in counts.index} == {sid: public.show(n, EN) for sid, n in counts.items()}


def test_the_public_sidebar_in_albanian_and_serbian(public):
    for lang, quarter, group in (
        ("sq", "TM1 2024", "Të gjitha kategoritë"),
        ("sr", "1. kvartal 2024", "Sve kategorije"),
    ):
        at = run(lang=lang)
        public_ok(at)
        assert at.sidebar.selectbox(key="public_period").options[-1] == quarter
        assert group in at.sidebar.selectbox(key="public_categories").options


def test_choices_the_public_sidebar_does_not_offer_are_replaced_by_its_defaults(public):
    from views import cache

    # a session's choices from before (another deployment's data or settings), or made up
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = "en"
    at.session_state["_data_key"] = cache.data_key(SensitiveSource(), public)  # the same data: no reset
    at.session_state["public_period"] = "2023-07"  # not a period the data covers
    at.session_state["public_categories"] = "domestic_violence"  # sensitive: not a group
    at.run()
    public_ok(at)
    assert at.sidebar.selectbox(key="public_period").value == "2024-04"
    assert at.sidebar.selectbox(key="public_categories").value == ""
    assert at.session_state["ctx"].filters.categories == ()


def test_the_public_period_and_categories_are_kept_across_pages(public):
    at = run()
    at.sidebar.selectbox(key="public_period").set_value("2024-02").run()
    at.sidebar.selectbox(key="public_categories").set_value("theft").run()
    at.switch_page("views/data.py").run()
    at.switch_page("views/overview.py").run()
    public_ok(at)
    assert at.sidebar.selectbox(key="public_period").value == "2024-02"
    assert at.sidebar.selectbox(key="public_categories").value == "theft"
    assert at.session_state["ctx"].filters.categories == ("theft",)


def test_whole_month_periods_on_the_tiny_dataset(public):
    # incidents from 3 February to 1 April 2024: March is the one month the data covers completely
    from dashboard_fixtures import TinySource

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = TinySource()
    at.session_state["lang"] = "en"
    at.run()
    public_ok(at)
    assert at.sidebar.selectbox(key="public_period").options == ["March 2024"]
    assert "Compared with the previous month: February 2024" in [c.value for c in at.sidebar.caption]
    data = published(public, tiny_dataset())
    heads = public_rules.headlines(public, data, figures.Filters(), figures.default_period(data.data_as_of))
    shown = metrics(at)
    assert shown["Traffic tickets"] == public.show(heads["traffic_ticket"].current, EN)
    # open concerns are counted exactly (public concerns are listed one by one), committees too (a public register)
    assert shown["Open concerns"] == "2" == str(heads["open_concerns"].current)
    assert shown["Active committees"] == "3"


# ---------------------------------------------------------------- no secret, wrong settings


def test_public_mode_without_a_secret_shows_how_to_set_it_and_nothing_else(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET", raising=False)
    for lang in i18n.LANGS:
        _ = i18n.translator(lang)
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["source"] = SensitiveSource()
        at.session_state["lang"] = lang
        at.run()
        ok(at)
        assert [e.value for e in at.error] == [public_rules.missing_secret_text(_)]
        assert "DASHBOARD_PUBLIC_SECRET" in at.error[0].value and "secrets.toml" in at.error[0].value
        # nothing else: no figure, table, map, marking or filter (the language and layout switches only)
        assert not at.metric and not at.dataframe and not at.markdown and not at.caption and not at.warning
        assert [s.key for s in at.sidebar.selectbox] == ["lang"] and "ctx" not in at.session_state
        for page in PAGES[1:3]:
            at.switch_page(page).run()
            assert not at.metric and not at.dataframe and len(at.error) == 1, page


def test_the_secret_from_the_secrets_file(monkeypatch):
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"enabled": True, "secret": TEST_SECRET}
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = "en"
    at.run()
    public_ok(at)
    policy = at.session_state["ctx"].policy
    assert policy.has_secret and policy == public_policy()
    # the same secret gives the same published figures as when it is set in the environment
    data = published(public_policy(), sensitive_dataset())
    period = at.session_state["ctx"].period
    assert metrics(at)["Crimes"] == policy.show(data.cube.total(period, figures.HEADLINE_CATEGORIES["crimes"]), EN)


def test_the_environment_enables_public_mode_with_the_secret_from_the_secrets_file(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"secret": TEST_SECRET}
    at.session_state["source"] = SensitiveSource()
    at.run()
    public_ok(at)
    assert at.session_state["ctx"].policy.has_secret


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("secret", "too-short", "at least 16 characters"),
        ("ptable", "/nonexistent/ptable.csv", "ptable.csv"),
    ],
)
def test_a_wrong_secret_or_table_is_an_error_and_nothing_is_shown(monkeypatch, tmp_path, setting, value, said):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"secret": TEST_SECRET, setting: value}
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = "en"
    at.run()
    ok(at)
    assert len(at.error) == 1 and "The public-safe settings are wrong" in at.error[0].value
    assert said in at.error[0].value and TEST_SECRET not in at.error[0].value
    assert not at.metric and not at.dataframe and "ctx" not in at.session_state


def test_wrong_sensitive_settings_show_nothing(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.setenv("DASHBOARD_PUBLIC_SENSITIVE", "domestic_violence,sexual_offense")  # a typo
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = SensitiveSource()
    at.run()
    assert at.error and "sexual_offense" in at.error[0].value
    assert not at.metric and not at.dataframe and "ctx" not in at.session_state


def test_public_mode_from_the_secrets_file_with_its_own_threshold():
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"enabled": True, "min_count": 10, "sensitive": ["domestic_violence", "sexual_offence"]}
    at.session_state["source"] = SensitiveSource()
    at.session_state["lang"] = "en"
    at.run()
    public_ok(at)
    policy = at.session_state["ctx"].policy
    assert policy is not None and policy.min_count == 10
    assert "fewer than 10" in texts(at)


def test_without_settings_the_deployment_is_restricted():
    at = run()
    ok(at)
    assert at.session_state["ctx"].policy is None


# ---------------------------------------------------------------- the Overview's published figures


def test_public_overview_shows_published_counts_on_the_map_and_in_the_headlines(public, drawn):
    at = run()
    public_ok(at, drawn)
    data = published(public, sensitive_dataset())
    period = at.session_state["ctx"].period
    counts = figures.incident_counts(data.cube, period, figures.DEFAULT_CATEGORIES)
    assert counts.between(1, 4).sum() >= 2, "the fixture must have small counts for this to mean anything"
    feats = section_features(drawn[-1])
    for sid, n in counts.items():
        assert feats[sid]["t2"] == public.show(n, EN), sid
        if public.is_small(n):  # no number, no colour, nor its rate or its change
            assert feats[sid]["t2"] == "fewer than 5" and feats[sid]["nd"] is True, sid
            assert feats[sid]["t7"] == "–" and feats[sid]["t4"] == "–", sid
    # headlines: the area's own published cells, not sums of the sections' figures
    values = metrics(at)
    for label, key in (("Crimes", "crimes"), ("Damage only", "accident_damage"), ("Traffic tickets", "traffic_ticket")):
        assert values[label] == public.show(data.cube.total(period, figures.HEADLINE_CATEGORIES[key]), EN), label
    # the sensitive incidents (9 + 6 in April) are in no figure: the published crimes are the public ones ± 2
    crimes = figures.HEADLINE_CATEGORIES["crimes"]
    true_public = int(figures.incident_counts(data.incidents, period, crimes).sum())
    true_all = int(figures.incident_counts(sensitive_dataset().incidents, period, crimes).sum())
    assert true_all - true_public == 15
    assert abs(int(values["Crimes"].replace(",", "")) - true_public) <= public.table.bound


def test_restricted_overview_shows_every_count(drawn):
    at = run()
    ok(at)
    feats = section_features(drawn[-1])
    assert not any(p["t2"] in ("fewer than 5", "withheld") for p in feats.values())
    assert any(p["t2"] in {"1", "2", "3", "4"} for p in feats.values())


def test_the_same_published_crimes_after_reruns_and_switching_pages(public):
    at = run()
    public_ok(at)
    data = published(public, sensitive_dataset())
    period = at.session_state["ctx"].period
    expected = public.show(data.cube.total(period, figures.HEADLINE_CATEGORIES["crimes"]), EN)
    seen = [metrics(at)["Crimes"]]
    at.run()
    seen.append(metrics(at)["Crimes"])
    for page in ("views/data.py", "views/trust.py", "views/overview.py"):
        at.switch_page(page).run()
    public_ok(at)
    seen.append(metrics(at)["Crimes"])
    at.sidebar.selectbox(key="municipality").set_value("Prishtinë").run()
    at.sidebar.selectbox(key="municipality").set_value("").run()
    public_ok(at)
    seen.append(metrics(at)["Crimes"])
    assert seen == [expected] * 4


def dataset_of(rows: list[tuple[str, str, int, str]], name: str):
    """:func:`tiny_dataset` with its incidents replaced by ``rows`` (section, category, count, date), plus a
    record on 1 February and one on 1 April 2024, so that February and March are whole months of data."""
    data = tiny_dataset()
    rows = [("S6", "other", 1, "2024-02-01"), *rows, ("S6", "other", 1, "2024-04-01")]
    inc = pd.DataFrame(
        [(f"X{i}", pd.Timestamp(f"{day} 10:00"), cat, n, sid) for i, (sid, cat, n, day) in enumerate(rows)],
        columns=["incident_id", "occurred_at", "category", "count", "section_id"],
    )
    inc["category_raw"] = inc["category"]
    inc["count"] = inc["count"].astype("Int64")
    inc["section_id"] = inc["section_id"].astype(str)
    inc["lon"], inc["lat"] = np.nan, np.nan
    inc["row"] = range(1, len(inc) + 1)
    data.incidents = inc

    class Source(WholeSource):
        def fingerprint(self) -> str:
            return name

        def load(self) -> Dataset:
            return data

    return Source()


def run_on(source, page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = source
    at.session_state["lang"] = "en"
    at.run()
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(page)
    at.run()
    return at


def test_small_figures_show_as_fewer_than_and_nothing_else_is_withheld(public, drawn):
    # S1 in March: 2 fatal accidents, 10 with injuries, 30 damage only, 40 thefts; February: 8 fatal, 30 thefts
    rows = [("S1", "accident_fatal", 1, "2024-03-02"), ("S1", "accident_fatal", 1, "2024-03-03")]
    rows += [("S1", "accident_injury", 10, "2024-03-04"), ("S1", "accident_damage", 30, "2024-03-05")]
    rows += [("S1", "theft", 40, "2024-03-06"), ("S1", "accident_fatal", 8, "2024-02-10")]
    rows += [("S1", "theft", 30, "2024-02-11")] + [(s, "theft", 20, "2024-03-08") for s in ("S2", "S3", "S4", "S5")]
    source = dataset_of(rows, "p-small")
    at = run_on(source, region="Prishtinë", municipality="Prishtinë", section="S1")
    public_ok(at, drawn)
    data = published(public, source.load())
    ctx = at.session_state["ctx"]
    assert ctx.period == figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    heads = figures.headlines(data.cube, data.concerns, data.committees, data.sections, ctx.filters, ctx.period)
    shown = {m.label: m for m in at.metric}
    assert shown["With fatalities"].value == "fewer than 5"  # 2, published 1 … 4
    assert shown["With fatalities"].proto.delta == ""  # no change next to a small figure …
    lines = [c.value for c in at.caption if c.value.startswith("Previous period: ")]
    fatal_line = next(v for v in lines if v.startswith(f"Previous period: {heads['accident_fatal'].previous}"))
    assert " · " not in fatal_line.split("  \n")[0]  # … and no test
    assert shown["With injuries"].value == public.show(heads["accident_injury"].current, EN)
    assert shown["With injuries"].value.isdigit()  # 10 ± 2: a number, nothing withheld with the small one
    assert shown["Crimes"].value == public.show(heads["crimes"].current, EN)
    assert shown["Crimes"].proto.delta != ""  # both crimes figures are numbers: the change is shown
    feats = section_features(drawn[-1])
    s1 = figures.incident_counts(data.cube, ctx.period, figures.DEFAULT_CATEGORIES, pd.Index(["S1"]))
    assert feats["S1"]["t2"] == public.show(int(s1.iloc[0]), EN)


def test_public_open_concerns_are_exact(public):
    at = run_on(SmallPublicConcerns())
    public_ok(at)
    ctx = at.session_state["ctx"]
    true = figures.open_concerns(ctx.data.concerns, ctx.period.end)
    assert true > 0 and metrics(at)["Open concerns"] == EN.number(true)


class SmallPublicConcerns:
    def fingerprint(self) -> str:
        return "small-concerns-1"

    def load(self) -> Dataset:
        return small_dataset()


@pytest.fixture(scope="module")
def demo_ready():
    from test_pages import demo_ready as ready

    if not ready():
        pytest.skip("the demo dataset (data/demo) is not there or not loadable")


def test_the_public_demo_overview_shows_kosovos_fatal_accidents(demo_ready, demo, monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = "en"
    at.run()
    public_ok(at)
    ctx = at.session_state["ctx"]
    assert isinstance(ctx.data.cube, PublishedCube) and ctx.policy == public_policy()
    assert ctx.period == figures.default_period(demo.data_as_of)  # the newest month offered
    fatal = figures.HEADLINE_CATEGORIES["accident_fatal"]
    n = ctx.data.cube.total(ctx.period, fatal)
    value = metrics(at)["With fatalities"]
    assert value == ctx.policy.show(n, EN) and value.replace(",", "").isdigit(), value  # adjusted, not withheld
    assert abs(n - demo.cube.total(ctx.period, fatal)) <= ctx.policy.table.bound
    options = at.sidebar.selectbox(key="public_period").options
    assert any(o.isdigit() for o in options) and any(o.startswith("Q") for o in options)  # years and quarters too


# ---------------------------------------------------------------- other pages in public mode


def test_public_hotspots_offer_sections_only(public):
    at = run("views/hotspots.py")
    public_ok(at)
    labels = [w.label for w in (*at.radio, *at.checkbox, *at.number_input)]
    assert "Units" not in labels and "Density surface" not in labels and "Density bandwidth (m)" not in labels
    assert "Does the hotspot map predict?" not in texts(at)
    assert "Gi* z" not in "".join(str(list(df.value.columns)) for df in at.dataframe)


def test_public_data_page_has_no_uploads_and_no_single_incidents(public):
    at = run("views/data.py")
    public_ok(at)
    assert not at.get("file_uploader")
    shown = texts(at)
    assert "Uploading is disabled" in shown and "Validation report" not in shown
    assert "Records outside every section" not in shown
    buttons = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert buttons["Incidents (CSV)"] is True and buttons["Validation report (CSV)"] is True
    assert buttons["Sections (GeoJSON)"] is False


def test_public_section_profile_shows_published_counts(public):
    at = run()
    data = published(public, sensitive_dataset())
    period = at.session_state["ctx"].period
    counts = figures.incident_counts(data.cube, period, figures.DEFAULT_CATEGORIES)
    sid = next(s for s, n in counts.items() if public.is_small(n))
    rec = data.sections[data.sections["section_id"] == sid].iloc[0]
    at.session_state["region"] = rec["region"]
    at.session_state["municipality"] = rec["municipality"]
    at.session_state["section"] = sid
    at.switch_page("views/section.py").run()
    public_ok(at)
    values = metrics(at)
    assert values["Incidents in the period"] == "fewer than 5" and values["Per 1,000 residents"] == "–"
    table = next(df.value for df in at.dataframe if "In the period" in df.value.columns)
    assert set(table["In the period"]) <= {"fewer than 5"} | {str(n) for n in range(1000)}


def test_the_trust_page_shows_no_incident_figures_in_public(public):
    # municipality and region rows, 2024 and 2024-Q1: survey periods are not the public view's choices
    at = run_on(SensitiveSource(), "views/trust.py")
    public_ok(at)
    table = next(df.value for df in at.dataframe if "Trust (%)" in df.value.columns)
    assert not {"Incidents", "Incidents per 1,000 a year", "Days of incident data"} & set(table.columns)
    assert "incident figures are not shown" in texts(at)


def test_the_trust_page_shows_incident_figures_when_restricted():
    at = run_on(SensitiveSource(), "views/trust.py")
    ok(at)
    table = next(df.value for df in at.dataframe if "Trust (%)" in df.value.columns)
    assert {"Incidents", "Incidents per 1,000 a year"} <= set(table.columns)


def test_a_sensitive_category_hides_its_concerns_too(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.setenv("DASHBOARD_PUBLIC_SENSITIVE", "domestic_violence,sexual_offence,drugs")
    at = run_on(SensitiveSource(), "views/concerns.py")
    public_ok(at)
    assert "Drugs" not in texts(at) + "".join(df.value.to_csv() for df in at.dataframe)
    assert not any("Drugs" in o for o in at.sidebar.selectbox(key="public_categories").options)


def test_a_public_demo_does_not_invite_uploads(public, monkeypatch):
    from geo.source import demo_source

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = demo_source()
    at.session_state["lang"] = "en"
    at.run()
    public_ok(at)
    notice = next(m.value for m in at.markdown if "Demo data" in m.value)  # one line under the marking
    assert "load your own files" not in notice


def test_the_brief_shows_the_same_headline_figures_as_the_overview(public):
    from geo import brief

    rows = [("S1", "accident_fatal", 1, "2024-03-02"), ("S1", "accident_fatal", 1, "2024-03-03")]
    rows += [("S1", "accident_injury", 10, "2024-03-04"), ("S1", "accident_damage", 30, "2024-03-05")]
    rows += [("S1", "theft", 40, "2024-03-06"), ("S1", "traffic_ticket", 6, "2024-03-07")]
    rows += [(s, "theft", 20, "2024-03-08") for s in ("S2", "S3", "S4")]
    source = dataset_of(rows, "p-d")
    at = run_on(source, region="Prishtinë", municipality="Prishtinë")
    public_ok(at)
    overview = metrics(at)
    content = brief.brief_content(
        source.load(), at.session_state["ctx"].period, lang="en", municipality="Prishtinë", policy=public_policy()
    )
    printed = {row[0]: row[1] for row in content.headlines}
    pairs = [
        ("With fatalities", "Accidents with fatalities"),
        ("With injuries", "Accidents with injuries"),
        ("Damage only", "Accidents, damage only"),
        ("Traffic tickets", "Traffic tickets"),
        ("Crimes", "Crimes"),
    ]
    assert [overview[a] for a, _b in pairs] == [printed[b] for _a, b in pairs]
    assert overview["With fatalities"] == "fewer than 5"


def test_public_hot_spots_never_label_a_small_section():
    """Gi* of a section whose published count shows as "fewer than 5": on its true count it is a hot spot,
    in public it is left out of the statistic (its neighbours' z would give it back) and labelled not
    significant."""
    from dashboard_fixtures import CLUSTER

    from geo import hotspots
    from views import cache

    data = small_dataset()
    sid = CLUSTER[0]
    inc = data.incidents
    quarter = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    mine = inc.index[
        (inc["section_id"] == sid) & (inc["category"] != "traffic_ticket") & quarter.mask(inc["occurred_at"])
    ]
    data.incidents = inc.drop(mine[1:]).reset_index(drop=True)  # one left: published 1 … 3, small, amid a cluster
    args = (figures.Filters(categories=figures.DEFAULT_CATEGORIES), quarter, "count", "queen", None, 0)
    restricted = cache.section_hotspots(data, "small-hs", *args)
    assert restricted.loc[sid, "label"] != hotspots.NOT_SIGNIFICANT  # the control: its neighbours make it hot
    policy = public_policy()
    public_data = policy.apply(data)
    n = figures.incident_counts(public_data.cube, quarter, figures.DEFAULT_CATEGORIES, pd.Index([sid]))
    assert policy.is_small(int(n.iloc[0]))
    result = cache.section_hotspots(public_data, "small-hs-public", *args, policy)
    assert result.loc[sid, "label"] == hotspots.NOT_SIGNIFICANT and pd.isna(result.loc[sid, "z"])
