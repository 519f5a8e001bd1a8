# ruff: noqa: F811 - pytest fixtures are imported and then named as arguments
"""The users, their roles and committees, and the append-only audit log (geo/users.py, migration 0003), and
``python -m geo users …``.

The tests that are about the database itself (the triggers, the race of two first sign-ins, a failing audit
write, the retention) run on both engines (``engine_url``); the rest on the embedded one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_fixtures import engine_url, new_engine_url  # noqa: F401 - fixtures

from geo import db, usercli, users

REPO = Path(__file__).resolve().parent.parent
ADMIN = "os:admin@server"
B = "b@example.org"


@pytest.fixture
def eng(tmp_path):
    """A migrated embedded database."""
    e = db.engine(url=f"sqlite:///{tmp_path / 'users' / 'dashboard.sqlite3'}")
    db.upgrade(e)
    return e


def migrated(url: str):
    e = db.engine(url=url)
    db.upgrade(e)
    return e


def records(e) -> list[dict]:
    """The audit records, oldest first, their detail parsed."""
    frame = users.entries(e)
    rows = frame.to_dict("records")[::-1]
    for row in rows:
        row["detail"] = json.loads(row["detail"])
    return rows


# ---------------------------------------------------------------- users, roles, committees


def test_grant_revoke_and_list_normalise_the_address_and_keep_the_roles(eng):
    assert users.list_users(eng) == [] and users.get(eng, "a@example.org") is None
    u = users.grant(eng, "  Commander@Example.ORG ", "commander", ADMIN)
    assert u.email == "commander@example.org" and u.roles == {"commander"} and not u.disabled
    assert u.created_at.tzinfo is not None and u.created_at.utcoffset() == dt.timedelta(0)
    assert u.last_activity is None  # made on the command line, never signed in
    users.grant(eng, "commander@example.org", "analyst", ADMIN)
    users.grant(eng, "viewer@example.org", "viewer", ADMIN)
    assert [(x.email, x.roles) for x in users.list_users(eng)] == [
        ("commander@example.org", {"commander", "analyst"}),
        ("viewer@example.org", {"viewer"}),
    ]
    assert users.get(eng, "COMMANDER@example.org ").roles == {"commander", "analyst"}
    assert users.revoke(eng, "commander@example.org", "analyst", ADMIN).roles == {"commander"}
    gone = users.revoke(eng, "commander@example.org", None, ADMIN)
    assert gone.roles == frozenset() and users.get(eng, "commander@example.org") == gone  # the user stays, no role
    with pytest.raises(users.UnknownUser, match="nobody@example.org"):
        users.revoke(eng, "nobody@example.org", None, ADMIN)


def test_committees_and_disabling(eng):
    users.grant(eng, "sec@example.org", "secretary", ADMIN)
    u = users.set_committees(eng, "sec@example.org", ["L1", " M1 "], ADMIN)
    assert u.committees == {"L1", "M1"} and u.roles == {"secretary"}
    assert users.set_committees(eng, "sec@example.org", ["L2"], ADMIN).committees == {"L2"}
    assert users.set_committees(eng, "sec@example.org", [], ADMIN).committees == frozenset()
    assert users.set_disabled(eng, "sec@example.org", True, ADMIN).disabled
    assert users.get(eng, "sec@example.org").disabled and users.get(eng, "sec@example.org").roles == {"secretary"}
    assert not users.set_disabled(eng, "sec@example.org", False, ADMIN).disabled
    with pytest.raises(ValueError, match="committee id is empty"):
        users.set_committees(eng, "sec@example.org", ["L1", " "], ADMIN)
    for change in (lambda: users.set_disabled(eng, "x@example.org", True, ADMIN),
                   lambda: users.set_committees(eng, "x@example.org", ["L1"], ADMIN)):  # fmt: skip
        with pytest.raises(users.UnknownUser):
            change()


@pytest.mark.parametrize("email", ["", "no-at-sign", "two@@example.org", "a b@example.org", "@example.org"])
def test_an_invalid_email_is_refused_naming_it(eng, email):
    with pytest.raises(ValueError, match="not an e-mail address") as err:
        users.grant(eng, email, "viewer", ADMIN)
    assert repr(email) in str(err.value)
    assert users.list_users(eng) == [] and records(eng) == []


def test_an_unknown_role_or_an_empty_actor_is_refused(eng):
    with pytest.raises(ValueError, match=r"'general' is not a role; roles are commander, analyst"):
        users.grant(eng, "a@example.org", "general", ADMIN)
    with pytest.raises(ValueError, match="'chief'"):
        users.first_sign_in(eng, "a@example.org", "A", ["viewer", "chief"], "a@example.org")
    with pytest.raises(ValueError, match="actor"):
        users.grant(eng, "a@example.org", "viewer", " ")
    assert users.list_users(eng) == [] and records(eng) == []


def test_every_change_leaves_exactly_one_audit_record_and_no_change_none(eng):
    steps = [
        (lambda: users.grant(eng, "a@example.org", "commander", ADMIN, "10.0.0.5"), ("role", "grant")),
        (lambda: users.grant(eng, "a@example.org", "commander", ADMIN), None),  # held already
        (lambda: users.grant(eng, "a@example.org", "analyst", ADMIN), ("role", "grant")),
        (lambda: users.revoke(eng, "a@example.org", "viewer", ADMIN), None),  # not held
        (lambda: users.revoke(eng, "a@example.org", "analyst", ADMIN), ("role", "revoke")),
        (lambda: users.set_committees(eng, "a@example.org", ["L1"], ADMIN), ("role", "committees")),
        (lambda: users.set_committees(eng, "a@example.org", ["L1"], ADMIN), None),
        (lambda: users.set_disabled(eng, "a@example.org", True, ADMIN), ("role", "disable")),
        (lambda: users.set_disabled(eng, "a@example.org", True, ADMIN), None),
        (lambda: users.set_disabled(eng, "a@example.org", False, ADMIN), ("role", "enable")),
        (lambda: users.first_sign_in(eng, B, "B", ["viewer"], B), ("user", "first sign-in")),
        (lambda: users.first_sign_in(eng, B, "B", ["viewer"], B), None),  # known
        (lambda: users.revoke(eng, "b@example.org", None, ADMIN), ("role", "revoke")),
    ]
    for change, expected in steps:
        before = len(records(eng))
        change()
        after = records(eng)
        assert len(after) == before + (expected is not None)
        if expected is not None:
            assert (after[-1]["action"], after[-1]["detail"]["change"]) == expected
    first = records(eng)[0]
    assert first["actor"] == ADMIN and first["address"] == "10.0.0.5"
    assert first["detail"] == {"email": "a@example.org", "change": "grant", "role": "commander", "created": True}
    signed = next(r for r in records(eng) if r["action"] == "user")
    assert signed["detail"]["roles"] == ["viewer"] and signed["roles"] == "viewer"
    assert records(eng)[-1]["detail"]["roles"] == ["viewer"]  # what revoke took


def test_first_sign_in_gives_the_claims_roles_and_marks_the_activity(eng):
    u = users.first_sign_in(eng, "New@Example.org", " New Person ", ["analyst", "commander"], "new@example.org")
    assert u.email == "new@example.org" and u.name == "New Person" and u.roles == {"analyst", "commander"}
    assert u.last_activity == u.created_at
    users.revoke(eng, u.email, "commander", ADMIN)
    # afterwards the database decides: a second first sign-in changes nothing
    assert users.first_sign_in(eng, u.email, "Other", ["commander"], u.email).roles == {"analyst"}


def test_touch_and_the_idle_timeout(eng):
    u = users.grant(eng, "a@example.org", "commander", ADMIN)
    t0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert not users.idle_expired(u, t0, 30)  # never active: nothing to time out
    users.touch(eng, "A@example.org", t0.astimezone(dt.timezone(dt.timedelta(hours=1))))
    u = users.get(eng, "a@example.org")
    assert u.last_activity == t0 and u.last_activity.utcoffset() == dt.timedelta(0)
    assert not users.idle_expired(u, t0 + dt.timedelta(minutes=30), 30)
    assert users.idle_expired(u, t0 + dt.timedelta(minutes=30, seconds=1), 30)
    assert len(records(eng)) == 1  # activity is not audited
    with pytest.raises(ValueError, match="minutes"):
        users.idle_expired(u, t0, 0)


def test_first_sign_in_is_race_safe(engine_url):
    """Two sessions of the same new user at once: one user, one ``user`` record, both sessions get it."""
    e = migrated(engine_url)
    start = threading.Barrier(2)
    got: list = []
    errors: list = []

    def sign_in() -> None:
        try:
            start.wait(timeout=30)
            got.append(users.first_sign_in(e, "race@example.org", "Race", ["viewer"], "race@example.org"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(got) == 2 and got[0] == got[1]
    assert [u.email for u in users.list_users(e)] == ["race@example.org"]
    assert [r["action"] for r in records(e)] == ["user"]


# ---------------------------------------------------------------- the audit log is append-only


def test_the_apps_own_connection_cannot_update_or_delete_audit_records(engine_url):
    e = migrated(engine_url)
    first = users.record(e, "a@example.org", "view", {"page": "hotspots"}, "10.0.0.5", ["commander"])
    users.record(e, "a@example.org", "export", {"file": "incidents.csv"})
    attempts = [
        f"UPDATE audit_log SET actor = 'someone else' WHERE id = {first}",
        "UPDATE audit_log SET detail = '{}'",
        f"DELETE FROM audit_log WHERE id = {first}",
        "DELETE FROM audit_log",
        "DELETE FROM audit_retention",
    ]
    if db.is_postgres(e):
        attempts.append("TRUNCATE audit_log")  # skips row triggers: refused by a statement trigger
    for sql in attempts:
        with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only|audit_retention keeps its row"):
            with db.write(e) as conn:
                conn.exec_driver_sql(sql)
    frame = users.entries(e)
    assert frame["id"].tolist() == [first + 1, first] and frame["actor"].tolist() == ["a@example.org"] * 2
    assert json.loads(frame["detail"].iloc[1]) == {"page": "hotspots"} and frame["roles"].iloc[1] == "commander"


def test_only_records_older_than_purge_before_may_be_deleted(engine_url):
    """The control: the trigger lets a DELETE pass below ``purge_before`` and nowhere else."""
    e = migrated(engine_url)
    old = users.record(e, "a@example.org", "view", {"n": 1})
    at_old = users.entries(e)["at"].iloc[0].to_pydatetime()
    newer = users.record(e, "a@example.org", "view", {"n": 2})
    while users.entries(e, action="view")["at"].iloc[0].to_pydatetime() <= at_old:  # a later moment than old's
        newer = users.record(e, "a@example.org", "view", {"n": 3})
    with db.write(e) as conn:
        conn.execute(db.AUDIT_RETENTION.update().values(purge_before=at_old + dt.timedelta(microseconds=1)))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.write(e) as conn:
            conn.exec_driver_sql(f"DELETE FROM audit_log WHERE id = {newer}")
    with db.write(e) as conn:
        assert conn.exec_driver_sql(f"DELETE FROM audit_log WHERE id = {old}").rowcount == 1
    assert old not in users.entries(e)["id"].tolist() and newer in users.entries(e)["id"].tolist()


def test_purge_removes_what_is_older_than_the_retention_and_records_itself(engine_url):
    e = migrated(engine_url)
    for n in range(3):
        users.record(e, "a@example.org", "view", {"n": n})
    now = dt.datetime.now(dt.UTC)
    assert users.purge(e, 30, now, ADMIN) == 0  # nothing is 30 days old
    assert users.purge(e, 30, now + dt.timedelta(days=31), ADMIN) == 4  # the three and the first purge
    rows = records(e)
    assert [r["action"] for r in rows] == ["purge"] and rows[0]["actor"] == ADMIN
    assert rows[0]["detail"]["removed"] == 4 and rows[0]["detail"]["keep_days"] == 30
    # ids are never reused
    assert users.record(e, "a@example.org", "view", {}) > rows[0]["id"] > 4
    with pytest.raises(ValueError, match="keep_days"):
        users.purge(e, 0, now, ADMIN)


def test_a_failing_audit_write_is_an_audit_error_and_the_change_is_not_made(engine_url):
    e = migrated(engine_url)
    with db.write(e) as conn:
        conn.exec_driver_sql("DROP TABLE audit_log")
    with pytest.raises(users.AuditError, match="could not be written"):
        users.record(e, "a@example.org", "export", {"file": "x.csv"})
    with pytest.raises(users.AuditError):
        users.grant(e, "a@example.org", "commander", ADMIN)
    with pytest.raises(users.AuditError):
        users.first_sign_in(e, "b@example.org", "B", ["viewer"], "b@example.org")
    assert users.list_users(e) == []  # rolled back with its record


def test_an_unreachable_database_is_an_audit_error():
    e = db.engine(url="postgresql+psycopg://someone@127.0.0.1:1/nothing")
    with pytest.raises(users.AuditError, match="could not be written"):
        users.record(e, "a@example.org", "view", {"page": "overview"})


def test_record_refuses_an_unknown_action_or_detail(eng):
    with pytest.raises(ValueError, match="'peek' is not an audited action"):
        users.record(eng, "a@example.org", "peek", {})
    with pytest.raises(ValueError, match="mapping"):
        users.record(eng, "a@example.org", "view", ["page"])
    assert records(eng) == []


# ---------------------------------------------------------------- reading and exporting the log


def test_entries_filters(eng):
    users.record(eng, "a@example.org", "view", {"page": "overview"}, roles=["commander"])
    users.record(eng, "B@example.org", "export", {"file": "x.csv"}, roles=["analyst"])
    users.record(eng, "a@example.org", "export", {"file": "y.csv"}, roles=["commander"])
    all_ = users.entries(eng)
    assert list(all_.columns) == list(users.COLUMNS) and len(all_) == 3
    assert all_["id"].is_monotonic_decreasing and str(all_["at"].dt.tz) == "UTC"
    assert users.entries(eng, actor="A@EXAMPLE.org")["action"].tolist() == ["export", "view"]
    assert users.entries(eng, actor="b@example.org")["roles"].tolist() == ["analyst"]
    assert users.entries(eng, action="export")["actor"].tolist() == ["a@example.org", "B@example.org"]
    assert len(users.entries(eng, limit=2)) == 2 and users.entries(eng, limit=1)["action"].tolist() == ["export"]
    today = dt.datetime.now(dt.UTC).date()
    assert len(users.entries(eng, since=today, until=today)) == 3  # a day is the whole day
    assert users.entries(eng, since=today + dt.timedelta(days=1)).empty
    assert users.entries(eng, until=today - dt.timedelta(days=1)).empty
    middle = all_["at"].iloc[1].to_pydatetime()
    assert users.entries(eng, since=middle)["id"].min() == all_["id"].iloc[1]
    assert middle not in users.entries(eng, until=middle)["at"].tolist()  # a moment: until is exclusive
    with pytest.raises(ValueError, match="not an audited action"):
        users.entries(eng, action="peek")
    empty = users.entries(eng, action="purge")
    assert empty.empty and list(empty.columns) == list(users.COLUMNS)


def test_entries_csv_is_utf8_with_a_bom_and_safe_in_a_spreadsheet(eng):
    users.record(eng, '=HYPERLINK("http://evil")', "view", {"area": "Prishtinë"}, "+383", ["@SUM(1)"])
    users.record(eng, "-2+3", "view", {}, "\t=1")
    users.record(eng, "ok@example.org", "view", {"note": "=not at the start"}, "10.0.0.1")
    data = users.entries_csv(users.entries(eng))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(users.COLUMNS)
    by_actor = {r[2]: r for r in rows[1:]}
    evil = by_actor['\'=HYPERLINK("http://evil")']
    assert evil[3] == "'@SUM(1)" and evil[4] == "'+383" and "Prishtinë" in evil[6]
    assert by_actor["'-2+3"][4] == "'\t=1"
    plain = by_actor["ok@example.org"]
    assert plain[4] == "10.0.0.1" and plain[6].startswith("{") and plain[0].isdigit()
    assert plain[1].endswith("Z") and dt.datetime.fromisoformat(plain[1]).tzinfo is not None
    assert not [c for r in rows[1:] for c in r if c[:1] in users.FORMULA_STARTS]


def test_os_actor_names_the_user_and_the_host():
    import getpass
    import socket

    assert users.os_actor() == f"os:{getpass.getuser()}@{socket.gethostname()}"


# ---------------------------------------------------------------- python -m geo users


@pytest.fixture
def deployment(tmp_path, monkeypatch) -> Path:
    """The deployment's database is an SQLite file in ``tmp_path`` (not created yet)."""
    path = tmp_path / "deployment" / "dashboard.sqlite3"
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("DASHBOARD_AUDIT_RETENTION_DAYS", raising=False)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = usercli.main(["users", *map(str, argv)])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_the_command_line_on_a_new_and_an_empty_database(capsys, deployment):
    code, _, err = run(capsys, "list")
    assert code == 1 and "db upgrade" in err and not deployment.exists()
    db.upgrade(db.engine(url=f"sqlite:///{deployment}"))
    code, out, _ = run(capsys, "list")
    assert code == 0 and "no users yet" in out
    code, out, _ = run(capsys, "audit")
    assert code == 0 and "no audit records" in out


def test_the_command_line_grants_revokes_disables_and_records_as_the_os_user(capsys, deployment):
    e = db.engine(url=f"sqlite:///{deployment}")
    db.upgrade(e)
    code, out, _ = run(capsys, "grant", "Admin@Example.org", "administrator")
    assert code == 0 and "admin@example.org  administrator" in out
    code, out, _ = run(capsys, "grant", "sec@example.org", "secretary", "--committee", "L1", "--committee", "M1")
    assert code == 0 and "committees L1,M1" in out
    assert users.get(e, "sec@example.org").committees == {"L1", "M1"}
    code, out, _ = run(capsys, "list")
    assert code == 0 and out.splitlines()[0].startswith("admin@example.org  administrator  last active never")
    assert "sec@example.org  secretary  committees L1,M1" in out
    assert run(capsys, "disable", "sec@example.org")[0] == 0 and users.get(e, "sec@example.org").disabled
    assert "DISABLED" in run(capsys, "list")[1]
    assert run(capsys, "enable", "sec@example.org")[0] == 0 and not users.get(e, "sec@example.org").disabled
    code, out, _ = run(capsys, "revoke", "sec@example.org", "viewer")
    assert code == 0 and "did not hold viewer" in out
    code, out, _ = run(capsys, "revoke", "sec@example.org")
    assert code == 0 and "(no role)" in out
    rows = records(e)
    assert {r["actor"] for r in rows} == {users.os_actor()}
    assert [r["detail"]["change"] for r in rows] == ["grant", "grant", "committees", "disable", "enable", "revoke"]


def test_the_command_line_refuses_with_exit_codes(capsys, deployment):
    db.upgrade(db.engine(url=f"sqlite:///{deployment}"))
    code, _, err = run(capsys, "revoke", "nobody@example.org")
    assert code == 1 and "no user nobody@example.org" in err
    assert run(capsys, "disable", "nobody@example.org")[0] == 1
    code, _, err = run(capsys, "grant", "not-an-address", "viewer")
    assert code == 2 and "'not-an-address' is not an e-mail address" in err
    code, _, err = run(capsys, "grant", "a@example.org", "general")
    assert code == 2 and "'general' is not a role" in err
    code, _, err = run(capsys, "audit", "--since", "yesterday")
    assert code == 2 and "not a date" in err
    assert run(capsys, "audit", "--action", "peek")[0] == 2
    assert run(capsys)[0] == 2
    assert users.list_users(db.engine(url=f"sqlite:///{deployment}")) == []


def test_the_command_line_audit_filters_exports_and_purges(capsys, deployment, tmp_path, monkeypatch):
    e = db.engine(url=f"sqlite:///{deployment}")
    db.upgrade(e)
    users.record(e, "a@example.org", "view", {"page": "hotspots"}, "10.0.0.5", ["commander"])
    users.record(e, "=evil", "export", {"file": "x.csv"})
    code, out, _ = run(capsys, "audit", "--user", "A@example.org")
    assert code == 0 and len(out.splitlines()) == 1 and "a@example.org  [commander]  10.0.0.5  view" in out
    today = dt.datetime.now(dt.UTC).date()
    code, out, _ = run(capsys, "audit", "--since", today + dt.timedelta(days=1))
    assert code == 0 and "no audit records" in out
    code, out, _ = run(capsys, "audit", "--action", "export", "--csv", tmp_path / "audit.csv")
    assert code == 0 and "wrote 1 audit records" in out
    data = (tmp_path / "audit.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"'=evil" in data and b"hotspots" not in data
    assert records(e)[-1]["action"] == "audit-export"  # the export is itself recorded
    code, out, _ = run(capsys, "purge")
    assert code == 0 and "every audit record is kept" in out and len(records(e)) == 3
    monkeypatch.setenv("DASHBOARD_AUDIT_RETENTION_DAYS", "30")
    code, out, _ = run(capsys, "purge")
    assert code == 0 and "removed 0 audit records older than 30 days" in out
    assert records(e)[-1]["action"] == "purge" and records(e)[-1]["actor"] == users.os_actor()
    monkeypatch.setenv("DASHBOARD_AUDIT_RETENTION_DAYS", "forever")
    code, _, err = run(capsys, "purge")
    assert code == 2 and "DASHBOARD_AUDIT_RETENTION_DAYS" in err


def test_python_m_geo_runs_the_users_and_the_db_commands(deployment):
    env = {**__import__("os").environ, "DASHBOARD_DATABASE_URL": f"sqlite:///{deployment}"}
    run_ = [sys.executable, "-m", "geo"]
    done = subprocess.run([*run_, "db", "upgrade"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [*run_, "users", "grant", "first@example.org", "administrator"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "first@example.org  administrator" in done.stdout, done.stderr
