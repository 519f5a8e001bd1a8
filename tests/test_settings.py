"""The deployment's settings (geo/settings.py): each from its environment variable, else the secrets file, else
its default; wrong values named; the secret never shown; the dashboard and the command line read the same."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dashboard_fixtures import TEST_SECRET, ok, texts
from streamlit.testing.v1 import AppTest

from geo import filecache, uploads
from geo import settings as config
from geo.public import PublicPolicy
from geo.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")

#: A valid value of each setting (as an environment variable's text) and the same in the secrets file.
SAMPLES = {
    "DASHBOARD_PUBLIC": ("1", "true"),
    "DASHBOARD_PUBLIC_SECRET": ("from-the-environment-0123456789", "'from-the-file-0123456789'"),
    "DASHBOARD_PUBLIC_MIN_COUNT": ("7", "7"),
    "DASHBOARD_PUBLIC_SENSITIVE": ("domestic_violence,drugs", "['domestic_violence', 'drugs']"),
    "DASHBOARD_PUBLIC_PTABLE": ("/srv/ptable.csv", "'/srv/ptable.csv'"),
    "DASHBOARD_MIN_POPULATION": ("1200", "1200"),
    "DASHBOARD_PRESENTATION": ("yes", "true"),
    "DASHBOARD_REFRESH_SECONDS": ("2.5", "2.5"),
    "DASHBOARD_TILES_URL": ("https://tiles.example.org/{z}/{x}/{y}.png", "'https://tiles.example.org/{z}/{x}/{y}.png'"),
    "DASHBOARD_TILES_ATTRIBUTION": ("© Example", "'© Example'"),
    "DASHBOARD_DATA_DIR": ("/srv/own", "'/srv/own'"),
    "DASHBOARD_CACHE_DIR": ("/srv/cache", "'/srv/cache'"),
    "DASHBOARD_DATABASE_URL": ("postgresql+psycopg://u:pw@db/dash", "'postgresql+psycopg://u:pw@db/dash'"),
    "DASHBOARD_DATABASE_POOL_SIZE": ("12", "12"),
    "DASHBOARD_UPLOADS_IDLE_HOURS": ("0.5", "0.5"),
    "DASHBOARD_UPLOADS_MAX_MB": ("300", "300"),
    "DASHBOARD_OPEN_NETWORK": ("yes", "true"),
    "DASHBOARD_ANONYMOUS": ("on", "true"),
    "DASHBOARD_UNKNOWN_USERS": ("none", "'none'"),
    "DASHBOARD_ROLE_CLAIM": ("groups", "'groups'"),
    "DASHBOARD_ROLE_MAP": ("cp-commanders=commander,cp-all=viewer", "'cp-commanders=commander,cp-all=viewer'"),
    "DASHBOARD_IDLE_MINUTES": ("15", "15"),
    "DASHBOARD_TRUSTED_PROXIES": ("10.0.0.5", "'10.0.0.5'"),
    "DASHBOARD_LOGIN_PROVIDER": ("agency", "'agency'"),
    "DASHBOARD_RELOGIN_PROVIDER": ("again", "'again'"),
    "DASHBOARD_AUDIT_RETENTION_DAYS": ("365", "365"),
}
#: What each sample gives, read through the property its users read.
VALUES = {
    "DASHBOARD_PUBLIC": lambda s: s.public is True,
    "DASHBOARD_PUBLIC_SECRET": lambda s: s.public_secret.endswith("-0123456789"),
    "DASHBOARD_PUBLIC_MIN_COUNT": lambda s: s.public_min_count == 7,
    "DASHBOARD_PUBLIC_SENSITIVE": lambda s: s.public_sensitive == ("domestic_violence", "drugs"),
    "DASHBOARD_PUBLIC_PTABLE": lambda s: s.public_ptable == "/srv/ptable.csv",
    "DASHBOARD_MIN_POPULATION": lambda s: s.min_population == 1200,
    "DASHBOARD_PRESENTATION": lambda s: s.presentation is True,
    "DASHBOARD_REFRESH_SECONDS": lambda s: s.refresh_seconds == 2.5,
    "DASHBOARD_TILES_URL": lambda s: s.tiles_url == "https://tiles.example.org/{z}/{x}/{y}.png",
    "DASHBOARD_TILES_ATTRIBUTION": lambda s: s.tiles_attribution == "© Example",
    "DASHBOARD_DATA_DIR": lambda s: s.data_dir == Path("/srv/own"),
    "DASHBOARD_CACHE_DIR": lambda s: s.cache_dir == Path("/srv/cache"),
    "DASHBOARD_DATABASE_URL": lambda s: s.database_url == "postgresql+psycopg://u:pw@db/dash",
    "DASHBOARD_DATABASE_POOL_SIZE": lambda s: s.database_pool_size == 12,
    "DASHBOARD_UPLOADS_IDLE_HOURS": lambda s: s.uploads_idle_hours == 0.5,
    "DASHBOARD_UPLOADS_MAX_MB": lambda s: s.uploads_max_mb == 300.0,
    "DASHBOARD_OPEN_NETWORK": lambda s: s.open_network is True,
    "DASHBOARD_ANONYMOUS": lambda s: s.anonymous is True,
    "DASHBOARD_UNKNOWN_USERS": lambda s: s.unknown_users == "none",
    "DASHBOARD_ROLE_CLAIM": lambda s: s.role_claim == "groups",
    "DASHBOARD_ROLE_MAP": lambda s: s.role_map == {"cp-commanders": "commander", "cp-all": "viewer"},
    "DASHBOARD_IDLE_MINUTES": lambda s: s.idle_minutes == 15.0,
    "DASHBOARD_TRUSTED_PROXIES": lambda s: s.trusted_proxies == "10.0.0.5",
    # the provider is checked against [auth] where it is used (sign-in)
    "DASHBOARD_LOGIN_PROVIDER": lambda s: s.get("DASHBOARD_LOGIN_PROVIDER") == "agency",
    "DASHBOARD_RELOGIN_PROVIDER": lambda s: s.relogin_provider == "again",
    "DASHBOARD_AUDIT_RETENTION_DAYS": lambda s: s.audit_retention_days == 365.0,
}
#: The attribution belongs to the URL: it is read only with one.
NEEDS = {"DASHBOARD_TILES_ATTRIBUTION": "DASHBOARD_TILES_URL"}


def secrets_file(tmp_path: Path, names) -> Path:
    """A secrets file setting ``names`` to their samples."""
    tables: dict[str, list[str]] = {}
    for name in names:
        s = config.BY_ENV[name]
        tables.setdefault(s.section, []).append(f"{s.key} = {SAMPLES[name][1]}")
    path = tmp_path / "secrets.toml"
    path.write_text("".join(f"[{t}]\n" + "\n".join(lines) + "\n" for t, lines in tables.items()), encoding="utf-8")
    return path


def test_every_setting_has_a_sample():
    assert set(SAMPLES) == set(VALUES) == {s.env for s in SETTINGS}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_setting_from_the_environment(name):
    environ = {name: f"  {SAMPLES[name][0]} "}
    if name in NEEDS:
        environ[NEEDS[name]] = SAMPLES[NEEDS[name]][0]
    s = Settings.load(environ, secrets_file=None)
    assert VALUES[name](s) and s.origin[name] == "environment"
    assert not VALUES[name](Settings.load({}, secrets_file=None))  # not the default


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_setting_from_the_secrets_file(tmp_path, name):
    s = Settings.load({}, secrets_file=secrets_file(tmp_path, {name, *([NEEDS[name]] if name in NEEDS else [])}))
    assert VALUES[name](s) and s.origin[name] == "secrets"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_setting_from_streamlits_secrets(name):
    """What the dashboard passes in from ``st.secrets`` (other secrets files, ``AppTest.secrets``)."""
    wanted = {name, *([NEEDS[name]] if name in NEEDS else [])}
    tables: dict = {}
    for n in wanted:
        s = config.BY_ENV[n]
        tables.setdefault(s.section, {})[s.key] = __import__("tomllib").loads(f"v = {SAMPLES[n][1]}")["v"]
    assert VALUES[name](Settings.load({}, secrets_file=None, secrets=tables))


def test_the_environment_wins_over_the_file_and_the_file_over_streamlits_secrets(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(
        "[public]\nmin_count = 10\nsensitive = ['drugs']\n[rates]\nmin_population = 900\n", encoding="utf-8"
    )
    s = Settings.load(
        {"DASHBOARD_PUBLIC_MIN_COUNT": "3", "DASHBOARD_MIN_POPULATION": " "},  # blank: as if not set
        secrets_file=path,
        secrets={"public": {"min_count": 20, "sensitive": ["theft"], "enabled": True}, "rates": {"min_population": 1}},
    )
    assert s.public_min_count == 3 and s.origin["DASHBOARD_PUBLIC_MIN_COUNT"] == "environment"
    assert s.public_sensitive == ("drugs",) and s.min_population == 900
    assert s.public  # only Streamlit's secrets set it
    # setting by setting: an empty value in the file does not hide Streamlit's
    path.write_text("[public]\nmin_count = ''\n", encoding="utf-8")
    assert Settings.load({}, secrets_file=path, secrets={"public": {"min_count": 20}}).public_min_count == 20


def test_the_tiles_attribution_comes_from_where_the_url_is_set(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text("[tiles]\nurl = 'https://file.example/{z}/{x}/{y}.png'\nattribution = 'File'\n", encoding="utf-8")
    s = Settings.load({"DASHBOARD_TILES_URL": "https://env.example/{z}/{x}/{y}.png"}, secrets_file=path)
    assert s.tiles_url.startswith("https://env.") and s.tiles_attribution == ""
    s = Settings.load({"DASHBOARD_TILES_ATTRIBUTION": "Env"}, secrets_file=path)
    assert s.tiles_url.startswith("https://file.") and s.tiles_attribution == "File"
    assert Settings.load({"DASHBOARD_TILES_ATTRIBUTION": "Env"}, secrets_file=None).tiles_attribution == ""


def test_the_defaults(tmp_path):
    s = Settings.load({}, secrets_file=tmp_path / "none.toml")
    assert s.values == {} and not s.public and not s.presentation
    assert s.public_min_count is None and s.public_sensitive is None and s.public_secret == s.public_ptable == ""
    assert s.min_population == 500 and s.tiles_url == s.tiles_attribution == ""
    assert s.data_dir == ROOT / "data" / "own"
    assert s.cache_dir == Path.home() / ".cache" / "community-policing-dashboard" / "filecache"
    assert Settings.load({"XDG_CACHE_HOME": "/x"}, None).cache_dir == Path("/x/community-policing-dashboard/filecache")
    assert Settings.load({"DASHBOARD_CACHE_DIR": "Off"}, None).cache_dir is None
    assert s.uploads_idle_hours == 2.0 and s.uploads_max_mb == 1024.0
    assert PublicPolicy.from_settings(s) is None
    policy = PublicPolicy.for_public_version(s)
    assert policy == PublicPolicy() and not policy.has_secret


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("DASHBOARD_PUBLIC_MIN_COUNT", "five", lambda s: s.public_min_count),
        ("DASHBOARD_PUBLIC_MIN_COUNT", "0", lambda s: s.public_min_count),
        ("DASHBOARD_MIN_POPULATION", "-3", lambda s: s.min_population),
        ("DASHBOARD_MIN_POPULATION", "1.5", lambda s: s.min_population),
        ("DASHBOARD_UPLOADS_IDLE_HOURS", "0", lambda s: s.uploads_idle_hours),
        ("DASHBOARD_UPLOADS_MAX_MB", "inf", lambda s: s.uploads_max_mb),
        ("DASHBOARD_PUBLIC_SENSITIVE", "domestic_violence,no_such_category", PublicPolicy.from_settings),
        ("DASHBOARD_PUBLIC_SECRET", "too-short", PublicPolicy.from_settings),
        ("DASHBOARD_PUBLIC_PTABLE", "/nonexistent/ptable.csv", PublicPolicy.from_settings),
    ],
)
def test_a_wrong_value_is_refused_naming_its_setting(name, value, read):
    s = Settings.load({"DASHBOARD_PUBLIC": "1", name: value}, secrets_file=None)  # loading it is not an error
    with pytest.raises(ValueError, match=name):
        read(s)


def test_a_wrong_value_is_refused_only_where_it_is_used():
    s = Settings.load({"DASHBOARD_MIN_POPULATION": "many", "DASHBOARD_PUBLIC": "1"}, secrets_file=None)
    assert PublicPolicy.from_settings(s) is not None and s.cache_dir is not None


@pytest.mark.parametrize("content", [None, b"[public\nenabled = tru", b"\xff\xfe not text", "folder"])
def test_a_missing_or_unreadable_secrets_file_is_not_an_error(tmp_path, content):
    path = tmp_path / "secrets.toml"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    s = Settings.load({"DASHBOARD_PUBLIC_MIN_COUNT": "8"}, secrets_file=path)
    assert s.public_min_count == 8 and not s.public


def test_the_secret_is_never_in_the_repr(tmp_path):
    path = secrets_file(tmp_path, ["DASHBOARD_PUBLIC_SECRET"])
    for s in (
        Settings.load({}, secrets_file=path),
        Settings.load({"DASHBOARD_PUBLIC_SECRET": TEST_SECRET}, secrets_file=None),
        Settings.load({}, secrets_file=None, secrets={"public": {"secret": TEST_SECRET}}),
    ):
        assert s.public_secret
        assert s.public_secret not in repr(s) and s.public_secret not in str(s)
        assert "DASHBOARD_PUBLIC_SECRET" in repr(s)  # that it is set is shown


def test_settings_are_a_value():
    a, b = (Settings.load({"DASHBOARD_PUBLIC": "1"}, secrets_file=None) for _ in range(2))
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert a != Settings.load({"DASHBOARD_PUBLIC": "0"}, secrets_file=None)
    with pytest.raises(AttributeError):
        a.values = {}  # frozen


def test_the_settings_module_stands_alone():
    """The bottom layer: nothing from geo, no Streamlit."""
    tree = ast.parse((ROOT / "geo" / "settings.py").read_text(encoding="utf-8"))
    imported = [
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    ]
    assert not [m for m in imported if m and (m == "geo" or m.startswith(("geo.", "streamlit")))]


def test_the_readers_use_the_settings(monkeypatch):
    s = Settings.load({"DASHBOARD_CACHE_DIR": "/srv/c", "DASHBOARD_UPLOADS_MAX_MB": "5"}, secrets_file=None)
    assert filecache.default_dir(s) == Path("/srv/c")
    assert uploads.SweepSettings.from_settings(s) == uploads.SweepSettings(max_mb=5.0)
    monkeypatch.setenv("DASHBOARD_CACHE_DIR", "off")  # read when called, as before
    assert filecache.default_dir() is None


def test_the_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(DASHBOARD_[A-Z_]+)` \| `\[(\w+)\] (\w+)` \| ([^|]+) \|", readme, flags=re.M)
    assert [(env, section, key) for env, section, key, _ in rows] == [(s.env, s.section, s.key) for s in SETTINGS]


# ---------------------------------------------------------------- the dashboard and the command line alike


def run_cli(secrets: Path, args: list[str]) -> subprocess.CompletedProcess:
    """``python -m geo ARGS`` in a process of its own, with ``secrets`` as the project's secrets file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_PUBLIC")}
    env["DASHBOARD_PUBLIC_SECRET"] = TEST_SECRET
    code = (
        "import sys; from pathlib import Path; from geo import settings; settings.SECRETS_FILE = Path(sys.argv[1]); "
        "from geo.cli import main; sys.exit(main(sys.argv[2:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(secrets), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def app_marking(at: AppTest) -> str:
    at.session_state["lang"] = "en"
    at.run()
    ok(at)
    return next(line for line in texts(at).splitlines() if "Public-safe view" in line)


def test_the_cli_and_the_app_read_the_same_min_count(tmp_path, monkeypatch):
    for name in [k for k in os.environ if k.startswith("DASHBOARD_PUBLIC") and k != "DASHBOARD_PUBLIC_SECRET"]:
        monkeypatch.delenv(name)
    path = tmp_path / "secrets.toml"
    path.write_text("[public]\nenabled = true\nmin_count = 7\n", encoding="utf-8")
    out = tmp_path / "brief.html"
    done = run_cli(path, ["brief", "--municipality", "Gjilan", "--lang", "en", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "PUBLIC" in html and "fewer than 7" in html and "fewer than 5" not in html

    monkeypatch.setattr(config, "SECRETS_FILE", path)  # the same file, read by the dashboard
    assert "fewer than 7" in app_marking(AppTest.from_file(APP, default_timeout=120))
    # and as a test (or ~/.streamlit/secrets.toml) gives it through Streamlit's secrets
    monkeypatch.setattr(config, "SECRETS_FILE", tmp_path / "none.toml")
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["public"] = {"enabled": True, "min_count": 7}
    assert "fewer than 7" in app_marking(at)
