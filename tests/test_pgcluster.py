"""The temporary PostgreSQL + PostGIS cluster of the tests (``tests/pgcluster.py``, fixtures in ``conftest.py``)
and the CI rule that nothing may be skipped there (``tests/cigate.py``)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cigate import in_ci, skip_gate
from pgcluster import PROGRAMS, TEMPLATE, problems, running_as_root, skip_or_fail, unavailable

TESTS = Path(__file__).parent


def engine(url: str):
    """An engine without a pool, so that no connection outlives its use."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool)


def scalar(url: str, sql: str, **params):
    from sqlalchemy import text

    eng = engine(url)
    try:
        with eng.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        eng.dispose()


# ---------------------------------------------------------------- the cluster


def test_the_cluster_answers_and_is_postgresql_15(pg_cluster):
    assert pg_cluster.psql("SELECT 6 * 7") == "42"
    assert pg_cluster.psql("SHOW server_version_num").startswith("15")
    assert pg_cluster.psql("SELECT current_user") == "postgres"


def test_postgis_works_with_geometries_in_epsg_4326(pg_url):
    from sqlalchemy import text

    assert scalar(pg_url, "SELECT postgis_version()").startswith("3.")
    eng = engine(pg_url)
    try:
        with eng.begin() as conn:
            conn.execute(text("CREATE TABLE sections (section_id text PRIMARY KEY, geom geometry(Polygon, 4326))"))
            conn.execute(
                text("INSERT INTO sections VALUES (:id, ST_MakeEnvelope(:x0, 42.6, :x1, 42.7, 4326))"),
                [{"id": "S1", "x0": 21.1, "x1": 21.2}, {"id": "S2", "x0": 21.2, "x1": 21.3}],
            )
            contains = "SELECT section_id FROM sections WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            assert conn.execute(text(contains), {"x": 21.25, "y": 42.65}).scalars().all() == ["S2"]
            assert conn.execute(text(contains), {"x": 20.74, "y": 42.21}).scalars().all() == []  # Prizren
            assert conn.execute(text("SELECT Find_SRID('public', 'sections', 'geom')")).scalar() == 4326
        with pytest.raises(Exception, match="SRID"), eng.connect() as conn:  # PostGIS refuses to mix SRIDs
            conn.execute(text("SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(0, 0), 3857)) FROM sections"))
    finally:
        eng.dispose()


SEEN: list[str] = []


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_a_fresh_database_and_the_previous_one_is_dropped(pg_cluster, pg_url, turn):
    from sqlalchemy import inspect, make_url, text

    name = make_url(pg_url).database
    assert pg_url == f"postgresql+psycopg://postgres@127.0.0.1:{pg_cluster.port}/{name}"
    assert name not in SEEN
    for earlier in SEEN:  # a test's database is gone once the test is over
        assert pg_cluster.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{earlier}'") == "0"
    SEEN.append(name)
    eng = engine(pg_url)
    try:
        assert inspect(eng).get_table_names() == ["spatial_ref_sys"]  # the template's PostGIS, nothing else
        with eng.begin() as conn:
            conn.execute(text("CREATE TABLE written_by (turn text)"))
            conn.execute(text("INSERT INTO written_by VALUES (:turn)"), {"turn": turn})
    finally:
        eng.dispose()


def test_two_databases_of_the_cluster_are_independent(pg_cluster, pg_url):
    other = pg_cluster.create_database()
    try:
        pg_cluster.psql("CREATE TABLE concerns (n int); INSERT INTO concerns VALUES (1), (2)", other)
        assert scalar(pg_cluster.url(other), "SELECT count(*) FROM concerns") == 2
        assert scalar(pg_url, "SELECT to_regclass('concerns') IS NULL") is True
        # the template itself stays as made: PostGIS and nothing written by any test
        assert (
            pg_cluster.psql(f"SELECT datistemplate, datallowconn FROM pg_database WHERE datname = '{TEMPLATE}'")
            == "t|f"
        )
    finally:
        pg_cluster.drop_database(other)


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """``(address, port)`` of every TCP socket process ``pid`` listens on (from /proc, IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                if table == "tcp":
                    host = ".".join(str(b) for b in reversed(raw))
                else:
                    host = ":".join(raw[i : i + 4][::-1].hex() for i in range(0, 16, 4))
                found.add((host, int(port, 16)))
    return found


def test_the_cluster_listens_on_127_0_0_1_only_and_never_on_5432(pg_cluster, tmp_path_factory):
    assert pg_cluster.port != 5432
    assert pg_cluster.psql("SHOW listen_addresses") == "127.0.0.1"
    pid = int((pg_cluster.datadir / "postmaster.pid").read_text().split()[0])
    assert listening_sockets(pid) == {("127.0.0.1", pg_cluster.port)}
    # its unix socket is in its own folder, not Debian's /var/run/postgresql
    assert (pg_cluster.socketdir / f".s.PGSQL.{pg_cluster.port}").is_socket()
    assert not Path(f"/var/run/postgresql/.s.PGSQL.{pg_cluster.port}").exists()
    assert pg_cluster.psql("SHOW unix_socket_directories") == str(pg_cluster.socketdir)
    # trust only for the socket and 127.0.0.1
    rules = [line.split() for line in (pg_cluster.datadir / "pg_hba.conf").read_text().splitlines()]
    assert [r for r in rules if r and not r[0].startswith("#")] == [
        ["local", "all", "all", "trust"],
        ["host", "all", "all", "127.0.0.1/32", "trust"],
    ]
    # outside pytest's tmp_path (0700 under root), owned by the user that runs the server
    assert not pg_cluster.root.is_relative_to(tmp_path_factory.getbasetemp())
    owner = "postgres" if running_as_root() else pwd.getpwuid(os.geteuid()).pw_name
    assert pwd.getpwuid(pg_cluster.datadir.stat().st_uid).pw_name == owner


def test_pg_dump_and_pg_restore_run_against_the_cluster_with_files_in_tmp_path(pg_cluster, pg_url, tmp_path):
    from sqlalchemy import make_url

    name = make_url(pg_url).database
    pg_cluster.psql(
        "CREATE TABLE incidents (id text, geom geometry(Point, 4326));"
        "INSERT INTO incidents VALUES ('I1', ST_SetSRID(ST_MakePoint(21.15, 42.65), 4326))",
        name,
    )
    dump = tmp_path / "store.dump"
    pg_cluster.run("pg_dump", "-Fc", "-f", dump, name)
    assert dump.read_bytes()[:5] == b"PGDMP"  # the custom format
    restored = pg_cluster.create_database()
    try:
        pg_cluster.run("pg_restore", "--exit-on-error", "-d", restored, dump)
        assert pg_cluster.psql("SELECT id, ST_AsText(geom), ST_SRID(geom) FROM incidents", restored) == (
            "I1|POINT(21.15 42.65)|4326"
        )
    finally:
        pg_cluster.drop_database(restored)


def test_tests_using_the_cluster_carry_the_postgres_marker(request, pg_cluster):
    assert request.node.get_closest_marker("postgres") is not None


# ---------------------------------------------------------------- skip locally, fail in CI (no uninstalling)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("True", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("", False)],
)
def test_in_ci_reads_the_ci_variable(value, expected):
    assert in_ci({"CI": value}) is expected


def test_in_ci_is_false_without_the_variable():
    assert in_ci({}) is False


def test_a_missing_postgresql_skips_locally_and_fails_in_ci():
    problem = "PostGIS 3 for PostgreSQL 15 is not installed"
    assert unavailable(problem, {}) == ("skip", problem)
    assert unavailable(problem, {"CI": "false"}) == ("skip", problem)
    outcome, message = unavailable(problem, {"CI": "true"})
    assert outcome == "fail" and message.startswith(problem) and "CI=true" in message
    with pytest.raises(pytest.skip.Exception, match="PostGIS 3"):
        skip_or_fail(problem, {})
    with pytest.raises(pytest.fail.Exception, match="PostGIS 3.*CI=true"):
        skip_or_fail(problem, {"CI": "true"})


def test_missing_binaries_are_named_with_how_to_install_them(tmp_path):
    (tmp_path / "psql").write_text("#!/bin/sh\n")
    (tmp_path / "psql").chmod(0o755)
    [message] = problems(tmp_path)
    assert str(tmp_path) in message
    assert "apt-get install postgresql-15 postgresql-15-postgis-3" in message
    named = message.split(" in ")[0]
    assert all(p in named for p in PROGRAMS if p != "psql") and "psql" not in named


def test_missing_postgis_is_named_with_how_to_install_it(tmp_path):
    for program in PROGRAMS:
        (tmp_path / program).write_text("#!/bin/sh\nexit 1\n")
        (tmp_path / program).chmod(0o755)
    found = problems(tmp_path)  # the fake pg_config fails: the share folder is guessed, and has no PostGIS
    assert any("PostGIS 3" in p and "postgis.control" in p and "postgresql-15-postgis-3" in p for p in found)


def test_skips_pass_locally_and_fail_the_run_in_ci_naming_each():
    skipped = [("tests/test_a.py::test_x", "no Chromium at /usr/bin/chromium"), ("tests/test_b.py", "no PostGIS")]
    assert skip_gate(skipped, {}) is None
    assert skip_gate(skipped, {"CI": "false"}) is None
    assert skip_gate([], {"CI": "true"}) is None
    message = skip_gate(skipped, {"CI": "true"})
    assert message.startswith("2 skipped under CI=true")
    assert "tests/test_a.py::test_x: no Chromium at /usr/bin/chromium" in message
    assert "tests/test_b.py: no PostGIS" in message


def test_the_hooks_turn_a_skip_into_a_failed_run_under_ci(tmp_path):
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_runs():
                pass

            def test_skipped():
                pytest.skip("nothing to test against")

            @pytest.mark.xfail(reason="known")
            def test_expected_failure():
                raise AssertionError
            """
        )
    )
    (tmp_path / "test_module_skipped.py").write_text('import pytest\npytest.skip("no tool", allow_module_level=True)\n')

    def run(ci: str | None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONPATH": str(TESTS)}
        if ci is not None:
            env["CI"] = ci
        argv = [sys.executable, "-m", "pytest", "-p", "cigate", "-p", "no:cacheprovider", "-q", "--rootdir", tmp_path]
        return subprocess.run([*map(str, argv), str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True)

    local = run(None)
    assert local.returncode == 0, local.stdout
    assert "skipped under CI" not in local.stdout
    ci = run("true")
    assert ci.returncode == 1, ci.stdout
    assert "2 skipped under CI=true" in ci.stdout
    assert "test_inner.py::test_skipped: nothing to test against" in ci.stdout
    assert "test_module_skipped.py: no tool" in ci.stdout
    assert "test_expected_failure" not in ci.stdout.split("skipped under CI")[-1]  # an xfail is not a skip


def test_ci_runs_the_readme_test_command_with_ci_true_and_installs_the_servers():
    root = TESTS.parent
    script = (root / ".ci" / "run").read_text()
    readme = (root / "README.md").read_text()
    command = script.rstrip().splitlines()[-1]
    assert command.endswith("-m pytest") and f"\n{command}\n" in readme
    assert "\nexport CI=true\n" in script
    for package in ("postgresql-15", "postgresql-15-postgis-3", "nginx-light", "chromium"):
        assert f"+=({package}" in script or f" {package})" in script, package
