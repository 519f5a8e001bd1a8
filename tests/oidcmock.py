"""A real OpenID Connect provider for the sign-in tests: ``oidc-provider-mock`` on ``localhost``.

The provider runs in a thread of the test process (:func:`provider`), on a free port of ``localhost``
(Authlib accepts ``http://localhost`` as a secure transport; ``127.0.0.1`` it would not), and is stopped on
the way out. It accepts any client id and secret and any redirect URI. Users are set over its API
(``PUT /users/<sub>`` with the claims as JSON: :meth:`Provider.add_user`); the subject is the e-mail address
here, so the form's one text field takes the address (:func:`authorize`).

What the provider does not do: keep a single-sign-on session. Its authorization form is shown on every
authorization request, whatever the ``prompt`` parameter says, so a test of "must authenticate again" checks
that the browser reached the form with ``prompt=login`` (:attr:`Provider.authorizations` records each
authorization request's parameters). It publishes an ``end_session_endpoint``: ``st.logout()`` takes the
browser to its "End session" page, which needs a click (:func:`end_session`) before it returns to the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

#: The client the dashboard is registered as (any id and secret are accepted).
CLIENT_ID = "community-policing-dashboard"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Provider:
    url: str
    #: the query parameters of every authorization request, in order (``{"prompt": "login", ...}``)
    authorizations: list[dict[str, str]] = field(default_factory=list)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def add_user(self, email: str, **claims) -> None:
        """A user whose subject and ``email`` claim are ``email``, with ``claims`` besides (e.g. ``groups``)."""
        body = json.dumps({"email": email, "name": email.split("@")[0].title(), **claims}).encode()
        request = urllib.request.Request(
            f"{self.url}/users/{email}", data=body, method="PUT", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 204, r.status

    def auth_secrets(self, redirect_uri: str, cookie_secret: str, relogin: str | None = "relogin") -> str:
        """The ``[auth]`` tables of a secrets file for this provider: ``[auth.main]``, and (unless ``relogin``
        is None) the same client again as ``[auth.<relogin>]`` with ``prompt = "login"``."""
        entry = (f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
                 f'server_metadata_url = "{self.metadata_url}"\n')  # fmt: skip
        text = f'[auth]\nredirect_uri = "{redirect_uri}"\ncookie_secret = "{cookie_secret}"\n\n[auth.main]\n{entry}'
        if relogin:
            text += f'\n[auth.{relogin}]\n{entry}client_kwargs = {{ prompt = "login" }}\n'
        return text


@contextlib.contextmanager
def provider() -> Iterator[Provider]:
    """oidc-provider-mock on a free port of ``localhost``, in a thread; stopped on the way out."""
    import werkzeug.serving
    from oidc_provider_mock import app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request in the test's output
    wsgi = app()
    found = Provider("")

    def recording(environ, start_response):
        if environ.get("PATH_INFO") == "/oauth2/authorize" and environ.get("REQUEST_METHOD") == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            found.authorizations.append({k: v[-1] for k, v in query.items()})
        return wsgi(environ, start_response)

    server = werkzeug.serving.make_server("localhost", 0, recording, threaded=True)
    found.url = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def at_provider(page, provider: Provider, timeout: float = 30_000) -> dict[str, str]:
    """Wait until the browser shows the provider's authorization form; its request's parameters. (Waits on
    the form, not on a navigation: on the way there a navigation may be aborted by the next, as the
    dashboard's ``st.logout()`` is by its ``st.login()`` after an idle timeout.)"""
    page.locator("input[name=sub]").wait_for(timeout=timeout)
    assert page.url.startswith(f"{provider.url}/oauth2/authorize"), page.url
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def authorize(page, provider: Provider, email: str) -> dict[str, str]:
    """On the provider's form (waited for): sign in as ``email``; returns the authorization request's
    parameters (``prompt``, ``client_id``, ...)."""
    params = at_provider(page, provider)
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    return params


def end_session(page, provider: Provider, timeout: float = 30_000) -> None:
    """On the provider's "End session" page (waited for): end it, which returns to the app."""
    page.wait_for_url(f"{provider.url}/oauth2/end_session**", timeout=timeout)
    page.get_by_role("button", name="End session").click()
