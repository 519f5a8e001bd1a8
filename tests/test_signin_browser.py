"""Who sees what, for real: dashboard servers, a trusted nginx, an OpenID Connect provider and Chromium.

Every row of the README's table ("Serving it to others") against a running server: this computer and
another one (``X-Forwarded-For`` through a local nginx the server trusts) without sign-in, with and without
the public secret; the open-network opt-out; sign-in with and without anonymous visitors; public mode. The
full sign-in flow at a real provider (``tests/oidcmock.py``) for each role: its pages (the navigation's
links), its marking, the pages it cannot open by URL, the marking of its files on "Brief and exports".
Cache isolation (a commander first, then a viewer on the same page, area and period: the viewer's page and
files pass the leak checks of ``tests/leakcheck.py``), a role revoked on the command line taking effect at
the next rerun of an open session, and the idle timeout sending the user back to the provider with
``prompt=login``.

One server per configuration for the whole module (``tests/signin_fixtures.py``), started when a test first
needs it; each test opens its own browser context (its own cookies: one visitor). Marked ``browser``;
without Chromium or nginx the tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from cigate import in_ci
from leakcheck import coordinate_leaks, restricted_texts, sensitive_hits, split_images
from oidcmock import at_provider, authorize, end_session, provider
from playwright.sync_api import expect
from signin_fixtures import CHROMIUM, COOKIE_SECRET, dashboard, data_template, new_page, proxy
from test_browser import TIMEOUT

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if in_ci(os.environ):
        pytest.fail(f"CI=true but there is no Chromium at {CHROMIUM}", pytrace=False)
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

#: The test users: one per role (the address says which), granted on the command line before the servers
#: start; ``revoked`` holds commander and viewer (the revocation test removes commander); ``mapped`` has no
#: role in the database and gets commander from its ``groups`` claim on first sign-in; ``stranger`` is
#: unknown to the database (a viewer, the default for unknown users). The last two are the cache test's.
USERS = {role: f"{role}@kp.example" for role in ("commander", "analyst", "secretary", "viewer", "administrator")}
REVOKED = "revoked@kp.example"
MAPPED = "mapped@kp.example"
STRANGER = "stranger@kp.example"
GRANTS = [(email, role) for role, email in USERS.items()] + [(REVOKED, "commander"), (REVOKED, "viewer")]
#: Every page of the dashboard besides the Administration and meeting pages (geo.access.DASHBOARD_PAGES).
DASHBOARD_PAGES = frozenset({"overview", "hotspots", "concerns", "committees", "section", "trust", "print", "data"})
#: What each role sees: its view and the pages its navigation links to (the meeting page once it exists).
ROLE_VIEWS = {
    "commander": ("RESTRICTED", DASHBOARD_PAGES),
    "analyst": ("RESTRICTED", DASHBOARD_PAGES),
    "secretary": ("PUBLIC", DASHBOARD_PAGES),
    "viewer": ("PUBLIC", DASHBOARD_PAGES),
    "administrator": ("PUBLIC", DASHBOARD_PAGES | {"admin"}),
}
#: The roles that may open the meeting page (issue 17), where the app has one.
MEETING_ROLES = {"commander", "analyst", "secretary"}
HAS_MEETING_PAGE = (Path(__file__).resolve().parent.parent / "views" / "meeting.py").exists()
#: The pages of this computer and of the open-network opt-out without sign-in (commander + analyst).
UNSIGNED_PAGES = DASHBOARD_PAGES | ({"meeting"} if HAS_MEETING_PAGE else set())
#: The idle timeout of the "anonymous" server (minutes): short, so that the test waits only seconds for it, and
#: long enough that the steps after signing in again (a page or two, slow on a loaded machine) fit inside it.
IDLE_MINUTES = 0.5

#: The servers: (environment, sign-in configured, nginx in front).
CONFIGS = {
    "local": ({}, False, True),
    "nosecret": ({"DASHBOARD_PUBLIC_SECRET": ""}, False, True),
    "open": ({"DASHBOARD_OPEN_NETWORK": "1"}, False, True),
    "signin": ({"DASHBOARD_ROLE_CLAIM": "groups", "DASHBOARD_ROLE_MAP": "cp-commanders=commander"}, True, False),
    "anonymous": ({"DASHBOARD_ANONYMOUS": "1", "DASHBOARD_IDLE_MINUTES": str(IDLE_MINUTES)}, True, False),
    "public": ({"DASHBOARD_PUBLIC": "1"}, True, False),
}
#: What a browser sends through the proxy to be "another computer".
ELSEWHERE = {"X-Forwarded-For": "203.0.113.7"}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def idp():
    """The provider, with every test user (the claim-mapped one in group cp-commanders)."""
    with provider() as found:
        for email in [*USERS.values(), REVOKED, STRANGER]:
            found.add_user(email, groups=["cp-staff"])
        found.add_user(MAPPED, groups=["cp-commanders", "cp-staff"])
        yield found


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin-template") / "own"
    fx = data_template(folder, GRANTS)
    return SimpleNamespace(folder=folder, fx=fx)


@pytest.fixture(scope="module")
def servers(tmp_path_factory, template, idp):
    """``servers("name")``: the server of that configuration, with ``proxy_url`` set where nginx is in
    front. The first call starts every configuration's server at once (they start in parallel; the module
    uses them all), each call waits for its own; all are stopped at the end of the module."""
    stack = contextlib.ExitStack()
    started: dict[str, object] = {}
    root = tmp_path_factory.mktemp("signin-servers")

    def get(name: str):
        if not started:
            for key, (env, sign_in, _proxied) in CONFIGS.items():
                secrets = idp.auth_secrets("{url}/oauth2callback", COOKIE_SECRET) if sign_in else None
                started[key] = stack.enter_context(
                    dashboard(key, root / key, template.folder, env=env, secrets=secrets, wait=False)
                )
        site = started[name].ready()
        if CONFIGS[name][2] and not site.proxy_url:
            site.proxy_url = stack.enter_context(proxy(root / name, site.port))
        return site

    with stack:
        yield get


@pytest.fixture
def visitor(browser, idp):
    """``visitor(**context_options)``: a new page in a context of its own; all closed after the test."""
    pages = []

    def make(**options):
        pages.append(new_page(browser, idp.url, **options))
        return pages[-1]

    yield make
    for page in pages:
        assert page.blocked == [], f"the page asked for the internet: {page.blocked[:5]}"
        page.context.close()


# ---------------------------------------------------------------- what a page shows


def goto(page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}?lang=en", wait_until="domcontentloaded")


def settled(page, timeout: float = TIMEOUT) -> None:
    """Wait until the app's run has finished (Streamlit's status widget says it is not running)."""
    page.locator("[data-testid='stApp']").wait_for(timeout=timeout)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]'); }",
        timeout=timeout,
    )


def marking(page, timeout: float = TIMEOUT) -> str:
    """The page's marking, once the page shows one: ``"RESTRICTED"`` or ``"PUBLIC"`` (and never both)."""
    either = page.get_by_text("RESTRICTED", exact=True).or_(page.get_by_text("PUBLIC", exact=True))
    either.first.wait_for(timeout=timeout)
    settled(page)
    restricted = page.get_by_text("RESTRICTED", exact=True).count()
    public = page.get_by_text("PUBLIC", exact=True).count()
    assert bool(restricted) != bool(public), f"RESTRICTED shown {restricted} times, PUBLIC {public} times"
    return "RESTRICTED" if restricted else "PUBLIC"


def nav_pages(page) -> frozenset[str]:
    """The pages the sidebar's navigation links to, by URL path (``overview`` for the default page)."""
    page.locator("[data-testid='stSidebarNav']").wait_for(timeout=TIMEOUT)
    hrefs = page.locator("[data-testid='stSidebarNav'] a").evaluate_all("els => els.map(e => e.href)")
    return frozenset(urlparse(h).path.strip("/") or "overview" for h in hrefs)


def heading(page, text: str):
    return page.get_by_role("heading", name=text, exact=True)


def signed_in_as(page, site, email: str) -> None:
    """Back from the provider (at the dashboard's bare address, in the default language): open the
    dashboard again in English, and wait until the sidebar names the user."""
    page.wait_for_url(lambda url: url.startswith(site.url) and urlparse(url).path == "/", timeout=TIMEOUT)
    goto(page, site.url)  # the identity cookie was set on the way (by /oauth2callback)
    page.locator("[data-testid='stSidebar']").get_by_text(f"Signed in as {email}").wait_for(timeout=TIMEOUT)


def sign_in(page, site, idp, email: str) -> dict[str, str]:
    """The full flow from the dashboard: its Sign in button, the provider's form, back signed in (the
    sidebar names the user). Returns the authorization request's parameters."""
    goto(page, site.url)
    page.get_by_role("button", name="Sign in").first.click()
    params = authorize(page, idp, email)
    signed_in_as(page, site, email)
    return params


def click_nav(page, title: str) -> None:
    """Open a page through the sidebar's navigation: a rerun of the same session."""
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()


def download(page, button_name: str, prefix: str, suffix: str = ".html") -> tuple[str, bytes]:
    """Press a "Prepare ..." button of Brief and exports, then download what it made (its button names a
    file ``prefix…suffix``): (file name, bytes)."""
    settled(page)  # the page's run is over: its button belongs to it
    prepare = page.get_by_role("button", name=button_name)
    expect(prepare).to_be_enabled(timeout=TIMEOUT)
    prepare.click()
    named = re.compile(f"Download {re.escape(prefix)}.*{re.escape(suffix)}$")
    button = page.locator("[data-testid='stDownloadButton'] button").filter(has_text=named)
    button.wait_for(timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as info:
        button.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def choose_radio(page, label: str) -> None:
    """Choose an option of a radio group, and wait until the page shows it chosen."""
    page.locator("[data-testid='stRadio'] label").filter(has_text=re.compile(f"^{re.escape(label)}$")).click()
    expect(page.get_by_role("radio", name=label, exact=True)).to_be_checked(timeout=TIMEOUT)


def public_version(page) -> None:
    """Choose the public version on Brief and exports, and wait until the page has been drawn for it (so
    that no button of the restricted version is left on it)."""
    choose_radio(page, "Public")
    page.get_by_text("Public version: sensitive categories are left out").wait_for(timeout=TIMEOUT)
    settled(page)


def page_text(page) -> str:
    """The HTML of the page and of every frame in it (the map's iframe), without image data."""
    texts = []
    for frame in page.frames:
        with contextlib.suppress(Exception):  # a frame that went away while reading
            texts.append(frame.content())
    return split_images("\n".join(texts))[0]


def leaks(text: str, fx, where: str) -> list[str]:
    found = [str(x) for x in coordinate_leaks(text, fx.secret_points, where)]
    found += [f"{where}: sensitive category {h}" for h in sensitive_hits(text)]
    found += [f"{where}: restricted text {h}" for h in restricted_texts(text)]
    return found


# ---------------------------------------------------------------- the table's rows without sign-in


def test_this_computer_without_sign_in_sees_the_restricted_view(servers, visitor):
    site = servers("local")
    page = visitor()
    goto(page, site.url)
    assert marking(page) == "RESTRICTED"
    assert nav_pages(page) == UNSIGNED_PAGES
    assert page.get_by_role("button", name="Sign in").count() == 0
    # through the proxy, without a forwarded address of its own: still this computer
    page = visitor()
    goto(page, site.proxy_url)
    assert marking(page) == "RESTRICTED"


def test_another_computer_without_sign_in_sees_the_public_view_and_how_to_configure_sign_in(servers, visitor):
    site = servers("local")
    page = visitor(extra_http_headers=ELSEWHERE)
    goto(page, site.proxy_url)
    assert marking(page) == "PUBLIC"
    assert page.get_by_text("sign-in").first.is_visible()  # the notice says how to configure it
    goto(page, site.proxy_url, "data")  # no uploads for a visitor from elsewhere
    heading(page, "Data").wait_for(timeout=TIMEOUT)
    assert marking(page) == "PUBLIC"
    assert page.locator("[data-testid='stFileUploader']").count() == 0


def test_another_computer_without_the_public_secret_is_told_how_to_set_it(servers, visitor):
    site = servers("nosecret")
    page = visitor(extra_http_headers=ELSEWHERE)
    goto(page, site.proxy_url)
    page.get_by_text("Public figures need the deployment's perturbation secret").first.wait_for(timeout=TIMEOUT)
    settled(page)
    assert page.get_by_text("RESTRICTED", exact=True).count() == 0
    assert page.locator("iframe[title*='st_folium']").count() == 0  # no map: nothing safe to draw
    # this computer is not concerned: the restricted view needs no secret
    local = visitor()
    goto(local, site.url)
    assert marking(local) == "RESTRICTED"


def test_the_open_network_opt_out_shows_the_restricted_view_to_another_computer(servers, visitor):
    site = servers("open")
    page = visitor(extra_http_headers=ELSEWHERE)
    goto(page, site.proxy_url)
    assert marking(page) == "RESTRICTED"
    assert nav_pages(page) == UNSIGNED_PAGES


# ---------------------------------------------------------------- sign-in configured


def test_sign_in_configured_shows_a_visitor_only_the_sign_in_page(servers, visitor, template):
    site = servers("signin")
    page = visitor()
    for path in ("", "print", "admin"):  # every URL: the sign-in page, nothing of the data
        goto(page, site.url, path)
        page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT)
        settled(page)
        text = page_text(page)
        assert "RESTRICTED" not in text and "PUBLIC" not in text, path
        assert page.locator("iframe").count() == 0 and page.locator("[data-testid='stSidebarNav']").count() == 0
        assert "Sektori" not in text and "Prishtin" not in text, path  # no section, no municipality
        assert not leaks(text, template.fx, path or "/")
    # the sign-in page speaks the visitor's language
    page.goto(f"{site.url}/?lang=sq", wait_until="domcontentloaded")
    page.get_by_role("button", name="Hyr").wait_for(timeout=TIMEOUT)


def test_anonymous_visitors_see_the_public_view_when_the_deployment_allows_them(servers, visitor):
    site = servers("anonymous")
    page = visitor()
    goto(page, site.url)
    assert marking(page) == "PUBLIC"
    assert nav_pages(page) == DASHBOARD_PAGES
    page.get_by_role("button", name="Sign in").first.wait_for(timeout=TIMEOUT)  # and may still sign in


def test_public_mode_shows_the_public_view_even_to_a_commander(servers, visitor, idp):
    site = servers("public")
    page = visitor()
    goto(page, site.url)  # not signed in: the public view, no sign-in page
    assert marking(page) == "PUBLIC"
    page = visitor()
    sign_in(page, site, idp, USERS["commander"])
    assert marking(page) == "PUBLIC"
    assert "admin" not in nav_pages(page)
    click_nav(page, "Brief and exports")
    heading(page, "Brief and exports").wait_for(timeout=TIMEOUT)
    name, payload = download(page, "Prepare the map", "map-")
    assert name.endswith("-PUBLIC.html") and b"PUBLIC" in payload and b"RESTRICTED" not in payload


# ---------------------------------------------------------------- each role, through the provider


@pytest.mark.parametrize("role", list(ROLE_VIEWS))
def test_each_role_signs_in_and_sees_exactly_its_pages_marking_and_files(servers, visitor, idp, role):
    site = servers("signin")
    view, pages = ROLE_VIEWS[role]
    if HAS_MEETING_PAGE and role in MEETING_ROLES:
        pages = pages | {"meeting"}
    page = visitor()
    params = sign_in(page, site, idp, USERS[role])
    assert params["client_id"] and params.get("prompt") != "login"  # a first sign-in: no forced login
    assert marking(page) == view
    assert nav_pages(page) == pages
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="Sign out").wait_for(timeout=TIMEOUT)
    assert sidebar.get_by_role("button", name="Sign out").count() == 1
    assert sidebar.get_by_text(f"Signed in as {USERS[role]}").count() == 1

    # the Data page (a rerun of the same session): uploads and the validation report for analysts only
    click_nav(page, "Data")
    heading(page, "Data").wait_for(timeout=TIMEOUT)
    assert marking(page) == view
    if role == "analyst":
        page.locator("[data-testid='stFileUploader']").first.wait_for(timeout=TIMEOUT)
        heading(page, "Validation report").wait_for(timeout=TIMEOUT)
    else:
        note = "Uploads, imports and the validation report are for analysts." if view == "RESTRICTED" else (
            "Uploading is disabled in the public-safe view: uploads and imports are for analysts.")  # fmt: skip
        page.get_by_text(note).wait_for(timeout=TIMEOUT)  # drawn after the report would have been
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert heading(page, "Validation report").count() == 0

    # Brief and exports: its files carry its marking in their names and content
    click_nav(page, "Brief and exports")
    heading(page, "Brief and exports").wait_for(timeout=TIMEOUT)
    name, payload = download(page, "Prepare the map", "map-")
    assert name.endswith(f"-{view}.html") and view.encode() in payload, name
    other = b"PUBLIC" if view == "RESTRICTED" else b"RESTRICTED"
    assert other not in payload
    if view == "RESTRICTED":  # a restricted role may make the public version too
        public_version(page)
        name, payload = download(page, "Prepare the map", "map-")
        assert name.endswith("-PUBLIC.html") and b"PUBLIC" in payload and b"RESTRICTED" not in payload
    else:
        assert page.locator("[data-testid='stRadio'] label").filter(has_text=re.compile("^Restricted")).count() == 0

    # a page it may not open, asked for by URL: the default page instead, not that page
    for path in ("admin", "meeting"):
        if path in pages:
            continue
        goto(page, site.url, path)
        heading(page, "Overview").wait_for(timeout=TIMEOUT)
        assert marking(page) == view
        assert heading(page, "Administration").count() == 0
    if "admin" in pages:
        goto(page, site.url, "admin")
        heading(page, "Administration").wait_for(timeout=TIMEOUT)

    if role == "viewer":  # signing out ends the session at the provider too; then only the sign-in page
        goto(page, site.url)  # (Streamlit's "page not found" dialog of the address above makes the page inert)
        page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
        end_session(page, idp)
        page.wait_for_url(f"{site.url}/**", timeout=TIMEOUT)
        page.get_by_role("button", name=re.compile("^(Hyr|Sign in)$")).wait_for(timeout=TIMEOUT)  # no language
        goto(page, site.url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT)
        assert not [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
        goto(page, site.url, "data")  # nothing by URL either
        page.get_by_role("button", name="Sign in").wait_for(timeout=TIMEOUT)
        settled(page)
        assert page.locator("[data-testid='stSidebarNav']").count() == 0


# ---------------------------------------------------------------- cache isolation


def test_a_viewer_after_a_commander_on_the_same_page_area_and_period_gets_nothing_restricted(
    servers, visitor, idp, template
):
    """The commander is one on first sign-in through the provider's group claim (the deployment's role
    mapping); the viewer is a user the database does not know (a viewer, the default)."""
    site = servers("signin")
    fx = template.fx
    outputs: dict[str, dict[str, tuple[str, bytes] | str]] = {}
    for role, email, view in (("commander", MAPPED, "RESTRICTED"), ("viewer", STRANGER, "PUBLIC")):
        page = visitor()  # the commander's restricted figures are computed first
        sign_in(page, site, idp, email)
        got: dict = {}
        assert marking(page) == view
        page.wait_for_selector("iframe[title*='st_folium']", timeout=TIMEOUT)
        got["overview"] = page_text(page)
        click_nav(page, "Brief and exports")
        heading(page, "Brief and exports").wait_for(timeout=TIMEOUT)
        settled(page)
        got["map"] = download(page, "Prepare the map", "map-")
        page.locator("[data-testid='stMain']").get_by_role("combobox", name=re.compile("Municipality")).click()
        page.get_by_role("option", name="Prishtinë", exact=True).click()
        expect(page.get_by_role("button", name="Prepare the brief")).to_be_enabled(timeout=TIMEOUT)  # chosen
        choose_radio(page, "HTML")
        settled(page)
        got["brief"] = download(page, "Prepare the brief", "brief-", ".html")
        outputs[role] = got

    commander, viewer = outputs["commander"], outputs["viewer"]
    assert commander["map"][0].endswith("-RESTRICTED.html") and commander["brief"][0].endswith("-RESTRICTED.html")
    assert viewer["map"][0].endswith("-PUBLIC.html") and viewer["brief"][0].endswith("-PUBLIC.html")
    # the checks can fail: the commander's pages and files hold what the viewer's must not
    restricted_findings = [f for key, value in commander.items()
                           for f in leaks(value if isinstance(value, str) else value[1].decode("utf-8", "replace"),
                                          fx, key)]  # fmt: skip
    assert restricted_findings, "the commander's outputs show nothing restricted: the check would prove nothing"
    found = []
    for key, value in viewer.items():
        text = value if isinstance(value, str) else value[1].decode("utf-8", "replace")
        found += leaks(split_images(text)[0], fx, f"viewer's {key}")
    assert found == [], found[:5]
    listed = {line.split()[0]: line.split()[1] for line in site.users("list").splitlines() if line.strip()}
    assert listed[MAPPED] == "commander" and listed[STRANGER] == "viewer"  # the database decides from now on


# ---------------------------------------------------------------- sessions


def test_a_role_revoked_on_the_command_line_takes_effect_at_the_next_rerun(servers, visitor, idp):
    site = servers("signin")
    page = visitor()
    sign_in(page, site, idp, REVOKED)
    assert marking(page) == "RESTRICTED"
    site.users("revoke", REVOKED, "commander")
    click_nav(page, "Hotspots")  # the same session, its next rerun
    heading(page, "Hotspots").or_(page.get_by_text("PUBLIC", exact=True)).first.wait_for(timeout=TIMEOUT)
    page.get_by_text("PUBLIC", exact=True).first.wait_for(timeout=TIMEOUT)
    assert marking(page) == "PUBLIC"
    assert "commander" not in [line for line in site.users("list").splitlines() if REVOKED in line][0]


def test_after_the_idle_timeout_a_commander_must_authenticate_again_at_the_provider(servers, visitor, idp):
    from geo import db, users
    from geo.settings import Settings

    site = servers("anonymous")
    eng = db.engine(Settings.load(site.env, secrets_file=None))
    page = visitor()
    first = sign_in(page, site, idp, USERS["commander"])
    assert first.get("prompt") != "login"
    assert marking(page) == "RESTRICTED"
    before = len(idp.authorizations)

    # idle: wait until the database says so (its last activity older than the timeout), then act
    def expired() -> bool:
        user = users.get(eng, USERS["commander"])
        return user is not None and users.idle_expired(user, dt.datetime.now(dt.UTC), IDLE_MINUTES)

    from test_deploy import wait_until

    wait_until(expired, 60, "the commander's last activity never grew older than the idle timeout")
    click_nav(page, "Hotspots")
    params = at_provider(page, idp)
    assert params.get("prompt") == "login", params  # a fresh authentication, not a silent single sign-on
    assert len(idp.authorizations) == before + 1
    page.fill("input[name=sub]", USERS["commander"])
    page.get_by_role("button", name="Authorize").click()
    signed_in_as(page, site, USERS["commander"])
    assert marking(page) == "RESTRICTED"
    click_nav(page, "Community concerns")  # signed in afresh: the next rerun stays in the dashboard
    heading(page, "Community concerns").wait_for(timeout=TIMEOUT)
    assert marking(page) == "RESTRICTED"
    assert len(idp.authorizations) == before + 1
