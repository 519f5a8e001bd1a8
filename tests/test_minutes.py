"""A meeting's minutes (geo/minutes.py, ``python -m geo minutes``): what the restricted minutes print, what the
public ones leave out or perturb, escaping, the three languages, and the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from dashboard_fixtures import TEST_SECRET, public_policy
from meeting_fixtures import HELD, TODAY, write_files

from geo import db, dbimport, minutes, store
from geo import meetings as mt

REPO = Path(__file__).resolve().parent.parent
ME = "secretary@example.invalid"
EVIL = "<script>alert(1)</script> {{ 7*7 }}"


@pytest.fixture
def meeting(tmp_path):
    """An embedded database and a closed meeting with a public concern, a private one, a sensitive one and a
    small attendance group (two Roma)."""
    url = f"sqlite:///{tmp_path / 'db' / 'dashboard.sqlite3'}"
    eng = db.engine(url=url)
    assert dbimport.run(eng, write_files(tmp_path / "files")).ok
    m = mt.open_meeting(eng, "L1", HELD, actor=ME, key=mt.new_key(), today=TODAY).record_id
    mt.record_attendance(
        eng, m, 30, {"women": 12, "men": 18, "albanian": 28, "roma": 2}, version=None, actor=ME, key=mt.new_key()
    )
    add = dict(actor=ME, today=TODAY)
    lights = mt.add_concern(eng, m, "public_lighting", "Street lights out", True, section_id="S1", key="1", **add)
    mt.add_concern(eng, m, "road_safety", "Private words about a neighbour", False, section_id="S2", key="2", **add)
    violence = mt.add_concern(eng, m, "domestic_violence", "SENSITIVE-TEXT", True, section_id="S1", key="3", **add)
    mt.add_concern(eng, m, "other", EVIL, True, section_id="S2", key="4", **add)
    mt.add_action(
        eng, lights.record_id, "Replace the lamps", "municipality", due_on=TODAY, meeting_id=m, key="5", **add
    )
    mt.add_action(eng, violence.record_id, "SENSITIVE-ACTION", "police", meeting_id=m, key="6", **add)
    k1 = mt.get(eng, "concern", "K1")
    mt.change_status(eng, "K1", "in_progress", version=k1["version"], meeting_id=m, actor=ME, key="7", today=TODAY)
    mt.close_meeting(eng, m, version=1, actor=ME, key="8")
    return url, eng, m


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_restricted_minutes_print_everything_recorded(meeting):
    _url, eng, m = meeting
    sections = store.read(eng, ["sections"])[1]["sections"].frame
    content = minutes.minutes_content(mt.meeting_records(eng, m), "en", sections=sections)
    text = _pdf_text(minutes.to_pdf(content))
    for expected in (
        "RESTRICTED",
        "KLSB Qendra",
        "Street lights out",
        "Private words about a neighbour",
        "SENSITIVE-TEXT",
        "SENSITIVE-ACTION",
        "Replace the lamps",
        "Municipality",
        "Roma 2",
        "Women 12",
        "Open → In progress",
        "Sektori S1",
    ):
        assert expected in text, expected
    assert [row[0] for row in content.concerns] == ["1", "2", "3", "4"]
    assert len(pypdf.PdfReader(io.BytesIO(minutes.to_pdf(content))).pages) == 1


def test_public_minutes_leave_out_the_sensitive_concern_and_perturb_small_groups(meeting):
    _url, eng, m = meeting
    policy = public_policy()
    content = minutes.minutes_content(mt.meeting_records(eng, m), "en", policy)
    text = _pdf_text(minutes.to_pdf(content))
    assert "PUBLIC" in text and "RESTRICTED" not in text
    assert "SENSITIVE-TEXT" not in text and "SENSITIVE-ACTION" not in text and "Domestic violence" not in text
    assert "Private words" not in text and "(not public)" in text and "Street lights out" in text
    # the sensitive concern is not counted: three concerns, numbered 1 … 3 with no gap
    assert [row[0] for row in content.concerns] == ["1", "2", "3"]
    assert [row[1] for row in content.actions] == ["Replace the lamps"]
    # each group one cell keyed by the meeting and the group; two Roma are "fewer than 5"
    published = policy.attendance(m, {"women": 12, "men": 18, "albanian": 28, "roma": 2})
    assert published == public_policy().attendance(m, {"women": 12, "men": 18, "albanian": 28, "roma": 2})
    assert dict(content.attendance)["Roma"] == "fewer than 5" and "Roma 2" not in text
    assert dict(content.attendance)["Women"] == str(published["women"])
    assert "Public figures are adjusted slightly" in text


def test_the_keys_of_attendance_groups_depend_on_the_meeting_and_the_group():
    from geo.public import attendance_keys

    keys = {
        (m, g): int(attendance_keys(m, [g], TEST_SECRET)[0]) for m in ("m-1", "m-2", "m-3") for g in ("roma", "men")
    }
    assert len(set(keys.values())) > 1
    assert int(attendance_keys("m-1", ["roma"], TEST_SECRET)[0]) == keys[("m-1", "roma")]  # the same every time
    with pytest.raises(ValueError, match="secret"):
        attendance_keys("m-1", ["roma"], "")


def test_text_is_escaped_in_html_and_printed_as_typed_in_the_pdf(meeting):
    _url, eng, m = meeting
    content = minutes.minutes_content(mt.meeting_records(eng, m), "en")
    page = minutes.to_html(content)
    assert "<script>" not in page and "{{" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#123;&#123; 7*7 &#125;&#125;" in page
    assert "<script>alert(1)</script>" in _pdf_text(minutes.to_pdf(content))


@pytest.mark.parametrize(
    ("lang", "title", "status"),
    [("sq", "Procesverbali i takimit", "Në trajtim"), ("sr", "Zapisnik sa sastanka", "U toku")],
)
def test_minutes_in_albanian_and_serbian(meeting, lang, title, status):
    _url, eng, m = meeting
    text = _pdf_text(minutes.to_pdf(minutes.minutes_content(mt.meeting_records(eng, m), lang)))
    assert title in text and status in text


def test_the_command_line_writes_minutes_and_public_mode_forces_the_public_ones(meeting, tmp_path):
    url, _eng, m = meeting
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")} | {"DASHBOARD_DATABASE_URL": url}
    run = [sys.executable, "-m", "geo", "minutes", "--meeting", m, "--lang", "en"]

    def call(*args, **more):
        return subprocess.run(
            [*run, *args], cwd=REPO, env=env | more, capture_output=True, text=True, timeout=120, check=False
        )

    out = call("--out", str(tmp_path / "r.pdf"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SENSITIVE-TEXT" in _pdf_text((tmp_path / "r.pdf").read_bytes())
    public = {"DASHBOARD_PUBLIC": "1", "DASHBOARD_PUBLIC_SECRET": TEST_SECRET}
    out = call("--out", str(tmp_path / "p.html"), **public)  # no --public: the deployment decides
    assert out.returncode == 0 and out.stdout.startswith("PUBLIC"), out.stderr[-2000:]
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "SENSITIVE-TEXT" not in page and "Street lights out" in page
    out = call("--out", str(tmp_path / "x.pdf"), "--public")  # --public without the secret: how to set it
    assert out.returncode == 2 and "DASHBOARD_PUBLIC_SECRET" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "geo", "minutes", "--meeting", "nope", "--lang", "en", "--out", str(tmp_path / "n.pdf")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "no meeting 'nope'" in out.stderr and "Traceback" not in out.stderr
