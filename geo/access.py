"""Who sees what: the view and the pages a visitor gets, from the deployment's settings, where the visitor is
and who they are (README, "Serving it to others").

Pure rules, no Streamlit and no database: the dashboard passes in what Streamlit reports about the
connection (``st.context.ip_address``, the ``Host`` header), whether ``st.user`` is signed in, and the roles
the deployment's database gives the user (:mod:`geo.users`); :func:`decide` returns an :class:`Access`, which
every page and output asks.

"This computer" needs both a loopback client address and a loopback ``Host`` header: behind a reverse proxy
on the same machine every connection comes from 127.0.0.1, and the proxy's ``Host`` (the server's public
name) then says it is not a local visit. The client address itself is set by Streamlit's server (uvicorn)
from ``X-Forwarded-For`` when the connecting peer is listed in ``FORWARDED_ALLOW_IPS``; this module never
reads that header. :func:`proxy_problem` checks that list against the deployment's own setting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from geo.i18n import N_
from geo.settings import Settings

#: The roles, in the order the Administration page lists them.
ROLES = ("commander", "analyst", "secretary", "viewer", "administrator")
#: Their names in the UI (``_(ROLE_LABELS[code])``).
ROLE_LABELS = {
    "commander": N_("Commander"),
    "analyst": N_("Analyst"),
    "secretary": N_("Committee secretary"),
    "viewer": N_("Viewer"),
    "administrator": N_("Administrator"),
}
#: Roles that see the restricted view.
RESTRICTED_ROLES = frozenset({"commander", "analyst"})
#: The pages, by URL path (``overview`` is the default page, at ``/``).
PAGES = ("overview", "hotspots", "concerns", "committees", "section", "trust", "print", "data", "admin", "meeting")
#: Pages every view that shows the dashboard at all may open.
DASHBOARD_PAGES = frozenset(PAGES) - {"admin", "meeting"}
#: Host names that are this computer (besides loopback addresses).
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: uvicorn's list of trusted proxies when ``FORWARDED_ALLOW_IPS`` is not set.
UVICORN_DEFAULT_PROXIES = "127.0.0.1"

View = Literal["restricted", "public", "signin", "denied"]


def _host_name(host: str) -> str:
    """The name of a ``Host`` header without its port (``[::1]:8501`` → ``::1``)."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback_address(ip: str | None) -> bool:
    """``ip`` as ``st.context.ip_address`` reports it: ``None`` for exactly 127.0.0.1 and ::1, else the text
    of an address (anything that is not one is not loopback)."""
    if ip is None:
        return True
    try:
        address = ipaddress.ip_address(str(ip).strip().split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1, as a dual-stack socket reports it
    return (mapped or address).is_loopback


def is_loopback_host(host: str) -> bool:
    """A ``Host`` header naming this computer: ``localhost`` (and its subdomains) or a loopback address."""
    name = _host_name(host)
    if not name:
        return False
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def this_computer(ip: str | None, host: str) -> bool:
    """The visitor is on the server's own computer: a loopback client address and a loopback ``Host``."""
    return is_loopback_address(ip) and is_loopback_host(host)


def _proxy_set(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in (text or "").split(",") if p.strip())


def proxy_problem(environ: Mapping[str, str], settings: Settings) -> str:
    """``""`` when the server's trusted proxies (``FORWARDED_ALLOW_IPS``, uvicorn's default 127.0.0.1) are
    the deployment's (``DASHBOARD_TRUSTED_PROXIES``) and trust not everyone; else what is wrong (then no
    visitor may count as this computer: any client could claim to be one)."""
    server = _proxy_set(environ.get("FORWARDED_ALLOW_IPS", "") or UVICORN_DEFAULT_PROXIES)
    wanted = _proxy_set(settings.trusted_proxies)
    if "*" in server:
        return "FORWARDED_ALLOW_IPS is '*': every client could claim any address"
    if server != wanted:
        return (
            f"FORWARDED_ALLOW_IPS ({', '.join(sorted(server))}) differs from DASHBOARD_TRUSTED_PROXIES "
            f"({', '.join(sorted(wanted))})"
        )
    return ""


def roles_from_claim(claims: Mapping, claim: str, role_map: Mapping[str, str]) -> frozenset[str]:
    """The roles a new user's identity gives through the deployment's claim mapping (a claim that is a text
    or a list of texts; values not in the mapping give nothing)."""
    if not claim:
        return frozenset()
    value = claims.get(claim)
    values: Iterable = [value] if isinstance(value, str) else (value if isinstance(value, (list, tuple)) else [])
    found = {role_map[str(v)] for v in values if str(v) in role_map}
    return frozenset(r for r in found if r in ROLES)


def check_role(role: str) -> str:
    """``role`` as stored (lower case); ``ValueError`` naming it when it is not a role."""
    code = str(role or "").strip().lower()
    if code not in ROLES:
        raise ValueError(f"{role!r} is not a role: one of {', '.join(ROLES)}")
    return code


@dataclass(frozen=True)
class Access:
    """What one visitor may see and do, for one run."""

    view: View
    #: why: "local", "remote", "open network", "anonymous", "signed in", "public mode", "unknown user",
    #: "disabled", "no role", "not signed in"
    reason: str
    roles: frozenset[str] = field(default_factory=frozenset)
    #: the whole dashboard with every capability (this computer, or the open-network opt-out), no sign-in
    unsigned: bool = False
    #: the deployment is public (``DASHBOARD_PUBLIC``): roles open only the meeting page, to secretaries
    public_mode: bool = False

    @property
    def restricted(self) -> bool:
        return self.view == "restricted"

    @property
    def shows_dashboard(self) -> bool:
        return self.view in ("restricted", "public")

    @property
    def uploads(self) -> bool:
        """Uploads and imports on the Data page."""
        return self.restricted and (self.unsigned or "analyst" in self.roles)

    @property
    def validation(self) -> bool:
        """The Data page's validation report (which lists rows of the records)."""
        return self.uploads

    @property
    def exports(self) -> bool:
        """Restricted files: data exports, restricted briefs and map files."""
        return self.restricted

    @property
    def admin(self) -> bool:
        """The Administration page (roles, committees, the audit log); not on a public deployment."""
        return "administrator" in self.roles and self.view != "denied" and not self.public_mode

    @property
    def meeting(self) -> bool:
        """The meeting page; on a public deployment only for secretaries."""
        if self.view == "denied":
            return False
        if self.public_mode:
            return "secretary" in self.roles
        if self.unsigned and self.restricted:  # this computer, the open-network opt-out: commander + analyst
            return True
        return bool(self.roles & {"secretary", "commander", "analyst"})

    @property
    def pages(self) -> frozenset[str]:
        """The URL paths of :data:`PAGES` this visitor may open."""
        if self.view in ("signin", "denied"):
            return frozenset()
        found = set(DASHBOARD_PAGES)
        if self.admin:
            found.add("admin")
        if self.meeting:
            found.add("meeting")
        return frozenset(found)


def decide(
    *,
    sign_in: bool,
    anonymous: bool,
    open_network: bool,
    public_mode: bool,
    local: bool,
    signed_in: bool,
    roles: frozenset[str] | None,
    disabled: bool = False,
) -> Access:
    """The README's table: ``sign_in`` configured, ``anonymous`` visitors allowed, the ``open_network``
    opt-out, ``public_mode`` set, the visitor on this computer (``local``), ``signed_in``, and the roles the
    database gives the signed-in user (``None``: unknown to it, and unknown users get no access;
    the caller gives an unknown user ``{"viewer"}`` when the deployment says so)."""
    held = frozenset(roles or ())
    if public_mode:  # the public view for everyone; a secretary's role still opens the meeting page
        usable = sign_in and signed_in and not disabled
        return Access("public", "public mode", held if usable else frozenset(), public_mode=True)
    if sign_in and signed_in:
        if disabled:
            return Access("denied", "disabled", held)
        if roles is None:
            return Access("denied", "unknown user")
        if not held:
            return Access("denied", "no role")
        return Access("restricted" if held & RESTRICTED_ROLES else "public", "signed in", held)
    if sign_in:
        return Access("public", "anonymous") if anonymous else Access("signin", "not signed in")
    if open_network:
        return Access("restricted", "open network", unsigned=True)
    if local:
        return Access("restricted", "local", unsigned=True)
    return Access("public", "remote")
