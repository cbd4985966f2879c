"""``palette text``: normalisation with the path that read each span, and --document."""

import json

from palette.tts.cli import main


def test_text_shows_which_path_read_each_span(capsys):
    assert main(["text", "Dr. Smith paid $3.50 for 12kg."]) == 0
    out = capsys.readouterr().out
    assert (
        "normalized: doctor smith paid three dollars and fifty cents for twelve kilograms." in out
    )
    assert "$3.50 -> three dollars and fifty cents [rules/money]" in out
    assert "12kg -> twelve kilograms [library" in out


def test_text_json_has_spans_and_rules_only_skips_the_library(capsys):
    assert main(["text", "--json", "--rules-only", "I have 42 apples."]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["normalized"] == "i have forty-two apples."
    assert {s["path"] for s in record["spans"]} == {"rules"}


def test_text_document_lists_sentences_with_pauses(capsys):
    assert main(["text", "--document", "--json", "# Title\n\nOne. Two.\n\n- item\n"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["text"], r["kind"]) for r in rows] == [
        ("Title", "heading"),
        ("One.", "paragraph"),
        ("Two.", "paragraph"),
        ("item", "list_item"),
    ]
    assert rows[0]["pause_after_s"] > rows[1]["pause_after_s"]
