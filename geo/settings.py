"""The deployment's settings, read once: each from its environment variable, else from ``.streamlit/secrets.toml``.

Every setting a deployment makes is listed in :data:`SETTINGS` (and in the
README's table, which a test keeps equal to it): its environment variable, its
key in the secrets file (``[section] key``) and its default. An environment
variable that is set and not blank wins over the file; a key of the file that
is not blank wins over the default. The secrets file missing or unreadable is
not an error (the defaults are the normal, offline case).

:meth:`Settings.load` reads them; the dashboard does so once per run (tests and
deployments change the environment between runs), the command line once per
command. :class:`Settings` keeps the text given for each setting; its
properties turn it into a value and raise ``ValueError`` naming the setting
when the text is wrong, so a wrong setting is refused by whoever uses it and
by nobody else (a wrong ``DASHBOARD_MIN_POPULATION`` does not stop a command
that ranks nothing). The rules that need the data contract (sensitive
categories, the perturbation secret's length, the perturbation table) are
checked by :class:`geo.public.PublicPolicy`, which is made from these settings.

This module imports nothing from :mod:`geo` and no Streamlit: the dashboard
passes the content of ``st.secrets`` in as a mapping.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

APP_DIR = Path(__file__).resolve().parent.parent
#: The project's secrets file (the one Streamlit reads when started from the project's folder).
SECRETS_FILE = APP_DIR / ".streamlit" / "secrets.toml"
#: Values of an on/off setting that mean "on" (English, Albanian, Serbian).
ON = ("1", "true", "yes", "on", "po", "da")
#: Values of the cache folder's setting that turn the cache off.
OFF = ("off", "0", "no", "none", "false")
#: Sections with fewer residents are marked in rankings rather than ranked first.
MIN_POPULATION = 500


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, its ``[section] key`` in the secrets file, its default (as
    written in the README) and what it does."""

    env: str
    section: str
    key: str
    default: str
    help: str
    #: never shown (in ``repr``, messages or logs)
    secret: bool = False


#: Every setting, in the README's order.
SETTINGS: tuple[Setting, ...] = (
    Setting("DASHBOARD_PUBLIC", "public", "enabled", "off", "public-safe mode (1/true/yes/on turns it on)"),
    Setting(
        "DASHBOARD_PUBLIC_SECRET",
        "public",
        "secret",
        "none",
        "the perturbation secret: a random text of at least 16 characters; public figures need it",
        secret=True,
    ),
    Setting(
        "DASHBOARD_PUBLIC_MIN_COUNT", "public", "min_count", "5", 'published counts below it show as "fewer than N"'
    ),
    Setting(
        "DASHBOARD_PUBLIC_SENSITIVE",
        "public",
        "sensitive",
        "domestic_violence,sexual_offence",
        "incident categories never shown in public (comma-separated codes; a list in the file)",
    ),
    Setting(
        "DASHBOARD_PUBLIC_PTABLE",
        "public",
        "ptable",
        "the built-in table",
        "the deployment's own perturbation table (a CSV file: pcv, ckey, pvalue)",
    ),
    Setting(
        "DASHBOARD_MIN_POPULATION",
        "rates",
        "min_population",
        str(MIN_POPULATION),
        'sections with fewer residents are marked, not ranked first, in "highest rate" tables',
    ),
    Setting("DASHBOARD_PRESENTATION", "display", "presentation", "off", "the presentation layout (projector) at start"),
    Setting(
        "DASHBOARD_REFRESH_SECONDS",
        "display",
        "refresh_seconds",
        "5",
        "how often the parts of a page that show recorded concerns and meetings look for new records; off: never",
    ),
    Setting(
        "DASHBOARD_TILES_URL",
        "tiles",
        "url",
        "none (offline maps)",
        "an online basemap's tile URL (https://…/{z}/{x}/{y}.png)",
    ),
    Setting(
        "DASHBOARD_TILES_ATTRIBUTION",
        "tiles",
        "attribution",
        "none",
        "the basemap's attribution; taken from where the URL is set",
    ),
    Setting("DASHBOARD_DATA_DIR", "data", "dir", "data/own", "the folder of the deployment's own data"),
    Setting(
        "DASHBOARD_DATABASE_URL",
        "database",
        "url",
        "the embedded SQLite file in dashboard-db/ of the data folder",
        "the deployment's database: postgresql+psycopg://user:password@host/name for a shared one",
        secret=True,
    ),
    Setting(
        "DASHBOARD_DATABASE_POOL_SIZE",
        "database",
        "pool_size",
        "5",
        "connections each app process keeps open to a shared database (as many again on a burst)",
    ),
    Setting(
        "DASHBOARD_CACHE_DIR",
        "cache",
        "dir",
        "$XDG_CACHE_HOME or ~/.cache, then community-policing-dashboard/filecache",
        "the columnar cache's folder; off turns the cache off",
    ),
    Setting(
        "DASHBOARD_UPLOADS_IDLE_HOURS", "uploads", "idle_hours", "2", "uploads unused this long are removed (hours)"
    ),
    Setting(
        "DASHBOARD_UPLOADS_MAX_MB",
        "uploads",
        "max_mb",
        "1024",
        "all uploads together are kept below this (MB); the least recently used go first",
    ),
    Setting(
        "DASHBOARD_OPEN_NETWORK",
        "access",
        "open_network",
        "off",
        "without sign-in, visitors from other computers see the restricted view too (the opt-out: a risk)",
    ),
    Setting(
        "DASHBOARD_ANONYMOUS",
        "access",
        "anonymous",
        "off",
        "with sign-in, visitors who are not signed in see the public-safe view (else the sign-in page only)",
    ),
    Setting(
        "DASHBOARD_UNKNOWN_USERS",
        "access",
        "unknown_users",
        "viewer",
        "what a signed-in user the database does not know gets: viewer, or none (no access)",
    ),
    Setting(
        "DASHBOARD_ROLE_CLAIM",
        "access",
        "role_claim",
        "none",
        "a claim of the provider's identity (e.g. groups) that gives a new user's role on first sign-in",
    ),
    Setting(
        "DASHBOARD_ROLE_MAP",
        "access",
        "role_map",
        "none",
        "claim value=role, comma-separated (e.g. cp-commanders=commander,cp-analysts=analyst)",
    ),
    Setting(
        "DASHBOARD_IDLE_MINUTES",
        "access",
        "idle_minutes",
        "30",
        "restricted roles sign in again at the provider after this long without activity (minutes)",
    ),
    Setting(
        "DASHBOARD_TRUSTED_PROXIES",
        "access",
        "trusted_proxies",
        "127.0.0.1",
        "the reverse proxies trusted to report the client's address; must equal FORWARDED_ALLOW_IPS",
    ),
    Setting(
        "DASHBOARD_LOGIN_PROVIDER",
        "access",
        "provider",
        "the only [auth.<name>] entry, or [auth] itself",
        "the identity provider the Sign in button uses",
    ),
    Setting(
        "DASHBOARD_RELOGIN_PROVIDER",
        "access",
        "relogin_provider",
        "relogin",
        'the [auth.<name>] entry (same client, prompt = "login") used after an idle timeout',
    ),
    Setting(
        "DASHBOARD_AUDIT_RETENTION_DAYS",
        "audit",
        "retention_days",
        "keep everything",
        "audit records older than this many days are removed",
    ),
)
#: Values of ``DASHBOARD_UNKNOWN_USERS``.
UNKNOWN_USERS = ("viewer", "none")
BY_ENV = {s.env: s for s in SETTINGS}
#: The settings of public-safe mode (:meth:`geo.public.PublicPolicy.from_settings`).
PUBLIC = tuple(s.env for s in SETTINGS if s.section == "public")


def _text(value: object) -> str:
    """A secrets-file value as a setting's text: a list as comma-separated items."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def read_secrets(path: Path | None) -> dict:
    """The tables of a secrets file; ``{}`` when there is none or it cannot be read (not an error)."""
    if path is None:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


@dataclass(frozen=True)
class Settings:
    """The deployment's settings: ``values`` holds the text given for each one set (by environment variable
    name), ``origin`` where it came from (``environment`` or ``secrets``). Properties give the values."""

    values: Mapping[str, str] = field(default_factory=dict)
    origin: Mapping[str, str] = field(default_factory=dict)
    #: ``$XDG_CACHE_HOME`` (the cache folder's default is under it)
    xdg_cache_home: str = ""
    #: the ``[auth]`` table of the secrets (Streamlit's ``st.login`` configuration), ``{}`` when there is none;
    #: secret, never shown
    auth: Mapping = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        secrets_file: Path | Literal["project"] | None = "project",
        secrets: Mapping | None = None,
    ) -> Settings:
        """The settings from ``environ`` (default ``os.environ``), else ``secrets_file`` (default
        ``"project"``: :data:`SECRETS_FILE`, the project's ``.streamlit/secrets.toml``; ``None`` for none),
        else ``secrets`` (the content of Streamlit's ``st.secrets``, a mapping of tables), else the defaults.
        Never raises for a wrong value (the properties do)."""
        environ = os.environ if environ is None else environ
        tables = [read_secrets(SECRETS_FILE if secrets_file == "project" else secrets_file), dict(secrets or {})]
        values: dict[str, str] = {}
        origin: dict[str, str] = {}
        found: dict[str, Mapping] = {}  # the secrets table each setting came from
        for s in SETTINGS:
            text = str(environ.get(s.env, "") or "").strip()
            if text:
                values[s.env], origin[s.env] = text, "environment"
                continue
            for conf in tables:
                table = conf.get(s.section, {})
                value = table.get(s.key, "") if isinstance(table, Mapping) else ""
                if value is not None and _text(value):
                    values[s.env], origin[s.env], found[s.env] = _text(value), "secrets", table
                    break
        # a basemap's attribution belongs to its URL: both come from where the URL is set
        values.pop("DASHBOARD_TILES_ATTRIBUTION", None)
        origin.pop("DASHBOARD_TILES_ATTRIBUTION", None)
        if "DASHBOARD_TILES_URL" in values:
            if origin["DASHBOARD_TILES_URL"] == "environment":
                text = str(environ.get("DASHBOARD_TILES_ATTRIBUTION", "") or "").strip()
            else:
                text = _text(found["DASHBOARD_TILES_URL"].get("attribution", "") or "")
            if text:
                values["DASHBOARD_TILES_ATTRIBUTION"] = text
                origin["DASHBOARD_TILES_ATTRIBUTION"] = origin["DASHBOARD_TILES_URL"]
        # sign-in: what Streamlit's st.login reads (its secrets), else the project's file
        auth = next((t["auth"] for t in reversed(tables) if isinstance(t.get("auth"), Mapping)), {})
        return cls(values, origin, str(environ.get("XDG_CACHE_HOME", "") or "").strip(), dict(auth))

    def __hash__(self) -> int:  # frozen, so usable as a cache key (the fields are mappings)
        return hash(
            (
                tuple(sorted(self.values.items())),
                tuple(sorted(self.origin.items())),
                self.xdg_cache_home,
                self.sign_in,
                self.login_providers,
            )
        )

    def __repr__(self) -> str:
        shown = {k: ("<set>" if BY_ENV[k].secret else v) for k, v in self.values.items() if k in BY_ENV}
        return f"Settings({shown!r})"

    def get(self, name: str, default: str = "") -> str:
        """The text given for setting ``name`` (an environment variable's name), or ``default``."""
        return self.values.get(name, default)

    # -- public-safe mode (the rest is checked by geo.public.PublicPolicy.from_settings)

    @property
    def public(self) -> bool:
        return self.get("DASHBOARD_PUBLIC").lower() in ON

    @property
    def public_min_count(self) -> int | None:
        """``None`` when not set (the policy's default)."""
        raw = self.get("DASHBOARD_PUBLIC_MIN_COUNT")
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"DASHBOARD_PUBLIC_MIN_COUNT={raw!r}: a whole number, 1 or more (default 5)")
        return value

    @property
    def public_sensitive(self) -> tuple[str, ...] | None:
        """``None`` when not set (the policy's default)."""
        raw = self.get("DASHBOARD_PUBLIC_SENSITIVE")
        return tuple(c.strip() for c in raw.split(",") if c.strip()) if raw else None

    @property
    def public_secret(self) -> str:
        return self.get("DASHBOARD_PUBLIC_SECRET")

    @property
    def public_ptable(self) -> str:
        return self.get("DASHBOARD_PUBLIC_PTABLE")

    # -- the pages

    @property
    def min_population(self) -> int:
        raw = self.get("DASHBOARD_MIN_POPULATION")
        if not raw:
            return MIN_POPULATION
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(
                f"DASHBOARD_MIN_POPULATION={raw!r}: a whole number of residents, 0 or more (default {MIN_POPULATION})"
            )
        return value

    @property
    def presentation(self) -> bool:
        return self.get("DASHBOARD_PRESENTATION").lower() in ON

    @property
    def refresh_seconds(self) -> float | None:
        """How often recorded data is looked for again (seconds); ``None``: only when the page reruns."""
        raw = self.get("DASHBOARD_REFRESH_SECONDS")
        if raw.lower() in OFF:
            return None
        return self._positive("DASHBOARD_REFRESH_SECONDS", "seconds", 5.0)

    @property
    def tiles_url(self) -> str:
        """An online basemap's URL, ``""`` for none (the maps work offline)."""
        return self.get("DASHBOARD_TILES_URL")

    @property
    def tiles_attribution(self) -> str:
        return self.get("DASHBOARD_TILES_ATTRIBUTION")

    # -- folders

    @property
    def data_dir(self) -> Path:
        """The folder of the deployment's own data (default ``data/own`` in the project)."""
        raw = self.get("DASHBOARD_DATA_DIR")
        return Path(raw) if raw else APP_DIR / "data" / "own"

    @property
    def database_url(self) -> str:
        """The deployment's database URL; ``""`` for the embedded default (:func:`geo.db.url_of`)."""
        return self.get("DASHBOARD_DATABASE_URL")

    @property
    def database_pool_size(self) -> int:
        raw = self.get("DASHBOARD_DATABASE_POOL_SIZE")
        if not raw:
            return 5
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"DASHBOARD_DATABASE_POOL_SIZE={raw!r}: a whole number, 1 or more (default 5)")
        return value

    @property
    def cache_dir(self) -> Path | None:
        """The columnar cache's folder, or ``None`` when the cache is turned off."""
        raw = self.get("DASHBOARD_CACHE_DIR")
        if raw.lower() in OFF:
            return None
        if raw:
            return Path(raw)
        base = self.xdg_cache_home or str(Path.home() / ".cache")
        return Path(base) / "community-policing-dashboard" / "filecache"

    # -- sign-in and access (geo.access decides with them)

    @property
    def login_providers(self) -> tuple[str, ...]:
        """The providers ``[auth]`` configures: ``""`` for one set in ``[auth]`` itself, else each
        ``[auth.<name>]`` with a ``client_id``."""
        auth = self.auth
        names = [""] if auth.get("client_id") else []
        names += [k for k, v in auth.items() if isinstance(v, Mapping) and v.get("client_id")]
        return tuple(names)

    @property
    def sign_in(self) -> bool:
        """Sign-in is configured: ``[auth]`` has a ``redirect_uri``, a ``cookie_secret`` and a provider."""
        auth = self.auth
        return bool(auth.get("redirect_uri") and auth.get("cookie_secret") and self.login_providers)

    @property
    def login_provider(self) -> str | None:
        """The provider the Sign in button passes to ``st.login`` (``None``: ``[auth]`` itself). Raises
        ``ValueError`` when the setting names none that ``[auth]`` configures, or when several are configured
        and none is named."""
        named = self.get("DASHBOARD_LOGIN_PROVIDER")
        providers = [p for p in self.login_providers if p != self.relogin_provider]
        if named:
            if named not in self.login_providers:
                raise ValueError(f"DASHBOARD_LOGIN_PROVIDER={named!r}: no [auth.{named}] with a client_id")
            return named
        if "" in providers:
            return None
        if len(providers) == 1:
            return providers[0]
        raise ValueError(
            "DASHBOARD_LOGIN_PROVIDER: several providers are configured ("
            + ", ".join(providers or self.login_providers)
            + "); name the one the Sign in button uses"
        )

    @property
    def relogin_provider(self) -> str:
        return self.get("DASHBOARD_RELOGIN_PROVIDER") or "relogin"

    @property
    def open_network(self) -> bool:
        return self.get("DASHBOARD_OPEN_NETWORK").lower() in ON

    @property
    def anonymous(self) -> bool:
        return self.get("DASHBOARD_ANONYMOUS").lower() in ON

    @property
    def unknown_users(self) -> str:
        raw = self.get("DASHBOARD_UNKNOWN_USERS").lower() or "viewer"
        if raw not in UNKNOWN_USERS:
            raise ValueError(f"DASHBOARD_UNKNOWN_USERS={raw!r}: viewer or none (default viewer)")
        return raw

    @property
    def role_claim(self) -> str:
        return self.get("DASHBOARD_ROLE_CLAIM")

    @property
    def role_map(self) -> dict[str, str]:
        """``claim value → role`` (the roles are checked by :mod:`geo.access`)."""
        raw = self.get("DASHBOARD_ROLE_MAP")
        found: dict[str, str] = {}
        for item in (i.strip() for i in raw.split(",")):
            if not item:
                continue
            value, sep, role = item.rpartition("=")
            if not sep or not value.strip() or not role.strip():
                raise ValueError(f"DASHBOARD_ROLE_MAP: {item!r} is not 'claim value=role'")
            found[value.strip()] = role.strip().lower()
        return found

    @property
    def idle_minutes(self) -> float:
        return self._positive("DASHBOARD_IDLE_MINUTES", "minutes", 30.0)

    @property
    def trusted_proxies(self) -> str:
        return self.get("DASHBOARD_TRUSTED_PROXIES") or "127.0.0.1"

    @property
    def audit_retention_days(self) -> float | None:
        """``None``: keep every audit record (the default)."""
        raw = self.get("DASHBOARD_AUDIT_RETENTION_DAYS")
        return self._positive("DASHBOARD_AUDIT_RETENTION_DAYS", "days", 0.0) if raw else None

    # -- uploads

    def _positive(self, name: str, unit: str, default: float) -> float:
        raw = self.get(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not value > 0 or value == math.inf:
            raise ValueError(f"{name} must be a positive number of {unit}; got {raw!r}")
        return value

    @property
    def uploads_idle_hours(self) -> float:
        return self._positive("DASHBOARD_UPLOADS_IDLE_HOURS", "hours", 2.0)

    @property
    def uploads_max_mb(self) -> float:
        return self._positive("DASHBOARD_UPLOADS_MAX_MB", "megabytes", 1024.0)
