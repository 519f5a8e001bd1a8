"""The scale-out recipe of ``deploy/``, run for real on this machine: nginx over TLS in front of two replicas.

The files of the recipe are the ones tested, not copies: ``deploy/nginx/dashboard.conf`` is rendered into a
private folder with only its ports, certificate and log paths substituted (every substitution must match,
so a change of the recipe cannot leave the test checking something else), the replicas are started with
the command, environment and health check of ``deploy/systemd/dashboard@.service``, and the units pass
``systemd-analyze verify``. A self-signed certificate is made for 127.0.0.1; nginx runs in the foreground
with its own prefix, pid and logs on free ports of 127.0.0.1 (never 80 or 443). Two headless-Chromium
contexts, each with an affinity cookie known to reach a different replica, open the dashboard through
nginx; each map must draw, every request of one context (its websocket included) must reach one replica,
and the two contexts different ones.

Marked ``deploy``. Skipped, saying why, where nginx, Chromium or Playwright is missing; with ``CI=true``
those are failures instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from cigate import in_ci

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "dashboard.conf"
UNIT = DEPLOY / "systemd" / "dashboard@.service"
IMPORT_UNIT = DEPLOY / "systemd" / "dashboard-import.service"
ENV_EXAMPLE = DEPLOY / "dashboard.env.example"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
CHROMIUM = "/usr/bin/chromium"
VENV_PYTHON = "/opt/dashboard/venv/bin/python"
COOKIE = "dashboard_replica"
#: The perturbation secret both replicas share (the same on every replica, as the recipe requires).
SECRET = "deploy-test-secret-0123456789abcdef"

pytestmark = pytest.mark.deploy


def missing(reason: str):
    """Skip, saying why; with ``CI=true`` the deploy test must run, so fail instead."""
    if in_ci(os.environ):
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------- the recipe's files, checked without running


def unit_lines(path: Path, key: str) -> list[str]:
    """Every value of ``key=`` in a unit file (units may repeat a key)."""
    return [
        line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith(f"{key}=")
    ]  # fmt: skip


def test_units_pass_systemd_analyze_verify(tmp_path):
    """Both units, with the venv's Python replaced by this one (verify wants every command to exist)."""
    if not Path(SYSTEMD_ANALYZE).exists():
        missing(f"no {SYSTEMD_ANALYZE} (Debian package systemd)")
    for unit in (UNIT, IMPORT_UNIT):
        text = unit.read_text()
        assert VENV_PYTHON in text
        (tmp_path / unit.name).write_text(text.replace(VENV_PYTHON, sys.executable))
    for name in ("dashboard@8501.service", IMPORT_UNIT.name):  # a template is verified through an instance
        run = subprocess.run(
            [SYSTEMD_ANALYZE, "verify", "--man=no", str(tmp_path / name)], capture_output=True, text=True, timeout=60
        )  # fmt: skip
        # verify exits 0 on unknown keys and bad values too, and only warns: any word about the unit is a fault
        about_unit = [line for line in (run.stdout + run.stderr).splitlines() if "dashboard" in line]
        assert run.returncode == 0 and not about_unit, f"{name}: {run.stdout}{run.stderr}"

    # what the issue asks of them, beyond the syntax
    assert unit_lines(UNIT, "EnvironmentFile") == ["/etc/dashboard/dashboard.env"]
    assert "FORWARDED_ALLOW_IPS=127.0.0.1" in unit_lines(UNIT, "Environment")
    assert unit_lines(UNIT, "StandardOutput") == ["journal"] and unit_lines(UNIT, "Restart") == ["on-failure"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes")):
        assert unit_lines(UNIT, key) == [value]
    assert "/var/lib/dashboard" in unit_lines(UNIT, "ReadWritePaths")[0].split()
    (post,) = unit_lines(UNIT, "ExecStartPost")
    assert "http://127.0.0.1:%i/_stcore/health" in post and "--retry-max-time" in post  # bounded


def test_env_example_names_every_setting_the_replicas_share():
    keys = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)}
    assert {"DASHBOARD_DATABASE_URL", "DASHBOARD_PUBLIC", "DASHBOARD_PUBLIC_SECRET"} <= keys
    # the secret is never shipped: blank, so that public mode refuses to publish until it is set
    assert "DASHBOARD_PUBLIC_SECRET=\n" in ENV_EXAMPLE.read_text()


def env_example_values() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))


def test_the_trusted_proxies_are_named_alike_in_the_unit_and_the_env_file():
    """uvicorn's list and the dashboard's must be equal, or nobody is "this computer"; the env file wins."""
    unit = dict(line.split("=", 1) for line in unit_lines(UNIT, "Environment"))
    env = env_example_values()
    for values in (unit, env):
        assert values["FORWARDED_ALLOW_IPS"] == values["DASHBOARD_TRUSTED_PROXIES"] == "127.0.0.1"


def test_the_secrets_example_configures_sign_in_as_streamlit_needs_it():
    import tomllib

    secrets = tomllib.loads((DEPLOY / "secrets.toml.example").read_text())
    auth = secrets["auth"]
    assert auth["redirect_uri"].startswith("https://") and auth["redirect_uri"].endswith("/oauth2callback")
    assert auth["cookie_secret"]
    agency, relogin = auth[secrets["access"]["provider"]], auth[secrets["access"]["relogin_provider"]]
    # the relogin entry is the same client, told to ask for the password again
    assert {k: relogin[k] for k in agency} == agency and relogin["client_kwargs"] == {"prompt": "login"}
    assert secrets["access"].get("open_network") is None  # the opt-out is never in a server's example
    assert secrets["access"]["anonymous"] is False
    assert secrets["public"]["secret"] == ""  # never shipped

    # and the dashboard reads it so: sign-in configured, the Sign in button on the agency's entry, and with
    # the unit's environment and the env file's, no complaint about the proxies
    from geo.access import proxy_problem
    from geo.settings import Settings

    unit = dict(line.split("=", 1) for line in unit_lines(UNIT, "Environment"))
    for environ in (unit, {**unit, **env_example_values()}):
        settings = Settings.load(environ, secrets_file=DEPLOY / "secrets.toml.example")
        assert settings.sign_in and settings.login_provider == "agency" and settings.relogin_provider == "relogin"
        assert proxy_problem(environ, settings) == ""
        assert settings.idle_minutes == 30 and settings.audit_retention_days is None
        assert settings.role_map == {
            "cp-commanders": "commander",
            "cp-analysts": "analyst",
            "cp-secretaries": "secretary",
        }
    # a control: an env file naming another proxy for uvicorn only is a problem
    assert proxy_problem({**unit, "FORWARDED_ALLOW_IPS": "10.0.0.5"}, settings)


# ---------------------------------------------------------------- running it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text: str, old: str, new: str, count: int = 1) -> str:
    """``text`` with ``old`` replaced, which must occur exactly ``count`` times (the recipe's file changed if not)."""
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {NGINX_CONF.name}, not {count}"
    return text.replace(old, new)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, as the recipe's fullchain.pem and privkey.pem."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private.chmod(0o600)
    return chain, private


def render_nginx(prefix: Path, https: int, http: int, replicas: list[int], certs: Path) -> Path:
    """The recipe's nginx config with this test's ports, certificate and logs, inside a minimal nginx.conf."""
    text = NGINX_CONF.read_text()
    text = substitute(text, "    listen 80;\n", f"    listen 127.0.0.1:{http};\n")
    text = substitute(text, "    listen [::]:80;\n", "")
    text = substitute(text, "    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https} ssl http2;\n")
    text = substitute(text, "    listen [::]:443 ssl http2;\n", "")
    for port, recipe_port in zip(replicas, (8501, 8502), strict=True):
        text = substitute(text, f"server 127.0.0.1:{recipe_port} ", f"server 127.0.0.1:{port} ")
    text = substitute(text, "/etc/ssl/dashboard/", f"{certs}/", count=2)
    text = substitute(text, "/var/log/nginx/", f"{prefix}/logs/", count=3)
    (prefix / "logs").mkdir(parents=True)
    (prefix / "temp").mkdir()
    (prefix / "dashboard.conf").write_text(text)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {prefix}/temp/{kind};" for kind in kinds)
    main = f"""# written by tests/test_deploy.py
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
{temp}
    include {prefix}/dashboard.conf;
}}
"""  # workers run as root only when the test does: this folder is root's alone (mode 0700)
    (prefix / "nginx.conf").write_text(main)
    return prefix / "nginx.conf"


def recipe_env(**values: str) -> dict[str, str]:
    """The replicas' environment as the recipe gives it: the env file's keys (with this test's values) and the
    unit's ``Environment=`` lines, over this process's environment."""
    env = dict(os.environ)
    keys = [line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)]
    for key in keys:
        env.pop(key, None)
    for line in unit_lines(UNIT, "Environment"):
        key, value = line.split("=", 1)
        env[key] = value
    env.update(values)
    return env


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it started (TERM, then KILL)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@dataclass
class Deployment:
    url: str
    http_url: str
    cafile: Path
    access_log: Path
    replicas: dict[str, Path] = field(default_factory=dict)  # "127.0.0.1:port" -> its log
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)  # "127.0.0.1:port" -> its process
    #: the files of the test's data, and the command line's environment (set by the ``site`` fixture)
    files: dict[str, Path] = field(default_factory=dict)
    cli_env: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, cookie: str | None = None) -> tuple[int, Message, bytes]:
        """A request through nginx over TLS, the certificate checked against the test's own: status, headers
        (case-insensitive; ``get_all`` for repeated ones) and body."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        request = urllib.request.Request(self.url + path, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
        with urllib.request.urlopen(request, timeout=10, context=context) as r:
            return r.status, r.headers, r.read()

    def logged(self, affinity: str) -> list[tuple[str, str, str]]:
        """(request, status, upstream) of every request nginx logged with this affinity key."""
        pattern = re.compile(r'"([^"]*)" (\d+) \d+ upstream=(\S+) affinity=(\S+)')
        return [
            (m[1], m[2], m[3])
            for m in map(pattern.search, self.access_log.read_text().splitlines())
            if m and m[4] == affinity
        ]


def start_replica(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """One replica with the unit's own ExecStart (``%i`` = the port, the venv's Python = this one)."""
    (command,) = unit_lines(UNIT, "ExecStart")
    argv = [sys.executable if a == VENV_PYTHON else a.replace("%i", str(port)) for a in shlex.split(command)]
    assert argv[1:5] == ["-m", "streamlit", "run", "dashboard.py"] and str(port) in argv
    with open(log, "w") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def health_check(port: int, proc: subprocess.Popen, log: Path) -> None:
    """The unit's ExecStartPost (bounded curl on the health endpoint), run for real."""
    (command,) = unit_lines(UNIT, "ExecStartPost")
    argv = [a.replace("%i", str(port)) for a in shlex.split(command)]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        pytest.fail(f"replica {port} not healthy ({run.stderr.strip()}, running={proc.poll() is None}): "
                    f"{log.read_text()[-2000:]}")  # fmt: skip


def wait_until(condition, seconds: float, message) -> None:
    """Poll ``condition`` until it holds; fail with ``message`` (a text, or a function giving one) after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message() if callable(message) else message)
        time.sleep(0.05)  # the polling interval of a wait on a condition, not a wait on the clock


@contextlib.contextmanager
def deployment(folder: Path, data_dir: Path, **env: str):
    """Two replicas and nginx in front, all stopped on the way out (also on failure)."""
    if not Path(NGINX).exists():
        missing("nginx is not installed (apt-get install nginx)")
    if not Path("/usr/bin/curl").exists():
        missing("curl is not installed (the unit's health check uses it)")
    folder.mkdir(parents=True, exist_ok=True)
    certs = folder / "ssl"
    cafile, _ = self_signed(certs)
    ports = [free_port(), free_port()]
    environment = recipe_env(
        DASHBOARD_PUBLIC="1",
        DASHBOARD_PUBLIC_SECRET=SECRET,
        DASHBOARD_DATA_DIR=str(data_dir),
        DASHBOARD_CACHE_DIR="off",
        DASHBOARD_TILES_URL="",
        XDG_CACHE_HOME=str(folder / "cache"),
        **env,
    )
    procs: list[subprocess.Popen] = []
    try:
        replicas, processes = {}, {}
        for port in ports:
            log = folder / f"replica-{port}.log"
            procs.append(start_replica(port, environment, log))
            replicas[f"127.0.0.1:{port}"], processes[f"127.0.0.1:{port}"] = log, procs[-1]
        for port, proc in zip(ports, procs, strict=True):
            health_check(port, proc, replicas[f"127.0.0.1:{port}"])
        # nginx only once both are healthy: a refused connection would count against a replica (max_fails)
        https, http = free_port(), free_port()
        prefix = folder / "nginx"
        conf = render_nginx(prefix, https, http, ports, certs)
        args = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, text=True
        )  # fmt: skip
        procs.append(nginx)
        site = Deployment(f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", cafile,
                          prefix / "logs" / "dashboard.access.log", replicas, processes)  # fmt: skip

        def answers() -> bool:
            if nginx.poll() is not None:
                pytest.fail(f"nginx exited: {nginx.stderr.read()}{(prefix / 'logs' / 'error.log').read_text()}")
            try:
                return site.get("/_stcore/health")[0] == 200
            except OSError:
                return False

        wait_until(answers, 30, "nginx did not answer over TLS")
        yield site
    finally:
        for proc in reversed(procs):
            stop(proc)


def squares(eighth: bool = False) -> dict:
    """Seven 0.02° squares: five in Prishtinë, two in Ferizaj; ``eighth``: and one more in Prishtinë."""
    specs = [("S1", "Qendra", "Prishtinë", 21.10, 42.62), ("S2", "Ulpiana", "Prishtinë", 21.12, 42.62),
             ("S3", "Arbëria", "Prishtinë", 21.10, 42.64), ("S4", "Kodra e Diellit", "Prishtinë", 21.12, 42.64),
             ("S5", "Dardania", "Prishtinë", 21.14, 42.62), ("S6", "Ferizaj Jug", "Ferizaj", 21.15, 42.36),
             ("S7", "Nerodime", "Ferizaj", 21.17, 42.36)]  # fmt: skip
    if eighth:
        specs.append(("S8", "Mati", "Prishtinë", 21.16, 42.62))
    feats = []
    for sid, name, muni, x, y in specs:
        ring = [[x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"section_id": sid, "section_name": name, "municipality": muni,
                                     "population": 5000}})  # fmt: skip
    return {"type": "FeatureCollection", "features": feats}


def write_files(folder: Path) -> dict[str, Path]:
    """The files imported into the database: the seven squares and February 2024's thefts; and
    ``sections8``, the same squares and an eighth, the changed data imported while the replicas run."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"sections": folder / "sections.geojson", "incidents": folder / "incidents.csv",
             "sections8": folder / "sections8.geojson"}  # fmt: skip
    files["sections"].write_text(json.dumps(squares(), ensure_ascii=False), encoding="utf-8")
    files["sections8"].write_text(json.dumps(squares(eighth=True), ensure_ascii=False), encoding="utf-8")
    rows = ["occurred_at,category,lat,lon"]
    rows += [f"2024-02-{d:02d} 10:00,theft,42.63,21.11" for d in range(1, 20)]
    rows += [f"2024-02-{d:02d} 11:00,theft,42.63,21.15" for d in range(1, 9)]
    rows += ["2024-03-01 10:00,theft,42.63,21.11"]
    files["incidents"].write_text("\n".join(rows) + "\n", encoding="utf-8")
    return files


def geo_db(env: dict[str, str], *args: str | Path) -> str:
    """``python -m geo db ...`` with the replicas' environment (as deploy/README.md runs it); its output."""
    run = subprocess.run([sys.executable, "-m", "geo", "db", *map(str, args)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, f"python -m geo db {' '.join(map(str, args))}: {run.stdout}{run.stderr}"
    return run.stdout


@pytest.fixture(scope="module")
def site(pg_cluster, tmp_path_factory):
    """The recipe on a PostgreSQL database of its own (from the session's temporary cluster), its schema
    made and the seven squares imported through the command line before the replicas start; the data folder
    is empty, so that the replicas can show nothing but the database."""
    root = tmp_path_factory.mktemp("deploy")
    name = pg_cluster.create_database()
    try:
        files = write_files(root / "files")
        (root / "own").mkdir()
        env = recipe_env(DASHBOARD_DATABASE_URL=pg_cluster.url(name), DASHBOARD_DATA_DIR=str(root / "own"),
                         DASHBOARD_PUBLIC="1", DASHBOARD_PUBLIC_SECRET=SECRET, DASHBOARD_CACHE_DIR="off")  # fmt: skip
        geo_db(env, "upgrade")
        geo_db(env, "import", "--sections", files["sections"], "--incidents", files["incidents"])
        with deployment(root / "run", root / "own", DASHBOARD_DATABASE_URL=pg_cluster.url(name)) as running:
            running.files, running.cli_env = files, env
            yield running
    finally:
        pg_cluster.drop_database(name)  # after the replicas stopped


def test_http_redirects_to_https(site):
    request = urllib.request.Request(site.http_url + "/data?lang=en")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as moved:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == "https://127.0.0.1/data?lang=en"


def affinity_cookies(headers: Message) -> list[str]:
    return [c for c in headers.get_all("Set-Cookie") or [] if c.startswith(f"{COOKIE}=")]


def test_nginx_sets_the_affinity_cookie_once_and_routes_by_it(site):
    status, headers, body = site.get("/_stcore/health")
    assert status == 200 and body == b"ok"
    (ours,) = affinity_cookies(headers)  # Streamlit sets its own (XSRF) cookie beside it
    value, *attributes = [part.strip() for part in ours.split(";")]
    key = value.removeprefix(f"{COOKIE}=")
    assert re.fullmatch(r"[0-9a-f]{32}", key), ours
    assert set(attributes) == {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"}
    first = headers["X-Dashboard-Replica"]
    assert first in site.replicas
    for _ in range(5):  # with the cookie: the same replica every time, and no new cookie
        _, again, _ = site.get("/_stcore/health", cookie=key)
        assert again["X-Dashboard-Replica"] == first and affinity_cookies(again) == []
    assert {upstream for _, _, upstream in site.logged(key)} == {first}


def keys_for_each_replica(site) -> dict[str, str]:
    """An affinity key that reaches each replica, found by asking nginx."""
    found: dict[str, str] = {}
    for i in range(64):
        key = f"deploy-test-{i}"
        replica = site.get("/_stcore/health", cookie=key)[1]["X-Dashboard-Replica"]
        assert replica in site.replicas, replica  # one replica, never a failover list
        found.setdefault(replica, key)
        if len(found) == len(site.replicas):
            return found
    pytest.fail(f"64 affinity keys all reached {list(found)}")


#: Leaflet layers that carry a GeoJSON feature and are on a map: the drawn section shapes (as in test_browser).
COUNT_JS = """() => { if (!window.L) return -1; const maps = new Set(); let n = 0;
  for (const k of Object.keys(window)) { let v; try { v = window[k]; } catch (e) { continue; }
    if (v instanceof window.L.Map) maps.add(v); }
  maps.forEach(m => m.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.tip
                                          && l._map) n++; }));
  return n; }"""


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    if not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


def session(browser, site, key: str):
    """A browser context with its affinity cookie set, that reaches only this machine; returns (context, page)."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": key, "url": site.url, "secure": True, "httpOnly": True}])
    context.blocked = []

    def route(r):
        if r.request.url.startswith((site.url, "data:", "blob:", "about:")):
            return r.continue_()
        context.blocked.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.failed = []
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))
    return context, page


def map_drawn(page, n_sections: int) -> None:
    """Wait until the Overview's map has drawn every section (in the streamlit-folium iframe)."""
    frame = page.wait_for_selector("iframe[title*='st_folium']", timeout=60_000).content_frame()
    frame.wait_for_function(f"() => ({COUNT_JS})() === {n_sections}", timeout=60_000)


def test_two_sessions_on_two_replicas_draw_the_map_and_see_an_import_without_restart(site, chromium):
    keys = keys_for_each_replica(site)  # replica -> key
    pids = {replica: proc.pid for replica, proc in site.processes.items()}
    sessions = {replica: session(chromium, site, key) for replica, key in keys.items()}
    try:
        # step 1: both sessions open at once, one on each replica, each draws the database's seven sections
        for _, page in sessions.values():
            page.goto(f"{site.url}/?lang=en", wait_until="domcontentloaded")
        for replica, (_, page) in sessions.items():
            map_drawn(page, 7)
            page.get_by_text("PUBLIC", exact=True).first.wait_for(timeout=10_000)
            # the session's own requests, from inside the page, reach its replica
            asked = page.evaluate("() => fetch('/_stcore/health').then(r => r.headers.get('x-dashboard-replica'))")
            assert asked == replica

        # step 2: new sections imported through the command line while both replicas run; each session's next
        # rerun (a page change in the same session, no reload) draws them, and neither replica restarted
        geo_db(site.cli_env, "import", "--sections", site.files["sections8"], "--replace", "sections")
        for _, page in sessions.values():
            page.locator("[data-testid='stSidebarNav']").get_by_text("Hotspots").click()
            page.wait_for_url("**/hotspots**", timeout=30_000)
        for _, page in sessions.values():
            map_drawn(page, 8)
        assert {replica: proc.pid for replica, proc in site.processes.items() if proc.poll() is None} == pids
        for context, page in sessions.values():
            assert context.blocked == [] and page.failed == [], (context.blocked, page.failed)
    finally:
        for context, _ in sessions.values():
            context.close()

    # nginx logs a websocket when it closes: wait for both, then every request of a session went to its replica
    wait_until(
        lambda: all(any("/_stcore/stream" in r and s == "101" for r, s, _ in site.logged(k)) for k in keys.values()),
        30,
        lambda: f"a session's websocket was not logged: {site.access_log.read_text()[-3000:]}",
    )
    for replica, key in keys.items():
        requests = site.logged(key)
        assert {upstream for _, _, upstream in requests} == {replica}, requests
        assert any(r.startswith("GET /?lang=en ") for r, _, _ in requests)
        assert any(r.startswith("GET /app/static/vendor/leaflet/leaflet.js") for r, _, _ in requests)
