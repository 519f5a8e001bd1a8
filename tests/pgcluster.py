"""A temporary PostgreSQL 15 + PostGIS 3 cluster that the tests start and stop themselves.

The server is Debian's (``/usr/lib/postgresql/15/bin``, packages ``postgresql-15`` and
``postgresql-15-postgis-3``) but never Debian's own cluster on port 5432: :meth:`PgCluster.start`
runs ``initdb`` into a folder made with :func:`tempfile.mkdtemp` (outside pytest's ``tmp_path``,
which is mode 0700 under root), on a free port of 127.0.0.1 only and with a unix-socket folder of
its own, ``trust`` authentication for those local connections only. ``initdb``, ``pg_ctl`` and
``postgres`` refuse to run as root, so when the tests run as root (CI does) the server runs as the
``postgres`` OS user, which owns the folder. :meth:`PgCluster.stop` stops it (``-m immediate``) and
removes the folder.

Client programs (``psql``, ``pg_dump``, ``pg_restore``) run as the current user over TCP, so
they can read and write files in ``tmp_path``: ``cluster.run("pg_dump", "-Fc", "-f", path, name)``.

The pytest fixtures are in ``conftest.py``: ``pg_cluster`` (one per session) and ``pg_url`` (a
fresh database per test, made from a template with PostGIS). This module is plain Python so that
the decision "skip or fail" (:func:`unavailable`) can be tested with a fake environment.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cigate import in_ci

#: Debian's PostgreSQL 15 binaries.
BINDIR = Path("/usr/lib/postgresql/15/bin")
#: The programs the fixture runs; all come with the package postgresql-15.
PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql", "pg_dump", "pg_restore")
#: The OS user that runs the server when the tests run as root (created by the package).
SERVER_USER = "postgres"
#: The database role the tests connect as (the superuser ``initdb -U`` creates).
ROLE = "postgres"
HOST = "127.0.0.1"
#: The template every per-test database is copied from: PostGIS is created in it once.
TEMPLATE = "dashboard_template"
INSTALL = "apt-get install postgresql-15 postgresql-15-postgis-3"


def bindir() -> Path:
    """The folder of the PostgreSQL 15 binaries the tests use."""
    return BINDIR


def running_as_root() -> bool:
    return os.geteuid() == 0


def problems(bin_dir: Path | None = None) -> list[str]:
    """What is missing to start a cluster with PostGIS here, each with how to install it (empty: nothing)."""
    bin_dir = bin_dir or bindir()
    missing = [p for p in PROGRAMS if not os.access(bin_dir / p, os.X_OK)]
    if missing:
        return [f"PostgreSQL 15 is not installed: no {', '.join(missing)} in {bin_dir} (install it: `{INSTALL}`)"]
    found: list[str] = []
    control = sharedir(bin_dir) / "extension" / "postgis.control"
    if not control.is_file():
        found.append(f"PostGIS 3 for PostgreSQL 15 is not installed: no {control} (install it: `{INSTALL}`)")
    if running_as_root():
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            found.append(
                f"the tests run as root but there is no OS user {SERVER_USER!r} to run the server as "
                f"(initdb refuses root; the package postgresql-15 creates that user: `{INSTALL}`)"
            )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        found.append("the Python package psycopg is not installed (`pip install -r requirements-dev.txt`)")
    return found


def sharedir(bin_dir: Path) -> Path:
    """PostgreSQL's share folder (extensions' control files live in its ``extension/``)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([bin_dir / "pg_config", "--sharedir"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    return Path("/usr/share/postgresql") / bin_dir.parent.name


def unavailable(problem: str, env: Mapping[str, str]) -> tuple[str, str]:
    """``("skip" | "fail", message)`` for a missing PostgreSQL/PostGIS: in CI (``CI=true``) the
    PostgreSQL tests must run, so a missing piece fails them instead of skipping them."""
    if in_ci(env):
        return "fail", f"{problem}; CI=true, where the PostgreSQL tests must run, not skip"
    return "skip", problem


def skip_or_fail(problem: str, env: Mapping[str, str] | None = None) -> None:
    """Skip the current test for ``problem``, or fail it in CI (see :func:`unavailable`)."""
    import pytest

    outcome, message = unavailable(problem, os.environ if env is None else env)
    if outcome == "fail":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port(host: str = HOST) -> int:
    """A TCP port of ``host`` nobody listens on now (the kernel's choice: never 5432)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ClusterError(RuntimeError):
    """The cluster could not be made, started or used; the message holds the server's own words."""


@dataclass
class PgCluster:
    """A running temporary cluster (see the module docstring). Make one with :meth:`start`."""

    root: Path
    port: int
    bin_dir: Path = field(default_factory=bindir)
    host: str = HOST
    user: str = ROLE
    _names: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socketdir(self) -> Path:
        return self.root / "socket"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    # ------------------------------------------------------------ life cycle

    @classmethod
    def start(cls, bin_dir: Path | None = None, attempts: int = 3) -> PgCluster:
        """initdb a new cluster in a fresh temporary folder and start it on a free port of 127.0.0.1.

        Another process may take the free port between choosing and binding it: the start is then
        tried again on another port, up to ``attempts`` times. On any failure the folder is removed.
        """
        root = Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        cluster = cls(root=root, port=0, bin_dir=bin_dir or bindir())
        try:
            (root / "socket").mkdir()
            if running_as_root():
                owner = pwd.getpwnam(SERVER_USER)
                for path in (root, root / "socket"):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            cluster._initdb()
            for attempt in range(1, attempts + 1):
                cluster.port = free_port()
                cluster._configure()
                if cluster._pg_ctl("start", "-l", str(cluster.logfile), "-w", "-t", "60").returncode == 0:
                    atexit.register(cluster.stop)  # a safety net: the fixture stops it first
                    return cluster
                log = cluster.log_tail()
                port_taken = "could not bind" in log or "Address already in use" in log
                if not port_taken or attempt == attempts:
                    raise ClusterError(f"pg_ctl start failed on port {cluster.port}:\n{log}")
        except BaseException:
            cluster.stop()
            raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``) and remove the cluster's folder.

        Safe to call twice or on a cluster that never started; if ``pg_ctl`` cannot stop it, the
        postmaster named in ``postmaster.pid`` (a process this cluster started) is killed.
        """
        pidfile = self.datadir / "postmaster.pid"
        if pidfile.exists():
            if self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30").returncode != 0:
                with contextlib.suppress(OSError, ValueError, IndexError):
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def _initdb(self) -> None:
        out = self._server(
            "initdb", "-D", str(self.datadir), "-U", ROLE, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        if out.returncode != 0:
            raise ClusterError(f"initdb failed:\n{out.stdout}{out.stderr}")
        # trust, for connections from this machine only: the socket folder and 127.0.0.1
        (self.datadir / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 trust\n"
            f"host    all       all   {HOST}/32  trust\n"
        )

    def _configure(self) -> None:
        """Settings of a throw-away test server (appended: the last line of a setting wins)."""
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(self.port),
            "unix_socket_directories": "'" + str(self.socketdir).replace("'", "''") + "'",
            # nothing here has to survive a crash of the machine
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'64MB'",
            "max_connections": "100",
        }
        with (self.datadir / "postgresql.conf").open("a") as f:
            f.write("\n# the test fixture's settings (tests/pgcluster.py)\n")
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return self._server("pg_ctl", "-D", str(self.datadir), "-s", *args)

    def _server(self, program: str, *args: str) -> subprocess.CompletedProcess:
        """Run a server program, as the ``postgres`` OS user when the tests run as root."""
        kwargs: dict = {}
        if running_as_root():
            owner = pwd.getpwnam(SERVER_USER)
            kwargs = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            **kwargs,
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no server log: {exc})"

    # ------------------------------------------------------------ connecting

    def url(self, dbname: str = "postgres") -> str:
        """The SQLAlchemy URL of database ``dbname``: ``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """The libpq connection string of database ``dbname`` (for psycopg and the client programs)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def client_env(self) -> dict[str, str]:
        """The environment of a client program: this cluster, over TCP, as ``postgres``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user, PGDATABASE="postgres")
        return env

    def run(self, program: str, *args: str | os.PathLike, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        """Run a client program of the cluster's version (``psql``, ``pg_dump``, ``pg_restore``…) against it.

        It runs as the current user (it may read and write ``tmp_path``) with ``PGHOST``/``PGPORT``/
        ``PGUSER`` set, so only the database and the program's own options are given, e.g.
        ``cluster.run("pg_restore", "-d", name, dump)``. Output is captured as text; with ``check``
        a failure raises :class:`ClusterError` with its stderr.
        """
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 300)
        out = subprocess.run(
            [str(self.bin_dir / program), *map(str, args)], env=self.client_env(), stdin=subprocess.DEVNULL, **kwargs
        )
        if check and out.returncode != 0:
            raise ClusterError(f"{program} {' '.join(map(str, args))} exited with {out.returncode}:\n{out.stderr}")
        return out

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """The unaligned, tuples-only output of ``sql`` run by ``psql`` in ``dbname`` (stops at the first error)."""
        return self.run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dbname, "-c", sql).stdout.strip()

    def execute(self, statements: Sequence[str], dbname: str = "postgres") -> None:
        """Run each statement in autocommit mode (``CREATE DATABASE`` cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    # ------------------------------------------------------------ databases

    def make_template(self, name: str = TEMPLATE) -> None:
        """Create the template database with PostGIS, then close it to connections (copies need that)."""
        self.execute([f'CREATE DATABASE "{name}"'])
        self.execute(["CREATE EXTENSION postgis"], dbname=name)
        self.execute([f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'])

    def create_database(self, name: str | None = None, template: str = TEMPLATE) -> str:
        """A new database copied from ``template``; returns its name (``test_N`` unless given)."""
        name = name or f"test_{next(self._names)}"
        self.execute([f'CREATE DATABASE "{name}" TEMPLATE "{template}"'])
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any connection a test left open (a pool not disposed)."""
        self.execute([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
