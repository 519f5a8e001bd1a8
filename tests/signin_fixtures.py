"""Real dashboard servers for the sign-in tests: one per configuration, a trusted nginx in front, a browser.

* :func:`data_template`: the leak-check fixture's files (``tests/leakcheck.py``) as a deployment's own data,
  imported into an embedded database, with the test users' roles granted through the command line
  (``python -m geo users grant EMAIL ROLE``); every server gets a copy of the folder, so each has its own
  database and what one test changes (a role revoked) is seen by that server only.
* :func:`dashboard`: ``streamlit run dashboard.py`` on a free port of 127.0.0.1 with an environment of its
  own and, for sign-in, a secrets file of its own (Streamlit's ``--secrets.files``). Its URL uses the name
  ``localhost``: the sign-in's redirect URI must, and the browser must come back where it started.
* :func:`proxy`: nginx on a free port of 127.0.0.1 in front of one server, forwarding the client's address
  the way ``deploy/nginx/dashboard.conf`` does (its own ``proxy_set_header`` lines, taken from the file). The
  servers trust 127.0.0.1 (``FORWARDED_ALLOW_IPS``), so a browser that sends ``X-Forwarded-For`` through it
  is "another computer" to the app, as a visitor on the network behind the proxy would be.

Everything started here is stopped on the way out, also on failure. Waits are on conditions (the health
endpoint, a process exiting), never on the clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_deploy import NGINX, NGINX_CONF, free_port, stop, wait_until

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: The perturbation secret of the servers that have one (the suite's: tests/conftest.py).
SECRET = "test-secret-for-the-suite-only-0123456789"
#: The cookie secret of every sign-in server (Streamlit signs its identity cookie with it).
COOKIE_SECRET = "sign-in-test-cookie-secret-0123456789abcdef"


# ---------------------------------------------------------------- the command line


def geo_command(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m geo ARGS`` as its own process with ``env`` (as an operator runs it on the server)."""
    run = subprocess.run([sys.executable, "-m", "geo", *map(str, args)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    if check:
        assert run.returncode == 0, f"python -m geo {' '.join(map(str, args))}: {run.stdout}{run.stderr}"
    return run


def geo_commands(env: dict[str, str], commands: Sequence[Sequence[str]]) -> str:
    """Several ``python -m geo`` commands run by one Python process (``geo/__main__.py`` run once per
    argument list, as ``python -m geo`` runs it), which saves a start of Python per command; each must
    succeed. Their output."""
    script = (
        "import json, runpy, sys\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    sys.argv = ['geo', *argv]\n"
        "    try:\n"
        "        runpy.run_module('geo', run_name='__main__', alter_sys=True)\n"
        "    except SystemExit as exc:\n"
        "        if exc.code:\n"
        "            sys.exit(f'python -m geo {\" \".join(argv)} exited with {exc.code}')\n"
    )
    run = subprocess.run([sys.executable, "-c", script, json.dumps([list(c) for c in commands])], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, f"{run.stdout}{run.stderr}"
    return run.stdout


def base_env(data_dir: Path, folder: Path, **values: str) -> dict[str, str]:
    """The environment of a server (and of its command line): this one without any dashboard setting of the
    developer's, with the data folder, no background map, a cache of its own, the suite's public secret and
    127.0.0.1 as the trusted proxy, then ``values`` (a value of ``""`` leaves a setting unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_") and k != "FORWARDED_ALLOW_IPS"}
    env.update(DASHBOARD_DATA_DIR=str(data_dir), DASHBOARD_TILES_URL="", DASHBOARD_PUBLIC_SECRET=SECRET,
               XDG_CACHE_HOME=str(folder / "cache"), FORWARDED_ALLOW_IPS="127.0.0.1")  # fmt: skip
    env.update(values)
    return {k: v for k, v in env.items() if v != ""}


# ---------------------------------------------------------------- the data


def data_template(folder: Path, grants: Sequence[tuple[str, str]]):
    """The leak-check fixture's files in ``folder`` (a deployment's data folder), imported into its embedded
    database, and ``grants`` (``(email, role)``) given through ``python -m geo users grant``. Returns the
    :class:`leakcheck.Fixture` (the secret points, the files)."""
    from leakcheck import write_fixture

    from geo import deployment
    from geo.settings import Settings

    fx = write_fixture(folder)
    assert deployment.import_own_command(Settings.load({"DASHBOARD_DATA_DIR": str(folder)}, secrets_file=None)) == 0
    if grants:
        env = base_env(folder, folder.parent)
        geo_commands(env, [["users", "grant", email, role] for email, role in grants])
    return fx


# ---------------------------------------------------------------- a server


@dataclass
class Dashboard:
    name: str
    #: ``http://localhost:PORT``: the origin of the sign-in's redirect URI
    url: str
    port: int
    #: the server's environment; the command line run with it acts on the server's database
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    #: the nginx in front of it, if one was started (``http://127.0.0.1:PORT``)
    proxy_url: str = ""
    healthy: bool = False

    def ready(self) -> Dashboard:
        """Wait until the server answers on its health endpoint (fails if it exits first); itself."""
        if not self.healthy:
            wait_until(lambda: answers(self.url, self.proc, self.log), 90,
                       lambda: f"{self.name}: not healthy in 90 s: {self.tail()}")  # fmt: skip
            self.healthy = True
        return self

    def users(self, *args: str) -> str:
        """``python -m geo users ARGS`` on this server's database (its own process); its output."""
        return geo_command(self.env, "users", *args).stdout

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


def answers(url: str, proc: subprocess.Popen, log: Path) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"streamlit exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def dashboard(name: str, folder: Path, template: Path, *, env: dict[str, str] | None = None,
              secrets: str | None = None, wait: bool = True) -> Iterator[Dashboard]:  # fmt: skip
    """The dashboard on a free port, on a copy of the ``template`` data folder; ``env``: its settings;
    ``secrets``: the text of its secrets file (``{port}`` and ``{url}`` replaced by its own). ``wait``
    False: yields as soon as it is started (:meth:`Dashboard.ready` waits), so that several start at once."""
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = folder / "own"
    shutil.copytree(template, data_dir)
    port = free_port()
    url = f"http://localhost:{port}"
    environment = base_env(data_dir, folder, **(env or {}))
    argv = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true", "--server.port",
            str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
    if secrets is not None:
        path = folder / "secrets.toml"
        path.write_text(secrets.replace("{url}", url).replace("{port}", str(port)), encoding="utf-8")
        argv += ["--secrets.files", str(path)]
    log = folder / "streamlit.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        site = Dashboard(name, url, port, environment, log, proc)
        yield site.ready() if wait else site
    finally:
        stop(proc)


# ---------------------------------------------------------------- a trusted proxy in front


def recipe_proxy_headers() -> list[str]:
    """The ``proxy_set_header`` and ``proxy_http_version`` lines of the deploy recipe's nginx file."""
    lines = [line.strip() for line in NGINX_CONF.read_text().splitlines()]
    found = [line for line in lines if line.startswith(("proxy_set_header ", "proxy_http_version "))]
    assert any("X-Forwarded-For $proxy_add_x_forwarded_for" in line for line in found), found
    return found


@contextlib.contextmanager
def proxy(folder: Path, upstream: int) -> Iterator[str]:
    """nginx on a free port of 127.0.0.1 in front of the server on ``upstream``, plain HTTP, with the
    recipe's forwarding headers; yields its URL (``http://127.0.0.1:PORT``)."""
    if not Path(NGINX).exists():
        from cigate import in_ci

        if in_ci(os.environ):
            pytest.fail(f"CI=true but nginx is not installed ({NGINX})")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    prefix = folder / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    (prefix / "temp").mkdir(exist_ok=True)
    port = free_port()
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {prefix}/temp/{kind};" for kind in kinds)
    headers = "\n".join(f"        {line}" for line in recipe_proxy_headers())
    conf = prefix / "nginx.conf"
    conf.write_text(f"""# written by tests/signin_fixtures.py
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/logs/access.log;
{temp}
    map $http_upgrade $dashboard_connection {{
        default upgrade;
        ""      "";
    }}
    server {{
        listen 127.0.0.1:{port};
{headers}
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_read_timeout 1d;
        }}
    }}
}}
""")
    args = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            if nginx.poll() is not None:
                pytest.fail(f"nginx exited: {nginx.stderr.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(answers, 30, "nginx did not answer")
        yield url
    finally:
        stop(nginx)


# ---------------------------------------------------------------- the browser


def new_page(browser, provider_url: str = "", **context_options):
    """A page in a context of its own (its own cookies: one visitor) that reaches only this machine;
    ``page.blocked`` lists what the dashboard's pages tried to fetch elsewhere (the provider's own pages,
    at ``provider_url``, load a style sheet from a CDN: blocked, not listed)."""
    from urllib.parse import urlparse

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, **context_options)
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if (urlparse(url).hostname or "") in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:")):
            return r.continue_()
        if not (provider_url and r.request.frame.url.startswith(provider_url)):
            blocked.append(url)
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.blocked = blocked
    return page
