"""Long-form reading (palette.tts.document): blocks, pauses, Markdown removed, flat memory."""

import itertools
import tracemalloc

from palette.tts.document import (
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    QUOTE,
    TABLE_ROW,
    ReadingOptions,
    iter_segments,
    strip_inline_markdown,
)

OPTS = ReadingOptions(
    sentence_pause_s=0.3,
    paragraph_pause_s=0.8,
    heading_pause_s=1.2,
    list_item_pause_s=0.5,
    break_pause_s=1.5,
)


def read(text, options=OPTS):
    return [
        (s.text, s.pause_after_s, s.kind) for s in iter_segments(text.splitlines(True), options)
    ]


def test_paragraphs_and_sentences_get_their_pauses():
    out = read("One here. Two here.\nStill two.\n\nThree here.\n")
    assert out == [
        ("One here.", 0.3, PARAGRAPH),
        ("Two here.", 0.3, PARAGRAPH),
        ("Still two.", 0.8, PARAGRAPH),
        ("Three here.", 0.8, PARAGRAPH),
    ]


def test_markdown_headings_lists_quotes_and_tables():
    md = (
        "# Chapter *One*\n\nText.\n\nSub\n---\n\n- first\n- second\n  more\n\n"
        "> quoted\n> twice.\n\n| A | B |\n|---|:-:|\n| 1 | 2 |\n"
    )
    out = read(md)
    assert out == [
        ("Chapter One", 1.2, HEADING),
        ("Text.", 0.8, PARAGRAPH),
        ("Sub", 1.2, HEADING),
        ("first", 0.5, LIST_ITEM),
        ("second more", 0.5, LIST_ITEM),
        ("quoted twice.", 0.8, QUOTE),
        ("A, B.", 0.5, TABLE_ROW),
        ("1, 2.", 0.5, TABLE_ROW),
    ]


def test_markdown_syntax_is_not_read():
    md = (
        "---\ntitle: x\n---\nSee **this** and _that_, a [link](https://e.org/a_b) and "
        "![a cat](cat.png), `code`, ~~old~~ <b>bold</b> text[^1].\n\n```\nx = 1\n```\n"
        "[1]: https://e.org\n"
    )
    ((text, _, _),) = read(md)
    assert text == "See this and that, a link and a cat, code, old bold text."


def test_code_is_read_when_asked():
    out = read("```\nprint(1)\n```\n", ReadingOptions(read_code=True))
    assert [t for t, _, _ in out] == ["print(1)"]


def test_snake_case_and_multiplication_survive():
    assert strip_inline_markdown("call my_var_name with 2*3*4") == "call my_var_name with 2*3*4"


def test_scene_break_lengthens_the_pause_before_it():
    out = read("Before.\n\n* * *\n\nAfter.\n")
    assert out == [("Before.", 1.5, PARAGRAPH), ("After.", 0.8, PARAGRAPH)]


def test_plain_text_headings_and_hyphenation():
    text = "CHAPTER IV\n\nThe night was long and cold-\nly quiet. It ended.\n"
    out = read(text, ReadingOptions(markdown=False))
    assert out[0] == ("CHAPTER IV", OPTS.heading_pause_s, HEADING)
    assert out[1][0] == "The night was long and coldly quiet."


def test_a_long_block_is_cut_at_sentences_and_loses_nothing():
    sentences = [f"Sentence number {i} is here." for i in range(500)]
    out = list(iter_segments([" ".join(sentences)], ReadingOptions(max_block_chars=500)))
    assert [s.text for s in out] == sentences
    assert out[-1].pause_after_s == ReadingOptions().paragraph_pause_s


def test_nothing_speakable_yields_nothing():
    assert read("\n\n---\n\n```\ncode\n```\n") == []


def _book(words: int):
    """A generated book: chapters, paragraphs of ten-word sentences, a list now and then."""
    sentence = "The quick brown fox jumps over the lazy sleeping dog."
    per_line = 10
    n = 0
    chapter = 0
    while n < words:
        if n % 5000 == 0:
            chapter += 1
            yield f"# Chapter {chapter}\n"
            yield "\n"
        yield (sentence + " ") * 4 + "\n"
        n += per_line * 4
        if n % 400 == 0:
            yield "\n"
            yield "- a list item here\n"
            yield "\n"


def _peak_kib(words: int) -> tuple[float, int]:
    tracemalloc.start()
    count = sum(1 for _ in iter_segments(_book(words)))
    peak = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    return peak, count


def test_memory_is_flat_on_a_50000_word_book():
    peak_small, n_small = _peak_kib(5_000)
    peak_big, n_big = _peak_kib(50_000)
    assert n_big > 9 * n_small
    assert peak_big < 1.5 * peak_small + 64, (peak_small, peak_big)


def test_it_is_lazy():
    endless = itertools.cycle(["A sentence here.\n", "\n"])
    first = list(itertools.islice(iter_segments(endless), 3))
    assert [s.text for s in first] == ["A sentence here."] * 3
