"""The contract is written once (geo/schema.py); data/README.md carries the generated tables."""

from pathlib import Path

from geo.contract import BEGIN, END, contract_markdown
from geo.schema import COUNT_KEYS, INPUTS, PROBLEM_CODES

ROOT = Path(__file__).resolve().parent.parent


def test_data_readme_carries_the_generated_contract():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == contract_markdown(), "data/README.md is stale: run `python -m geo contract`"


def test_every_input_has_a_table_and_every_field_a_row():
    md = contract_markdown()
    for name, spec in INPUTS.items():
        assert f"### {name}" in md
        for f in spec.fields:
            assert f"| `{f.name}` |" in md


def test_six_inputs_and_the_meetings_records_with_reconciling_counts():
    from geo.schema import CONTRACT, RECORDS

    assert set(INPUTS) == {"sections", "incidents", "concerns", "committees", "meetings", "surveys"}
    assert set(RECORDS) == {"actions", "attendance", "events"} and set(CONTRACT) == set(INPUTS) | set(RECORDS)
    assert set(COUNT_KEYS) == set(CONTRACT)
    assert COUNT_KEYS["incidents"] == ("loaded", "joined", "outside", "rejected")


def test_vocabulary_codes_are_unique_and_cover_the_issue_list():
    cats = INPUTS["incidents"].field("category").allowed
    assert len(cats) == len(set(cats))
    for code in (
        "accident_fatal",
        "accident_injury",
        "accident_damage",
        "traffic_ticket",
        "theft",
        "burglary",
        "robbery",
        "assault",
        "domestic_violence",
        "sexual_offence",
        "drugs",
        "public_order",
        "other",
    ):
        assert code in cats
    assert set(INPUTS["committees"].field("type").allowed) == {"LCPS", "MCPS", "ACPS"}


def test_problem_severities_are_error_or_warning():
    assert set(PROBLEM_CODES.values()) == {"error", "warning"}
