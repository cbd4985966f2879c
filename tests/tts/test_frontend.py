import pytest

from palette.tts.frontend import TextFrontend
from palette.tts.phonemes import phonemize
from palette.tts.symbols import PAD, SymbolTable


def test_phonemes_are_ipa_with_stress_and_word_boundaries():
    tokens = phonemize("hello world.")
    text = "".join(tokens)
    assert "ˈ" in text and text.endswith(".") and text.count(" ") == 1
    assert all(len(t) == 1 for t in tokens)


def test_frontend_ids_round_trip_through_symbol_table():
    fe = TextFrontend()
    out = fe("Dr. Smith paid $3.50.")
    assert out.normalized == "doctor smith paid three dollars and fifty cents."
    assert fe.symbols.decode(out.ids) == out.phonemes


@pytest.mark.parametrize("language", ["en-gb", "fr-fr", "de", "es"])
def test_other_languages_encode_without_unknown_symbols(language, recwarn):
    out = TextFrontend(language)("bonjour le monde, ça va?")
    assert out.ids and not [w for w in recwarn if "dropped symbols" in str(w.message)]


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="no language 'xx-yy'"):
        TextFrontend("xx-yy")("hello")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_an_error(text):
    with pytest.raises(ValueError, match="empty"):
        TextFrontend()(text)


def test_text_without_anything_speakable_is_an_error():
    with pytest.warns(UserWarning):
        with pytest.raises(ValueError, match="nothing speakable"):
            TextFrontend()("😀 😀")


def test_symbol_table_is_versioned_and_serialisable():
    table = SymbolTable.default()
    assert table.version == 1 and table.id(PAD) == 0
    again = SymbolTable.from_dict(table.to_dict())
    assert again == table and again.encode(["a", "ˈ"]) == table.encode(["a", "ˈ"])


def test_symbol_table_drops_unknown_with_warning_and_rejects_bad_ids():
    table = SymbolTable(("<pad>", "a", "b"))
    with pytest.warns(UserWarning, match="'z'"):
        assert table.encode(["a", "z", "b"]) == [1, 2]
    with pytest.raises(ValueError, match="outside table"):
        table.decode([3])
    with pytest.raises(ValueError, match="duplicate"):
        SymbolTable(("a", "a"))


def test_sentences_splits_long_text():
    outs = TextFrontend().sentences("First one. Second one! Third?")
    assert [o.normalized for o in outs] == ["first one.", "second one!", "third?"]
