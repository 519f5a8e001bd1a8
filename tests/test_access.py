"""Who sees what (geo.access): the README's table, "this computer", the trusted proxies, roles from a claim."""

from __future__ import annotations

import pytest

from geo import access
from geo.access import Access, decide
from geo.settings import Settings

NOBODY = dict(sign_in=False, anonymous=False, open_network=False, public_mode=False, signed_in=False, roles=None)


def visit(**kw) -> Access:
    return decide(**{**NOBODY, "local": False, **kw})


# ---------------------------------------------------------------- the table, row by row


def test_no_sign_in_on_this_computer_is_restricted_with_every_capability():
    a = visit(local=True)
    assert (a.view, a.reason) == ("restricted", "local")
    assert a.uploads and a.validation and a.exports and a.meeting and not a.admin
    assert a.pages == access.DASHBOARD_PAGES | {"meeting"}


def test_no_sign_in_from_another_computer_is_public():
    a = visit(local=False)
    assert (a.view, a.reason) == ("public", "remote")
    assert not (a.uploads or a.validation or a.exports or a.admin)
    assert "admin" not in a.pages and "meeting" not in a.pages


def test_the_open_network_opt_out_is_restricted_from_anywhere():
    a = visit(open_network=True, local=False)
    assert (a.view, a.reason) == ("restricted", "open network") and a.uploads


def test_sign_in_without_anonymous_access_shows_only_the_sign_in_page():
    for local in (True, False):  # this computer makes no difference once sign-in is configured
        a = visit(sign_in=True, local=local)
        assert (a.view, a.pages) == ("signin", frozenset())
        assert not a.shows_dashboard


def test_sign_in_with_anonymous_access_is_public_for_visitors():
    a = visit(sign_in=True, anonymous=True, local=True)
    assert (a.view, a.reason) == ("public", "anonymous")


def test_the_open_network_opt_out_does_not_bypass_a_configured_sign_in():
    assert visit(sign_in=True, open_network=True).view == "signin"


@pytest.mark.parametrize(
    ("roles", "view", "pages_extra", "uploads"),
    [
        ({"commander"}, "restricted", set(), False),
        ({"analyst"}, "restricted", set(), True),
        ({"secretary"}, "public", set(), False),
        ({"viewer"}, "public", set(), False),
        ({"administrator"}, "public", {"admin"}, False),
        ({"administrator", "commander"}, "restricted", {"admin"}, False),
    ],
)
def test_signed_in_users_see_what_their_roles_allow(roles, view, pages_extra, uploads):
    a = visit(sign_in=True, signed_in=True, roles=frozenset(roles))
    assert a.view == view and a.reason == "signed in"
    assert a.uploads is uploads and a.validation is uploads
    assert a.exports is (view == "restricted")
    meeting = {"meeting"} if roles & {"secretary", "commander", "analyst"} else set()
    assert a.pages == access.DASHBOARD_PAGES | pages_extra | meeting


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        (dict(roles=None), "unknown user"),
        (dict(roles=frozenset()), "no role"),
        (dict(roles=frozenset({"commander"}), disabled=True), "disabled"),
    ],
)
def test_signed_in_users_without_access_are_denied(kw, reason):
    a = visit(sign_in=True, signed_in=True, **kw)
    assert (a.view, a.reason, a.pages) == ("denied", reason, frozenset())
    assert not (a.exports or a.admin or a.meeting)


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("roles", [frozenset({"commander"}), frozenset({"analyst", "administrator"})])
def test_public_mode_is_public_for_everyone_whatever_their_role(signed_in, roles):
    a = visit(public_mode=True, sign_in=True, signed_in=signed_in, roles=roles, local=True, open_network=True)
    assert a.view == "public" and not a.exports and not a.uploads
    assert not a.admin and not a.meeting  # on a public deployment only secretaries get a page more


def test_public_mode_opens_the_meeting_page_to_signed_in_secretaries_only():
    a = visit(public_mode=True, sign_in=True, signed_in=True, roles=frozenset({"secretary"}))
    assert a.view == "public" and a.meeting and a.pages == access.DASHBOARD_PAGES | {"meeting"}
    b = visit(public_mode=True, sign_in=True, signed_in=True, roles=frozenset({"secretary"}), disabled=True)
    assert not b.meeting


# ---------------------------------------------------------------- this computer


@pytest.mark.parametrize(
    ("ip", "host", "local"),
    [
        (None, "localhost:8501", True),  # Streamlit reports 127.0.0.1 and ::1 as None
        (None, "127.0.0.1:8501", True),
        (None, "[::1]:8501", True),
        (None, "LOCALHOST", True),
        ("127.0.0.2", "localhost", True),
        ("::ffff:127.0.0.1", "localhost", True),
        (None, "dashboard.police.example:443", False),  # behind a proxy on this machine: its Host says no
        (None, "", False),
        ("203.0.113.7", "localhost:8501", False),  # forwarded by a trusted proxy
        ("192.168.1.20", "127.0.0.1", False),
        ("not an address", "localhost", False),
        (None, "localhost.evil.example", False),
        (None, "127.0.0.1.nip.io", False),
    ],
)
def test_this_computer_needs_a_loopback_address_and_a_loopback_host(ip, host, local):
    assert access.this_computer(ip, host) is local


@pytest.mark.parametrize(
    ("environ", "setting", "problem"),
    [
        ({}, "", ""),  # uvicorn's default and the dashboard's: 127.0.0.1
        ({"FORWARDED_ALLOW_IPS": "127.0.0.1"}, "127.0.0.1", ""),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.5, 127.0.0.1"}, "127.0.0.1,10.0.0.5", ""),
        ({"FORWARDED_ALLOW_IPS": "*"}, "*", "every client"),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.5"}, "", "differs"),
        ({}, "10.0.0.5", "differs"),
    ],
)
def test_the_trusted_proxies_must_be_the_servers(environ, setting, problem):
    settings = Settings.load({"DASHBOARD_TRUSTED_PROXIES": setting} if setting else {}, secrets_file=None)
    found = access.proxy_problem(environ, settings)
    assert (problem in found) if problem else found == ""


# ---------------------------------------------------------------- roles


def test_roles_from_a_claim_take_only_mapped_values_that_are_roles():
    mapping = {"cp-commanders": "commander", "cp-all": "viewer", "cp-odd": "superuser"}
    assert access.roles_from_claim({"groups": ["cp-all", "cp-commanders", "x"]}, "groups", mapping) == {
        "commander",
        "viewer",
    }
    assert access.roles_from_claim({"groups": "cp-all"}, "groups", mapping) == {"viewer"}
    assert access.roles_from_claim({"groups": ["cp-odd"]}, "groups", mapping) == frozenset()
    assert access.roles_from_claim({"groups": 7}, "groups", mapping) == frozenset()
    assert access.roles_from_claim({"groups": ["cp-all"]}, "", mapping) == frozenset()


def test_check_role_names_a_wrong_role():
    assert access.check_role(" Commander ") == "commander"
    with pytest.raises(ValueError, match="'chief' is not a role"):
        access.check_role("chief")


def test_every_role_has_a_label():
    assert set(access.ROLE_LABELS) == set(access.ROLES)


# ---------------------------------------------------------------- the sign-in settings

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
PROVIDER = {"client_id": "dashboard", "client_secret": "s", "server_metadata_url": "http://localhost:9/.well-known"}


def settings_with(auth: dict, **environ) -> Settings:
    return Settings.load(environ, secrets_file=None, secrets={"auth": auth})


def test_sign_in_is_configured_only_with_a_redirect_a_cookie_secret_and_a_provider():
    assert settings_with({**AUTH, **PROVIDER}).sign_in
    assert settings_with({**AUTH, "agency": PROVIDER}).sign_in
    assert not settings_with(AUTH).sign_in
    assert not settings_with({**PROVIDER, "cookie_secret": "x" * 32}).sign_in
    assert not settings_with({**PROVIDER, "redirect_uri": AUTH["redirect_uri"]}).sign_in
    assert not Settings.load({}, secrets_file=None).sign_in


def test_the_login_provider_is_the_only_one_besides_the_relogin_entry():
    assert settings_with({**AUTH, **PROVIDER}).login_provider is None
    assert settings_with({**AUTH, "agency": PROVIDER, "relogin": PROVIDER}).login_provider == "agency"
    with pytest.raises(ValueError, match="several providers"):
        _ = settings_with({**AUTH, "a": PROVIDER, "b": PROVIDER}).login_provider
    chosen = settings_with({**AUTH, "a": PROVIDER, "b": PROVIDER}, DASHBOARD_LOGIN_PROVIDER="b")
    assert chosen.login_provider == "b"
    with pytest.raises(ValueError, match="DASHBOARD_LOGIN_PROVIDER='c'"):
        _ = settings_with({**AUTH, "a": PROVIDER}, DASHBOARD_LOGIN_PROVIDER="c").login_provider


def test_the_auth_table_is_never_shown_and_changes_the_settings_key():
    s = settings_with({**AUTH, **PROVIDER})
    assert "cookie_secret" not in repr(s) and "x" * 32 not in repr(s)
    assert hash(s) != hash(Settings.load({}, secrets_file=None))


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("DASHBOARD_UNKNOWN_USERS", "guest", "viewer or none"),
        ("DASHBOARD_ROLE_MAP", "cp-commanders", "not 'claim value=role'"),
        ("DASHBOARD_ROLE_MAP", "=commander", "not 'claim value=role'"),
        ("DASHBOARD_IDLE_MINUTES", "0", "DASHBOARD_IDLE_MINUTES"),
        ("DASHBOARD_IDLE_MINUTES", "soon", "DASHBOARD_IDLE_MINUTES"),
        ("DASHBOARD_AUDIT_RETENTION_DAYS", "-3", "DASHBOARD_AUDIT_RETENTION_DAYS"),
    ],
)
def test_a_wrong_access_setting_is_refused_naming_it(name, value, match):
    s = Settings.load({name: value}, secrets_file=None)
    prop = {
        "DASHBOARD_UNKNOWN_USERS": "unknown_users",
        "DASHBOARD_ROLE_MAP": "role_map",
        "DASHBOARD_IDLE_MINUTES": "idle_minutes",
        "DASHBOARD_AUDIT_RETENTION_DAYS": "audit_retention_days",
    }[name]
    with pytest.raises(ValueError, match=match):
        getattr(s, prop)


def test_the_access_defaults():
    s = Settings.load({}, secrets_file=None)
    assert (s.open_network, s.anonymous, s.unknown_users, s.idle_minutes) == (False, False, "viewer", 30.0)
    assert (s.trusted_proxies, s.relogin_provider, s.audit_retention_days, s.role_map) == (
        "127.0.0.1",
        "relogin",
        None,
        {},
    )
