"""Sign-in, roles and the audit log in the app: who the visitor is, what they may see (:mod:`geo.access`),
and the records of what they saw (:mod:`geo.users`).

``dashboard.py`` calls :func:`visitor` at the top of every run, before any data is loaded: it reads
``st.context`` (the client's address and ``Host``) and ``st.user``, looks the signed-in user up in the
deployment's database (every run: a removed role or a disabled user takes effect on the next rerun), enforces
the idle timeout, and returns a :class:`Visitor`. Pages get it in the context and call :meth:`Visitor.record`
before anything restricted is sent; when the record cannot be written, the action is refused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import streamlit as st

from geo import access, db, i18n, users
from geo.access import Access
from geo.settings import Settings

#: Session keys: the last page view recorded, whether this session's sign-in was recorded.
VIEW_KEY = "_audited_view"
SIGNED_KEY = "_signed_in_recorded"
#: Last activity is written at most this often per user (a rerun stays fast; the idle timeout is in minutes).
TOUCH_EVERY = timedelta(seconds=20)


class Refused(Exception):
    """An audited action that could not be recorded, so it was not done."""


@dataclass(frozen=True)
class Visitor:
    """Who is using this session, for one run."""

    access: Access
    #: who the audit log names: the signed-in email, else ``local:<OS user>`` or ``visitor``
    actor: str = "local"
    #: the client's address as Streamlit reports it (``None``: this computer)
    address: str | None = None
    email: str = ""
    name: str = ""
    user: users.User | None = None
    #: notices every page shows
    notices: tuple[str, ...] = ()
    #: how to write an audit record (``None``: nothing to record, e.g. in tests of a page alone)
    recorder: Callable[[str, str, Mapping, str | None, tuple[str, ...]], int] | None = field(
        default=None, repr=False, compare=False
    )

    def record(self, action: str, detail: Mapping) -> None:
        """Write one audit record, committed; raises :class:`Refused` when it cannot be written."""
        if self.recorder is None:
            return
        try:
            self.recorder(self.actor, action, dict(detail), self.address, tuple(sorted(self.access.roles)))
        except users.AuditError as exc:
            raise Refused(str(exc)) from exc


#: A visitor with every capability and nothing to record: the default of a page's context in tests.
LOCAL = Visitor(Access("restricted", "local", unsigned=True))


def client() -> tuple[str | None, str | None]:
    """The client's address (``None`` for 127.0.0.1 and ::1) and the request's ``Host`` header; ``None``
    for the header when the session has no HTTP request at all (a test's or a bare script's run, on this
    computer by definition: a browser's connection always carries its ``Host``)."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no connection: this computer
        ip = None
    if not isinstance(ip, str):  # AppTest's stand-in for a connection is no address
        ip = None
    try:
        headers = st.context.headers
        host = headers.get("Host", "") or "" if len(headers) else None
    except Exception:  # noqa: BLE001
        host = None
    return ip, host


def on_this_computer(ip: str | None, host: str | None) -> bool:
    return (ip is None and host is None) or (host is not None and access.this_computer(ip, host))


@st.cache_resource(show_spinner=False)
def _ready_engines() -> dict:
    return {}


_ready_lock = threading.Lock()


def engine(settings: Settings):
    """The deployment's database, with the schema of this code (the embedded one is upgraded on first use;
    a shared one must be upgraded on the server, ``python -m geo db upgrade``)."""
    eng = db.engine(settings)
    box = _ready_engines()
    key = str(eng.url)
    if box.get(key):
        return eng
    with _ready_lock:
        if not box.get(key):
            if db.current(eng) is None:  # a new database (the embedded one on first use): give it the schema
                db.upgrade(eng)
            elif not db.ready(eng):  # an older one is upgraded by its operator, never behind their back
                raise RuntimeError("the database's schema is older than this version: run python -m geo db upgrade")
            box[key] = True
    return eng


def _local_actor() -> str:
    return "local:" + users.os_actor().removeprefix("os:")


def _claims() -> dict:
    try:
        return st.user.to_dict()
    except Exception:  # noqa: BLE001 - no [auth] configured: st.user is empty
        return {}


def _auth_time(claims: Mapping) -> datetime | None:
    """When the provider last authenticated the user: ``auth_time``, else the identity token's ``iat``."""
    for name in ("auth_time", "iat"):
        value = claims.get(name)
        if isinstance(value, (int, float)) and value > 0:
            return datetime.fromtimestamp(value, UTC)
    return None


@st.cache_resource(show_spinner=False)
def _purged() -> dict:
    return {}


def retention(settings: Settings) -> None:
    """Remove the audit records older than the deployment's retention, at most once a day per process (the
    default keeps everything)."""
    try:
        days = settings.audit_retention_days
    except ValueError:
        return  # the setting's own message is shown by `python -m geo users purge`; nothing is removed
    if days is None:
        return
    box = _purged()
    now = datetime.now(UTC)
    if box.get("at") is not None and now - box["at"] < timedelta(days=1):
        return
    box["at"] = now
    try:
        users.purge(engine(settings), days, now, actor="retention")
    except Exception:  # noqa: BLE001 - tried again tomorrow; the records are kept meanwhile
        box["at"] = now - timedelta(days=1) + timedelta(hours=1)


def decide(settings: Settings, local: bool, user: users.User | None = None, signed_in: bool = False) -> Access:
    """:func:`geo.access.decide` with the deployment's settings: for a visitor who is not signed in, or for a
    signed-in ``user`` as the database knows them (``None``: unknown to it)."""
    return access.decide(
        sign_in=settings.sign_in if not signed_in else True,
        anonymous=settings.anonymous,
        open_network=settings.open_network,
        public_mode=settings.public,
        local=local,
        signed_in=signed_in,
        roles=user.roles if user is not None else None,
        disabled=bool(user and user.disabled),
    )


def visitor(_: i18n.Translator, settings: Settings) -> Visitor:
    """Who this session's visitor is and what they may see (stops the run on the sign-in page, a refused
    visitor, or a database that cannot say who the user is)."""
    ip, host = client()
    automatic = st.session_state.pop(AUTOMATIC_KEY, False)  # an automatic refresh's rerun (views/live.py)
    retention(settings)
    notices: list[str] = []
    proxies = access.proxy_problem(os.environ, settings)
    here = on_this_computer(ip, host)
    local = here and not proxies
    if proxies and here:
        notices.append(
            _(
                "The server's trusted proxies do not match the deployment's setting ({problem}), so this "
                "computer is treated as any other. See the README, Serving it to others.",
                problem=proxies,
            )
        )
    claims = _claims() if settings.sign_in else {}
    signed_in = bool(claims.get("is_logged_in"))
    if not (settings.sign_in and signed_in):
        decided = decide(settings, local)
        if decided.view == "signin":
            sign_in_page(_, settings)
        if decided.reason == "remote":
            notices.append(remote_notice(_))
        actor = _local_actor() if decided.unsigned else "visitor"
        return Visitor(decided, actor, ip, notices=tuple(notices), recorder=_recorder(settings))

    email = str(claims.get("email") or "").strip().lower()
    name = str(claims.get("name") or email)
    try:
        eng = engine(settings)
        user = users.get(eng, email) if email else None
        if user is None and email:
            user = _first_sign_in(eng, settings, email, name, claims, ip)
    except Exception as exc:  # noqa: BLE001 - without the database nobody's role is known: no access
        st.error(
            _(
                "The deployment's database cannot say who you are ({error}), so nothing is shown. Try again "
                "later; the server's administrator can check the database.",
                error=f"{type(exc).__name__}: {exc}",
            )
        )
        sign_out_button(_, None)
        st.stop()
        raise AssertionError("st.stop() ends the run") from exc
    decided = decide(settings, local, user, signed_in=True)
    who = Visitor(decided, email or "unknown", ip, email, name, user, tuple(notices), _recorder(settings))
    if decided.view == "denied":
        denied_page(_, who)
    if user is not None:
        idle(_, settings, eng, who, claims, activity=not automatic)
    if not st.session_state.get(SIGNED_KEY):
        try:
            who.record("sign-in", {"auth_time": str(_auth_time(claims) or ""), "host": host or ""})
        except Refused as exc:
            refused(_, exc)
        st.session_state[SIGNED_KEY] = True
    return who


def _recorder(settings: Settings):
    def write(actor, action, detail, address, roles):
        try:
            eng = engine(settings)
        except Exception as exc:  # noqa: BLE001
            raise users.AuditError(f"{type(exc).__name__}: {exc}") from exc
        return users.record(eng, actor, action, detail, address=address, roles=roles)

    return write


def _first_sign_in(eng, settings: Settings, email: str, name: str, claims: Mapping, ip: str | None):
    """A user the database does not know: the roles the deployment's claim mapping gives, else viewer (or no
    access, as the deployment says)."""
    roles = access.roles_from_claim(claims, settings.role_claim, settings.role_map)
    if not roles:
        if settings.unknown_users == "none":
            return None
        roles = frozenset({"viewer"})
    return users.first_sign_in(eng, email, name, roles, actor=email, address=ip)


def idle(_: i18n.Translator, settings: Settings, eng, who: Visitor, claims: Mapping, activity: bool = True) -> None:
    """Restricted roles must authenticate again at the provider after the idle period; otherwise this run is
    activity (written at most every :data:`TOUCH_EVERY`), unless ``activity`` is false (an automatic rerun)."""
    user = who.user
    assert user is not None
    now = datetime.now(UTC)
    minutes = settings.idle_minutes
    if who.access.restricted and users.idle_expired(user, now, minutes):
        expired_at = user.last_activity + timedelta(minutes=minutes)  # type: ignore[operator]
        fresh = _auth_time(claims)
        if fresh is None or fresh <= expired_at:  # no new authentication since the session went idle
            try:
                who.record("timeout", {"idle_minutes": minutes, "last_activity": user.last_activity.isoformat()})
            except Refused:
                pass  # the visitor is signed out either way
            st.session_state.pop(SIGNED_KEY, None)
            st.info(_("Your session ended after {n} minutes without activity. Sign in again.", n=_.number(minutes)))
            relogin = settings.relogin_provider
            st.logout()
            if relogin in settings.login_providers:
                st.login(relogin)
            st.stop()
    last = user.last_activity
    if activity and (last is None or now - last >= TOUCH_EVERY):
        users.touch(eng, user.email, now)


def sign_in_page(_: i18n.Translator, settings: Settings) -> None:
    """The only page a visitor who is not signed in sees (nothing of the data is loaded); stops the run."""
    st.title(_("Community policing · Kosovo"))
    st.markdown(_("Sign in with your agency account to use the dashboard."))
    try:
        provider = settings.login_provider
    except ValueError as exc:
        st.error(_("Sign-in is not configured correctly ({error}).", error=str(exc)))
        st.stop()
        raise AssertionError("st.stop() ends the run") from exc
    if st.button(_("Sign in"), type="primary", key="sign_in"):
        st.login(provider) if provider else st.login()
    st.stop()


def denied_page(_: i18n.Translator, who: Visitor) -> None:
    st.title(_("Community policing · Kosovo"))
    reason = {
        "disabled": _("Your account has been disabled on this dashboard."),
        "unknown user": _("Your account is not known to this dashboard."),
        "no role": _("Your account has no role on this dashboard."),
    }.get(who.access.reason, "")
    st.error(_("You have no access to this dashboard.") + " " + reason)
    st.markdown(_("Ask the dashboard's administrator to give your account a role ({email}).", email=who.email or "–"))
    sign_out_button(_, who)
    st.stop()


def sign_out_button(_: i18n.Translator, who: Visitor | None, where=None) -> None:
    where = where or st
    if where.button(_("Sign out"), key="sign_out"):
        if who is not None:
            try:
                who.record("sign-out", {})
            except Refused:
                pass  # signing out is never refused
        st.session_state.pop(SIGNED_KEY, None)
        st.logout()


def sidebar(_: i18n.Translator, who: Visitor, settings: Settings) -> None:
    """Who is signed in, with their roles, and the Sign out button; for an anonymous visitor of a deployment
    with sign-in, the Sign in button."""
    if not who.email:
        if settings.sign_in and who.access.reason in ("anonymous", "public mode"):
            try:
                provider = settings.login_provider
            except ValueError:
                return
            if st.sidebar.button(_("Sign in"), key="sign_in"):
                st.login(provider) if provider else st.login()
        return
    roles = ", ".join(_(access.ROLE_LABELS[r]) for r in access.ROLES if r in who.access.roles) or "–"
    st.sidebar.caption(_("Signed in as {email} ({roles})", email=i18n.md_escape(who.email), roles=roles))
    sign_out_button(_, who, st.sidebar)


def remote_notice(_: i18n.Translator) -> str:
    return _(
        "You are using this dashboard from another computer, so it shows the public-safe view. To see the "
        "restricted view from here, the deployment must configure sign-in (README, Serving it to others)."
    )


def refused(_: i18n.Translator, exc: Exception) -> None:
    """An audited action whose record could not be written: nothing is shown (stops the run)."""
    st.error(
        _(
            "This could not be recorded in the audit log ({error}), so it is not shown. Try again; if it "
            "persists, tell the dashboard's administrator.",
            error=str(exc),
        )
    )
    st.stop()


def record_view(_: i18n.Translator, who: Visitor, page: str, filters, period, demo: bool = False) -> None:
    """One audit record per change of page, area, period or categories of a restricted view, committed
    before the page is drawn (not of the demo data, which is invented: so a laptop whose database cannot be
    reached still shows the demo)."""
    if not who.access.restricted or demo:  # the demo is invented: nothing of anyone's to record
        return
    detail = {
        "page": page,
        "region": filters.region,
        "municipality": filters.municipality,
        "section": filters.section,
        "categories": list(filters.categories),
        "period": [period.start.isoformat(), period.end.isoformat()],
    }
    key = repr(sorted(detail.items()))
    if st.session_state.get(VIEW_KEY) == key:
        return
    try:
        who.record("view", detail)
    except Refused as exc:
        refused(_, exc)
    st.session_state[VIEW_KEY] = key


def audited(who: Visitor, action: str, detail: Mapping, build: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download's data, made when the button is pressed, after its audit record is committed (the
    download fails, with nothing sent, when the record cannot be written)."""

    def make() -> bytes:
        who.record(action, detail)
        return build()

    return make


# ---------------------------------------------------------------- automatic refreshes (views/live.py)

#: Session key set before an automatic refresh reruns the whole page: that run is not activity.
AUTOMATIC_KEY = "_automatic_rerun"


def still_allowed(_: i18n.Translator, ctx) -> bool:
    """Whether an automatic refresh of a part of the page (an ``st.fragment``, whose reruns skip the entry file)
    may draw it for this visitor: the user is looked up again (:func:`geo.users.get`) and the view decided again
    (:func:`geo.access.decide`), with the idle timeout, as :func:`visitor` does, but without counting as activity
    and without a page-view record.

    Unchanged: ``True``. Changed (a role removed or given, the user disabled, the idle timeout passed): ``False``,
    with a notice in the part; when the visitor may now see less, or nothing, the whole page reruns (not as
    activity) so that nothing drawn before under the old view stays on screen. ``ctx``: the page's
    :class:`views.context.Context`."""
    who: Visitor = ctx.who
    settings: Settings = ctx.settings
    try:
        now, expired = _access_now(settings, who)
    except Exception as exc:  # noqa: BLE001 - without the database nobody's role is known: nothing is drawn
        st.error(
            _(
                "The deployment's database cannot say who you are ({error}), so nothing is shown. Try again "
                "later; the server's administrator can check the database.",
                error=f"{type(exc).__name__}: {exc}",
            )
        )
        return False
    if now == who.access and not expired:
        return True
    less = expired or now.view in ("denied", "signin") or (who.access.restricted and not now.restricted)
    less = less or not now.pages >= who.access.pages or not now.roles >= who.access.roles
    if less:
        st.session_state[AUTOMATIC_KEY] = True
        st.rerun()  # the entry file decides again and shows the new view (or the sign-in or refusal page)
    st.info(_("Your access to this dashboard has changed. Reload the page to see it as it is now."))
    return False


def _access_now(settings: Settings, who: Visitor) -> tuple[Access, bool]:
    """The visitor's access decided again now, and whether the idle timeout has passed (restricted roles)."""
    ip, host = client()
    local = on_this_computer(ip, host) and not access.proxy_problem(os.environ, settings)
    claims = _claims() if settings.sign_in else {}
    signed_in = bool(claims.get("is_logged_in"))
    email = str(claims.get("email") or "").strip().lower()
    if not (settings.sign_in and signed_in):
        decided = decide(settings, local)
        return decided, False
    if email != who.email:  # another account signed in meanwhile: the page is someone else's now
        return Access("signin", "not signed in"), False
    user = users.get(engine(settings), email) if email else None
    decided = decide(settings, local, user, signed_in=True)
    expired = False
    if user is not None and decided.restricted and users.idle_expired(user, datetime.now(UTC), settings.idle_minutes):
        expired_at = user.last_activity + timedelta(minutes=settings.idle_minutes)  # type: ignore[operator]
        fresh = _auth_time(claims)
        expired = fresh is None or fresh <= expired_at  # as idle(): no new authentication since it went idle
    return decided, expired


def fresh_visitor(settings: Settings, who: Visitor, may: Callable[[Access], bool]) -> Visitor | None:
    """At the start of a fragment's rerun (which skips the top of the script, so :func:`visitor`): the
    visitor again, with the signed-in user looked up in the database once more — ``None`` when they may no
    longer do what ``may`` asks of their access (a role removed, a disabled or deleted user, the idle timeout
    passed). Not activity and not audited. A visitor who is not signed in keeps the run's access (it depends
    only on the deployment's settings and the address)."""
    if who.user is None:
        return who if may(who.access) else None
    try:
        user = users.get(engine(settings), who.email)
    except Exception:  # noqa: BLE001 - who the user is cannot be known: no
        return None
    if user is None:
        return None
    decided = decide(settings, False, user, signed_in=True)
    if not may(decided):
        return None
    if decided.restricted and users.idle_expired(user, datetime.now(UTC), settings.idle_minutes):
        return None
    return Visitor(decided, who.actor, who.address, who.email, who.name, user, who.notices, who.recorder)
