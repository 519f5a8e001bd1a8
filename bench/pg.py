"""A temporary PostgreSQL 15 + PostGIS 3 cluster for the benchmark (the approach of the tests' fixture,
kept apart so the benchmark imports nothing from ``tests/``).

Debian's binaries (``/usr/lib/postgresql/15/bin``), never Debian's own cluster: ``initdb`` into a folder
made with :func:`tempfile.mkdtemp`, a free port of 127.0.0.1 and a socket folder of its own, ``trust``
for those local connections only. ``initdb`` and ``pg_ctl`` refuse root, so under root the server runs as
the ``postgres`` OS user, which owns the folder. Unlike the tests' cluster this one keeps PostgreSQL's
durable defaults (``fsync``, ``synchronous_commit``, ``full_page_writes`` on): the import is timed as a
deployment would run it. :meth:`Cluster.stop` stops it and removes the folder.

    with Cluster.start() as pg:
        url = pg.create_database("bench_1")   # with PostGIS
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BINDIR = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"
SERVER_USER = "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @classmethod
    def start(cls, max_connections: int = 100) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        (root / "socket").mkdir()
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVER_USER)
            for path in (root, root / "socket"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        cluster = cls(root, free_port())
        try:
            cluster._server(
                "initdb", "-D", str(cluster.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"
            )
            (cluster.datadir / "pg_hba.conf").write_text(f"local all all trust\nhost all all {HOST}/32 trust\n")
            with (cluster.datadir / "postgresql.conf").open("a") as f:
                f.write(
                    f"\nlisten_addresses = '{HOST}'\nport = {cluster.port}\n"
                    f"unix_socket_directories = '{root / 'socket'}'\nmax_connections = {max_connections}\n"
                )
            cluster._server(
                "pg_ctl", "-D", str(cluster.datadir), "-s", "-l", str(root / "server.log"), "-w", "-t", "60", "start"
            )
            atexit.register(cluster.stop)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _server(self, program: str, *args: str) -> None:
        kwargs: dict = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVER_USER)
            kwargs = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        out = subprocess.run(
            [str(BINDIR / program), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            **kwargs,
        )
        if out.returncode:
            raise RuntimeError(f"{program} failed:\n{out.stdout}{out.stderr}")

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                self._server("pg_ctl", "-D", str(self.datadir), "-s", "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{dbname}"

    def execute(self, *statements: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host={HOST} port={self.port} user=postgres dbname={dbname}", autocommit=True) as c:
            for s in statements:
                c.execute(s)

    def create_database(self, name: str) -> str:
        """A new database with PostGIS; its SQLAlchemy URL."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        self.execute("CREATE EXTENSION postgis", dbname=name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
