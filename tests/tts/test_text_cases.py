"""The normalisation case suite, one test per case (tests/tts/data/*.tsv, see
palette.tts.readings for the format and how readings are compared)."""

from pathlib import Path

import pytest

from palette.tts.readings import Case, canonical, load_cases, same_reading
from palette.tts.text import normalize

DATA = Path(__file__).parent / "data"
CASES = load_cases(DATA / "normalization_cases.tsv") + load_cases(
    DATA / "normalization_cases_heldout.tsv"
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}:{c.written}" for c in CASES])
def test_case_reads_right(case):
    spoken = normalize(case.written)
    assert same_reading(spoken, case), f"{case.written!r} -> {spoken!r}, expected {case.readings}"


def test_every_class_of_the_issue_has_cases():
    classes = {c.cls for c in CASES}
    assert classes >= {
        "cardinal",
        "ordinal",
        "decimal",
        "money",
        "date",
        "time",
        "measure",
        "telephone",
        "electronic",
        "fraction",
        "range",
        "roman",
        "serial",
        "abbreviation",
        "plain",
    }


def test_comparison_ignores_style_but_not_words():
    case = Case("cardinal", "1,105", ("one thousand one hundred and five",))
    assert same_reading("One thousand, one-hundred five.", case)
    assert not same_reading("one thousand one hundred fifty", case)
    assert canonical("seven oh five") == canonical("seven zero five")


def test_bad_case_line_is_an_error(tmp_path):
    bad = tmp_path / "cases.tsv"
    bad.write_text("money\t$5\n")
    with pytest.raises(ValueError, match="expected class"):
        load_cases(bad)
