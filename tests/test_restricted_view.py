"""Restricted users see officers' contacts and concerns' descriptions; only public mode leaves them out.

The ``officers_public`` and ``description_public`` flags say what may be shown *in public*. The section
profile and the Concerns page used to apply them in every mode, so a commander saw "their contacts are not
public" and "(not public)" on their own restricted dashboard.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import pytest
from dashboard_fixtures import ok, texts, tiny_dataset
from streamlit.testing.v1 import AppTest

from geo.dataset import Dataset
from geo.source import WholeSource

APP = "../dashboard.py"
CONTACT = "Arben K. (+383 49 000 111, arben.k@example.org)"
PRIVATE = "Emri i fqinjit që ankohet"


class Source(WholeSource):
    """The tiny dataset with a contact that is not public (S1) and a description that is not public (C1, S1)."""

    def fingerprint(self) -> str:
        return hashlib.sha256(b"restricted-view").hexdigest()[:16]

    def load(self) -> Dataset:
        data = tiny_dataset()
        sections = data.sections.copy()
        sections["officers"] = [[CONTACT], [], [], [], [], [], []]
        sections["officers_public"] = False
        concerns = data.concerns.copy()
        concerns["description"] = pd.array([PRIVATE, "", "", "", ""], dtype="string")
        concerns["description_public"] = False
        return replace(data, sections=sections, concerns=concerns)


def shown(page: str, public: bool, monkeypatch) -> str:
    if public:
        monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    else:
        monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = Source()
    at.session_state["lang"] = "en"
    at.run()
    at.sidebar.selectbox(key="municipality").select("Prishtinë").run()
    at.sidebar.selectbox(key="section").select("S1").run()
    at.switch_page(page).run()
    ok(at)
    frames = "\n".join(d.value.to_csv() for d in at.dataframe)
    return texts(at) + "\n" + frames


@pytest.mark.parametrize("page", ["views/section.py", "views/concerns.py"])
def test_restricted_users_see_descriptions_and_public_mode_does_not(page, monkeypatch):
    restricted = shown(page, False, monkeypatch)
    assert PRIVATE in restricted and "(not public)" not in restricted
    public = shown(page, True, monkeypatch)
    assert PRIVATE not in public and "(not public)" in public


def test_restricted_users_see_officers_contacts_and_public_mode_does_not(monkeypatch):
    restricted = shown("views/section.py", False, monkeypatch)
    assert CONTACT in restricted
    assert "the public view does not show them" in restricted
    public = shown("views/section.py", True, monkeypatch)
    assert "+383 49 000 111" not in public and "arben.k@example.org" not in public
    assert "their contacts are not public" in public
