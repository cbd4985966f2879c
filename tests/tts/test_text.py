import pytest

from palette.tts.text import normalize, split_sentences

CASES = [
    # (written, spoken) — one per normalisation rule
    (
        "Dr. Smith paid $3.50 on March 5th, 2024.",
        "doctor smith paid three dollars and fifty cents on march fifth, twenty twenty-four.",
    ),
    ("I have 42 apples.", "i have forty-two apples."),
    ("It weighs 1,234 kg.", "it weighs one thousand two hundred and thirty-four kilograms."),
    ("Pi is 3.14", "pi is three point one four"),
    ("It was -5 outside", "it was minus five outside"),
    ("She came 1st and he 22nd", "she came first and he twenty-second"),
    ("Born in 1999", "born in nineteen ninety-nine"),
    ("in 2005", "in two thousand and five"),
    ("In 1984, he left", "in nineteen eighty-four, he left"),
    ("the 1990s", "the nineteen nineties"),
    ("It costs €20", "it costs twenty euros"),
    ("£1.01 left", "one pound and one penny left"),
    ("$0.99", "ninety-nine cents"),
    ("$1", "one dollar"),
    ("$1.5 million", "one point five million dollars"),
    ("a 50% rise", "a fifty percent rise"),
    ("at 10:30", "at ten thirty"),
    ("at 7:05 a.m.", "at seven oh five a m."),
    ("at 7 pm", "at seven p m"),
    ("at 12:00", "at twelve o'clock"),
    ("on 4 July", "on the fourth of july"),
    ("Sept. 3", "september third"),
    ("on 2024-03-05", "on march fifth, twenty twenty-four"),
    ("on 12/25/2023", "on december twenty-fifth, twenty twenty-three"),
    ("Mr. and Mrs. Jones", "mister and missus jones"),
    ("St. Paul lives on Baker St.", "saint paul lives on baker street."),
    ("apples, pears, etc", "apples, pears, etc"),
    ("red, blue etc. and", "red, blue et cetera and"),
    ("fruit, e.g. apples, i.e. food", "fruit, for example apples, that is food"),
    ("Prof. X vs. Y", "professor x versus y"),
    ("the U.S.A. today", "the u s a today"),
    ("Tom & Jerry", "tom and jerry"),
    ("2 + 2", "two plus two"),
    ("Flat 221B", "flat two hundred and twenty-one b"),
    ("“Quoted” — dash", '"quoted" - dash'),
]


@pytest.mark.parametrize("written,spoken", CASES)
def test_normalize(written, spoken):
    assert normalize(written) == spoken


def test_unspeakable_characters_dropped_with_warning_naming_them():
    with pytest.warns(UserWarning, match="GRINNING FACE"):
        assert normalize("hi 😀 there") == "hi there"


def test_normalized_text_has_no_digits_or_symbols():
    text = normalize("On 3/4/2021 at 9:15 pm, 3 of 10 people (30%) paid $12.40 & left.")
    assert not any(ch.isdigit() for ch in text)
    assert not set("$%&/") & set(text)


def test_split_sentences_keeps_abbreviations_and_decimals():
    text = "Dr. Smith paid $3.50. He left! Did he? Yes, the U.S.A. is big."
    assert split_sentences(text) == [
        "Dr. Smith paid $3.50.",
        "He left!",
        "Did he?",
        "Yes, the U.S.A. is big.",
    ]


def test_split_long_sentence_prefers_clauses_and_respects_limit():
    long = ", ".join([f"this is clause number {i} of many" for i in range(20)]) + "."
    pieces = split_sentences(long, max_chars=80)
    assert len(pieces) > 1 and all(len(p) <= 80 for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)  # cut at clause ends
    assert " ".join(pieces) == long


def test_split_word_longer_than_limit_is_not_lost():
    text = "a " * 100 + "b"
    assert " ".join(split_sentences(text, max_chars=30)).split() == text.split()
