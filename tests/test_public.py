"""Public-safe mode: the policy, what it removes, and the cell-key perturbation engine (record identities and
keys, the perturbation table, the published cube), on small hand-made tables."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import TEST_SECRET, public_policy, small_dataset, tiny_dataset

from geo import figures, public
from geo.cube import IncidentCube
from geo.public import (
    SMALL,
    MissingSecret,
    PublicPolicy,
    PublicQueryError,
    default_table,
    incident_identities,
    read_table,
    record_keys,
    strip_contacts,
)

ROOT = Path(__file__).resolve().parent.parent
MARCH = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))


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
    public = public_policy().apply(demo)
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
    public = public_policy().apply(demo)
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
    again = public_policy().apply(public)
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


def test_a_public_copy_given_again_publishes_the_same_values():
    """The brief and the exports may be handed the page's public copy: its records have lost the ids and
    coordinates their keys came from, so the keys must come with it, not be drawn again."""
    once = public_policy().apply(small_dataset())
    twice = public_policy().apply(once)
    for cats in ((), ("theft",), ("traffic_ticket",)):
        pd.testing.assert_series_equal(twice.cube.incident_counts(MARCH, cats), once.cube.incident_counts(MARCH, cats))
        assert twice.cube.total(MARCH, cats) == once.cube.total(MARCH, cats)
    pd.testing.assert_frame_equal(twice.concerns, once.concerns)
    # with another secret the copy is published afresh (its keys are that secret's)
    other = public_policy(secret="another-secret-of-enough-length").apply(once)
    assert not np.array_equal(other.cube.record_key, once.cube.record_key)


# ---------------------------------------------------------------- record identities and keys


def records(**extra) -> pd.DataFrame:
    """Five incident records: two with a file id, three without (two of them exact duplicates), one row of 12."""
    frame = pd.DataFrame(
        {
            "incident_id": pd.array(["A-1", "A-2", None, None, None], dtype="string"),
            "occurred_at": pd.to_datetime(
                ["2024-03-02 10:00", "2024-03-02 10:00", "2024-03-05 11:30", "2024-03-05 11:30", "2024-03-07 00:00"]
            ),
            "category": ["theft", "theft", "burglary", "burglary", "traffic_ticket"],
            "count": [1, 1, 1, 1, 12],
            "lon": [21.105, 21.105, 21.125, 21.125, np.nan],
            "lat": [42.625, 42.625, 42.635, 42.635, np.nan],
            "section_id": pd.array(["S1", "S1", "S2", "S2", "S2"], dtype="string"),
        }
    )
    for k, v in extra.items():
        frame[k] = v
    return frame


def test_identity_is_the_file_id_where_given_otherwise_the_content():
    ids = incident_identities(records())
    assert len(set(ids)) == 5
    assert ids[0].startswith(b"id\x1fA-1") and ids[1].startswith(b"id\x1fA-2")  # same content, other ids
    # a record with an id keeps its identity whatever else changes about it
    changed = records()
    changed.loc[0, ["category", "lon"]] = ["assault", 21.2]
    assert incident_identities(changed)[0] == ids[0]
    # without an id, the content is the identity: another category or place is another record …
    later = pd.Timestamp("2024-03-05 11:31")
    for row, col, value in ((2, "category", "drugs"), (2, "lon", 21.126), (4, "count", 11), (2, "occurred_at", later)):
        other = records()
        other.loc[row, col] = value
        assert incident_identities(other)[row] not in ids, col
    # … a located record's section is not part of it (the coordinates are), a record located only by
    # section is placed by its section
    moved = records()
    moved.loc[2, "section_id"] = "S9"
    assert incident_identities(moved)[2] == ids[2]
    moved.loc[4, "section_id"] = "S9"
    assert incident_identities(moved)[4] != ids[4]
    # coordinates count to a millionth of a degree
    nudged = records()
    nudged.loc[2, "lon"] = 21.125 + 1e-8
    assert incident_identities(nudged)[2] == ids[2]
    # without an incident_id column at all, the content
    assert incident_identities(records().drop(columns="incident_id"))[2:] == ids[2:]
    assert incident_identities(records().iloc[0:0]) == []


def test_the_identity_texts_are_fixed():
    """The exact bytes: a change here changes every deployment's published values (the keys come from them)."""
    ids = incident_identities(records())
    assert ids == [
        b"id\x1fA-1\x1f0",
        b"id\x1fA-2\x1f0",
        b"record\x1f2024-03-05T11:30:00\x1fburglary\x1f21125000,42635000\x1f1\x1f0",
        b"record\x1f2024-03-05T11:30:00\x1fburglary\x1f21125000,42635000\x1f1\x1f1",
        b"record\x1f2024-03-07T00:00:00\x1ftraffic_ticket\x1fsection S2\x1f12\x1f0",
    ]
    # the same with the columns as plain Python objects, and with a time zone (the local clock is used)
    plain = records().astype({"incident_id": object, "category": object, "section_id": object})
    assert incident_identities(plain) == ids
    local = records()
    local["occurred_at"] = local["occurred_at"].dt.tz_localize("Europe/Belgrade")
    assert incident_identities(local) == ids
    # missing values are empty texts, not an error; an id of spaces is no id
    gaps = records().astype({"category": "category"})
    gaps.loc[2, ["category", "occurred_at"]] = [np.nan, pd.NaT]
    gaps.loc[4, ["section_id", "count"]] = [pd.NA, np.nan]
    gaps.loc[0, "incident_id"] = "   "
    got = incident_identities(gaps)
    assert got[2] == b"record\x1fNaT\x1f\x1f21125000,42635000\x1f1\x1f0"
    assert got[4] == b"record\x1f2024-03-07T00:00:00\x1ftraffic_ticket\x1fsection \x1f1\x1f0"
    assert got[0] == b"record\x1f2024-03-02T10:00:00\x1ftheft\x1f21105000,42625000\x1f1\x1f0"


def test_keys_are_the_first_byte_of_hmac_sha256():
    import hashlib
    import hmac

    ids = incident_identities(small_dataset().incidents)
    for secret in (TEST_SECRET, "s" * 16, "x" * 64, "y" * 65, "ç" * 40, "z" * 300):
        expected = [hmac.new(secret.encode(), b"incident\x1e" + i, hashlib.sha256).digest()[0] for i in ids]
        assert public._keys(ids, secret, b"incident\x1e").tolist() == expected, len(secret)
        assert record_keys(small_dataset().incidents, secret).tolist() == expected


def test_exact_duplicates_are_told_apart_by_their_occurrence_not_their_row():
    ids = incident_identities(records())
    assert ids[2] != ids[3] and ids[2].rsplit(b"\x1f", 1)[0] == ids[3].rsplit(b"\x1f", 1)[0]
    assert ids[2].endswith(b"\x1f0") and ids[3].endswith(b"\x1f1")
    keys = record_keys(records(), TEST_SECRET)
    assert len(keys) == 5 and keys.min() >= 0 and keys.max() <= 255


def test_reordering_or_inserting_rows_changes_no_records_key():
    base = records()
    keys = dict(zip(incident_identities(base), record_keys(base, TEST_SECRET), strict=True))
    rng = np.random.default_rng(3)
    for _ in range(5):
        order = rng.permutation(len(base))
        shuffled = base.iloc[order].reset_index(drop=True)
        got = record_keys(shuffled, TEST_SECRET)
        assert sorted(got.tolist()) == sorted(keys.values())
        # every record that is not one of the duplicate pair keeps its very key, wherever it is
        for new, old in enumerate(order):
            if old not in (2, 3):
                assert got[new] == record_keys(base, TEST_SECRET)[old]
    inserted = pd.concat(
        [base.iloc[:2], records().iloc[[0]].assign(incident_id="Z-9", category="drugs"), base.iloc[2:]],
        ignore_index=True,
    )
    got = record_keys(inserted, TEST_SECRET)
    np.testing.assert_array_equal(np.delete(got, 2), record_keys(base, TEST_SECRET))


def test_keys_depend_on_the_secret_and_are_the_same_in_another_process():
    frame = small_dataset().incidents
    keys = record_keys(frame, TEST_SECRET)
    other = record_keys(frame, TEST_SECRET + "x")
    assert (keys != other).mean() > 0.9  # a different secret: different keys (equal by chance 1 in 256)
    # uniform enough over 0 … 255: every eighth of the range holds about an eighth of the keys
    share = np.bincount(keys // 32, minlength=8) / len(keys)
    assert share.min() > 0.08 and share.max() < 0.17
    code = (
        "import sys, numpy as np; sys.path.insert(0, 'tests')\n"
        "from dashboard_fixtures import small_dataset, TEST_SECRET\n"
        "from geo.public import record_keys\n"
        "print(','.join(map(str, record_keys(small_dataset().incidents, TEST_SECRET))))\n"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"}  # another hash seed: nothing may depend on it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert out.stdout.strip().split(",") == [str(k) for k in keys]


def test_an_aggregated_row_is_one_record_with_its_count():
    data = tiny_dataset()
    pub = public_policy().apply(data)
    keys = record_keys(data.incidents, TEST_SECRET)
    ticket = data.incidents.index[data.incidents["incident_id"] == "I6"][0]  # 14 tickets in one row
    cube = pub.cube
    value = cube.incident_counts(MARCH, ("traffic_ticket",))
    assert value.index.tolist() == ["S2"]
    assert value["S2"] == default_table().perturb(14, keys[ticket])
    # the same single row in every view of it: the total, the category table and the month table
    assert cube.total(MARCH, ("traffic_ticket",), ["S2"]) == value["S2"]
    assert cube.counts_by_category(MARCH).loc["S2", "traffic_ticket"] == value["S2"]


# ---------------------------------------------------------------- missing and short secrets


def test_public_figures_need_the_secret():
    with pytest.raises(MissingSecret, match="DASHBOARD_PUBLIC_SECRET"):
        PublicPolicy().apply(tiny_dataset())
    with pytest.raises(MissingSecret):
        record_keys(records(), "")
    with pytest.raises(ValueError, match="at least 16 characters"):
        PublicPolicy(secret="short")
    assert "DASHBOARD_PUBLIC_SECRET" in public.missing_secret_text(lambda s, **kw: s.format(**kw))
    # the secret is not in the policy's repr; its fingerprint tells deployments apart
    p = public_policy()
    assert TEST_SECRET not in repr(p) and p.secret_id and p != public_policy(secret=TEST_SECRET + "!")


def test_settings_from_the_environment_and_the_secrets_file(tmp_path, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("DASHBOARD_PUBLIC")]:
        monkeypatch.delenv(name)
    table = tmp_path / "ptable.csv"
    default_table().to_frame().to_csv(table, index=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[public]\nenabled = true\nmin_count = 10\nsensitive = ['domestic_violence', 'drugs']\n"
        f"secret = 'from-the-secrets-file-0123456789'\nptable = '{table}'\n",
        encoding="utf-8",
    )
    settings = public.deployment_settings(secrets)
    policy = PublicPolicy.from_settings(settings)
    assert policy.min_count == 10 and policy.sensitive == ("domestic_violence", "drugs")
    assert policy.secret == "from-the-secrets-file-0123456789" and policy.ptable == str(table)
    np.testing.assert_array_equal(policy.table.noise, default_table().noise)
    # the environment overrides the file, setting by setting
    monkeypatch.setenv("DASHBOARD_PUBLIC_SECRET", "from-the-environment-0123456789")
    monkeypatch.setenv("DASHBOARD_PUBLIC_MIN_COUNT", "3")
    policy = PublicPolicy.from_settings(public.deployment_settings(secrets))
    assert policy.secret == "from-the-environment-0123456789" and policy.min_count == 3
    assert policy.sensitive == ("domestic_violence", "drugs")
    # no secret anywhere: the policy is made but publishes nothing
    monkeypatch.delenv("DASHBOARD_PUBLIC_SECRET")
    secrets.write_text("[public]\nenabled = true\n", encoding="utf-8")
    policy = PublicPolicy.from_settings(public.deployment_settings(secrets))
    assert policy is not None and not policy.has_secret
    with pytest.raises(MissingSecret):
        policy.apply(tiny_dataset())
    # a wrong table is refused when the policy is made
    bad = tmp_path / "bad.csv"
    bad.write_text("pcv,ckey,pvalue\n1,0,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.csv, row 2, pvalue"):
        PublicPolicy.from_settings({"DASHBOARD_PUBLIC": "1", "DASHBOARD_PUBLIC_PTABLE": str(bad)})


# ---------------------------------------------------------------- the perturbation table


def test_the_default_table():
    t = default_table()
    assert t.noise.shape == (public.MAX_ROW + 1, public.N_KEYS) and t.bound == 2
    assert (t.noise[0] == 0).all()  # zero stays zero
    counts = np.arange(1, public.MAX_ROW + 1)
    assert ((counts[:, None] + t.noise[1:]) >= 1).all()  # a positive count is never published as 0 or less
    keys = np.arange(public.N_KEYS)
    assert (t.perturb(np.zeros(256, np.int64), keys) == 0).all()
    # the shares of each adjustment, as documented
    for c, shares in ((1, public.DEFAULT_SHARES["1"]), (2, public.DEFAULT_SHARES["2"])):
        assert {int(v): int(n) for v, n in zip(*np.unique(t.noise[c], return_counts=True))} == shares
    for c in (3, 4, 5, 100, 750):
        shares = {int(v): int(n) for v, n in zip(*np.unique(t.noise[c], return_counts=True))}
        assert shares == public.DEFAULT_SHARES["3+"]
    assert t.probabilities(3) == {-2: 0.125, -1: 0.1875, 0: 0.375, 1: 0.1875, 2: 0.125}
    assert t.probabilities(0) == {0: 1.0} and t.probabilities(1) == {0: 0.5, 1: 0.3125, 2: 0.1875}
    assert abs(sum(d * p for d, p in t.probabilities(10).items())) < 1e-12  # unbiased from 3 on
    # neighbouring rows are not adjusted alike for the same key
    assert (t.noise[10] != t.noise[11]).mean() > 0.5
    # counts above 750 reuse rows 501 … 750
    for c, row in ((751, 501), (1000, 750), (1001, 501), (12_345, (12_345 - 1) % 250 + 501)):
        np.testing.assert_array_equal(t.perturb(np.full(256, c), keys) - c, t.noise[row])
    # keys are taken modulo 256; shapes are kept
    assert t.perturb(np.array([[5, 5]]), np.array([[3, 259]])).tolist() == [[5 + t.noise[5, 3]] * 2]


def test_a_table_in_the_ons_format_is_read(tmp_path):
    frame = default_table().to_frame()
    assert list(frame.columns) == ["pcv", "ckey", "pvalue"] and len(frame) == 750 * 256
    path = tmp_path / "full.csv"
    frame.to_csv(path, index=False)
    np.testing.assert_array_equal(read_table(str(path)).noise, default_table().noise)
    # pairs not listed are not adjusted; spaces around values are allowed; extra columns are ignored
    sparse = tmp_path / "sparse.csv"
    sparse.write_text("pcv,ckey,pvalue,note\n3, 7 ,-2,a\n750,255,1,b\n", encoding="utf-8")
    t = read_table(str(sparse))
    assert t.noise[3, 7] == -2 and t.noise[750, 255] == 1 and np.count_nonzero(t.noise) == 2
    assert t.perturb(np.array([3, 1000]), np.array([7, 255])).tolist() == [1, 1000 + 1]  # 1000 uses row 750
    assert t.name == "sparse.csv" and t.bound == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("pcv,ckey,pvalue\n1,0,0\n2,1,1.5\n", r"own\.csv, row 3, pvalue: '1\.5' is not a whole number"),
        ("pcv,ckey,pvalue\nx,0,0\n", r"own\.csv, row 2, pcv: 'x' is not a whole number"),
        ("pcv,ckey,pvalue\n751,0,0\n", r"own\.csv, row 2, pcv: 751 is outside 1 … 750"),
        ("pcv,ckey,pvalue\n0,0,0\n", r"own\.csv, row 2, pcv: 0 is outside 1 … 750"),
        ("pcv,ckey,pvalue\n5,256,0\n", r"own\.csv, row 2, ckey: 256 is outside 0 … 255"),
        ("pcv,ckey,pvalue\n5,-1,0\n", r"own\.csv, row 2, ckey: -1 is outside 0 … 255"),
        ("pcv,ckey,pvalue\n5,3,1\n6,3,0\n5,3,-1\n", r"own\.csv, row 4: pcv 5 with ckey 3 is listed twice"),
        ("pcv,ckey,pvalue\n2,9,-2\n", r"own\.csv, row 2, pvalue: -2 would publish a count of 2 as 0"),
        ("pcv,ckey,pvalue\n1,9,-1\n", r"own\.csv, row 2, pvalue: -1 would publish a count of 1 as 0"),
        ("pcv,ckey\n1,0\n", r"own\.csv: the perturbation table has no column pvalue"),
        ("cell,key,value\n1,0,0\n", r"own\.csv: the perturbation table has no column pcv, ckey, pvalue"),
        ("pcv,ckey,pvalue\n1,,0\n", r"own\.csv, row 2, ckey: '' is not a whole number"),
    ],
)
def test_a_bad_table_is_refused_naming_file_row_and_field(tmp_path, text, message):
    path = tmp_path / "own.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_table(str(path))
    with pytest.raises(ValueError, match=message):
        public_policy(ptable=str(path))


def test_an_unreadable_table_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.csv: the perturbation table cannot be read"):
        read_table(str(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01pcv")
    with pytest.raises(ValueError, match=r"binary\.csv"):
        read_table(str(binary))


# ---------------------------------------------------------------- the published cube


@pytest.fixture(scope="module")
def small_public():
    data = small_dataset()
    return data, public_policy().apply(data)


def test_totals_are_cells_of_their_own(small_public):
    _data, pub = small_public
    cube = pub.cube
    truth = IncidentCube.build(pub.incidents)
    differ = 0
    for month in (1, 2, 3, 4):
        p = figures.months_period(dt.date(2024, month, 1), 1)
        sections = cube.incident_counts(p)
        total = cube.total(p)
        # the total is the one cell of all the period's records: its true count and their keys' sum
        rows = cube._cells(p, (), None)
        key = int(cube.cell_key[rows].sum()) % 256
        assert total == default_table().perturb(truth.total(p), key)
        differ += total != sections.sum()
    assert differ >= 3  # the shown sections do not add up to the total, and need not


def test_the_same_records_give_the_same_value_in_every_question(small_public):
    data, pub = small_public
    cube = pub.cube
    by_cat = cube.counts_by_category(MARCH)
    monthly_checked = 0
    for sid in ("G00", "G22", "G45"):
        for cat in ("theft", "burglary", "traffic_ticket"):
            value = cube.incident_counts(MARCH, (cat,)).get(sid, 0)
            assert cube.total(MARCH, (cat,), [sid]) == value
            assert by_cat.get(cat, pd.Series(dtype="int64")).get(sid, 0) == value
            assert cube.incident_counts(MARCH, (cat,), [sid]).get(sid, 0) == value
            monthly = cube.monthly_counts(MARCH, (cat,), [sid])
            if cat in monthly:
                assert monthly[cat].iloc[0] == value
                monthly_checked += 1
    assert monthly_checked >= 4
    # a section's all-category figure is the total of that section
    every = public_policy().category_groups()["all"]
    sections = cube.incident_counts(MARCH, every)
    assert len(sections) > 30 and all(cube.total(MARCH, every, [s]) == v for s, v in sections.items())
    # a quarter is one cell, not the sum of its months
    q1 = figures.months_period(dt.date(2024, 1, 1), 3)
    key = int(cube.cell_key[cube._cells(q1, (), None)].sum())
    assert cube.total(q1) == default_table().perturb(IncidentCube.build(pub.incidents).total(q1), key)
    # and the public copy of the same data publishes the same values, run after run
    again = public_policy().apply(data).cube
    pd.testing.assert_series_equal(again.incident_counts(MARCH), cube.incident_counts(MARCH))


def test_the_published_cube_refuses_what_the_public_view_does_not_offer(small_public):
    _data, pub = small_public
    cube = pub.cube
    free = figures.Period(dt.date(2024, 3, 2), dt.date(2024, 3, 20))
    two_months = figures.Period(dt.date(2024, 2, 1), dt.date(2024, 3, 31))
    odd_quarter = figures.Period(dt.date(2024, 2, 1), dt.date(2024, 4, 30))
    for period in (free, two_months, odd_quarter, figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 30))):
        asks = (cube.incident_counts, cube.total, cube.counts_by_category, cube.hour_of_day, cube.located_incidents)
        for ask in asks:
            with pytest.raises(PublicQueryError, match="calendar month, quarter or year"):
                ask(period)
    with pytest.raises(PublicQueryError, match="whole months"):
        cube.monthly_counts(free)
    assert len(cube.monthly_counts(two_months)) == 2  # a monthly table over whole months is one cell a month
    for cats in (("theft", "burglary"), ("domestic_violence",), ("theft", "traffic_ticket")):
        with pytest.raises(PublicQueryError, match="categories"):
            cube.incident_counts(MARCH, cats)
        with pytest.raises(PublicQueryError, match="categories"):
            cube.total(MARCH, cats)
    with pytest.raises(PublicQueryError, match="categories"):
        cube.monthly_counts(MARCH, ("domestic_violence",))
    # what is offered: calendar periods and the policy's groups
    year = figures.months_period(dt.date(2024, 1, 1), 12)
    q2 = figures.months_period(dt.date(2024, 4, 1), 3)
    for period in (MARCH, q2, year):
        for cats in public_policy().category_groups().values():
            cube.total(period, cats)
    assert [public.period_kind(p) for p in (MARCH, q2, year, free, two_months, odd_quarter)] == [
        "month",
        "quarter",
        "year",
        "",
        "",
        "",
    ]


def test_public_periods_are_the_calendar_ones_the_data_covers():
    policy = public_policy()
    periods = policy.periods(pd.Timestamp("2023-12-15"), pd.Timestamp("2025-01-31 18:00"))
    kinds = [public.period_kind(p) for p in periods]
    assert kinds == ["month"] * 13 + ["quarter"] * 4 + ["year"]
    assert periods[0] == figures.months_period(dt.date(2025, 1, 1), 1)  # newest first
    assert periods[13] == figures.months_period(dt.date(2024, 10, 1), 3)
    assert periods[-1] == figures.months_period(dt.date(2024, 1, 1), 12)
    assert policy.periods(None, None) == []


def test_measures_hide_exactly_the_counts_shown_as_fewer_than_n():
    m = pd.DataFrame(
        {
            "count": [12, 3, 8, 0, 40, 1],
            "previous": pd.array([10, 9, 2, 0, 41, 4], dtype="Int64"),
            "change": pd.array([2, -6, 6, 0, -1, -3], dtype="Int64"),
            "year_earlier": pd.array([11, 4, 8, 0, 39, pd.NA], dtype="Int64"),
            "change_year": pd.array([1, -1, 0, 0, 1, pd.NA], dtype="Int64"),
            "rate": [1.2, 0.3, 0.8, 0.0, 4.0, 0.1],
            "population": [10000.0] * 6,
            "p": [0.5, 0.01, 0.02, np.nan, 0.9, 0.3],
            "p_fdr": [0.5, 0.01, 0.02, np.nan, 0.9, 0.3],
            "direction": [1, -1, 1, 0, -1, -1],
            "flag": ["no_change", "decrease", "increase", "no_comparison", "no_change", "no_change"],
        },
        index=pd.Index(["A", "B", "C", "D", "E", "F"], name="section_id"),
    )
    out = public_policy().measures(m)
    assert out["count_withheld"].tolist() == ["", SMALL, "", "", "", SMALL]
    assert out["previous_withheld"].tolist() == ["", "", SMALL, "", "", SMALL]
    assert out["year_earlier_withheld"].tolist() == ["", SMALL, "", "", "", ""]
    assert out["count"].isna().tolist() == [False, True, False, False, False, True]
    assert out["rate"].isna().tolist() == [False, True, False, False, False, True]
    assert out["change"].isna().tolist() == [False, True, True, False, False, True]  # now or before small
    assert out["change_year"].isna().tolist() == [False, True, False, False, False, True]
    assert out["flag"].isna().tolist() == [False, True, True, False, False, True]
    # zero shows as 0; nothing else is touched; no "secondary" kind any more
    assert out.loc["D", "count"] == 0 and out.loc["A", "count"] == 12 and out.loc["E", "previous"] == 41
    assert out["population"].tolist() == m["population"].tolist()
    assert set(out[["count_withheld", "previous_withheld", "year_earlier_withheld"]].to_numpy().ravel()) == {"", SMALL}
    # the false-discovery control is redone over the comparisons still shown (A and E only)
    assert np.isfinite(out.loc[["A", "E"], "p_fdr"]).all()
    # a higher threshold hides more
    assert public_policy(min_count=10).measures(m)["count_withheld"].tolist() == ["", SMALL, SMALL, "", "", SMALL]


def test_display_of_published_counts():
    from geo import i18n

    _ = i18n.translator("en")
    p = public_policy()
    assert [p.is_small(n) for n in (0, 1, 4, 5, np.nan)] == [False, True, True, False, False]
    assert p.show(0, _) == "0" and p.show(4, _) == "fewer than 5" and p.show(None, _) == "–"
    assert p.texts(_) == {SMALL: "fewer than 5"}
    assert "totals may not add up" in p.note(_)
