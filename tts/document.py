"""Long-form reading, text side: a chapter or a book (plain text or Markdown) as a stream of
sentences, each with the pause to leave after it.

    from palette.tts.document import ReadingOptions, iter_segments
    with open("book.md", encoding="utf-8") as f:
        for seg in iter_segments(f, ReadingOptions()):
            ...  # seg.text (one sentence, as written), seg.pause_after_s, seg.kind

Blocks are found line by line: paragraphs (ended by a blank line), headings (Markdown ``#`` or
underlined with ``===``/``---``, or in plain text a short line standing alone without end
punctuation), list items, block quotes, table rows; horizontal rules and scene breaks
(``* * *``) lengthen the pause before what follows. Sentences inside a block get
``sentence_pause_s``; the last one of a block gets the block's pause. Markdown syntax is not read
aloud: emphasis, inline code marks, link targets, images' addresses, footnote marks, HTML tags,
front matter, table pipes and rulers, and (by default) fenced code blocks are removed.

It is lazy: one block is held at a time (a block longer than ``max_block_chars`` is cut after
its last complete sentence), so memory stays flat however long the input. Pure functions, no
synthesis: the caller normalises and speaks each ``Segment.text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from palette.tts.text import split_sentences

PARAGRAPH, HEADING, LIST_ITEM, QUOTE, TABLE_ROW, CODE = (
    "paragraph",
    "heading",
    "list_item",
    "quote",
    "table_row",
    "code",
)


@dataclass(frozen=True)
class ReadingOptions:
    """How a document is read aloud."""

    markdown: bool = True  # strip Markdown syntax (harmless on most plain text); False: text as is
    sentence_pause_s: float = 0.3  # after a sentence inside a block
    paragraph_pause_s: float = 0.8  # after the last sentence of a paragraph or block quote
    heading_pause_s: float = 1.2  # after a heading
    list_item_pause_s: float = 0.5  # after a list item or a table row
    break_pause_s: float = 1.5  # at least this before what follows a rule or scene break
    read_code: bool = False  # read fenced code blocks (as plain sentences) instead of skipping
    max_chars: int = 250  # longest sentence piece (split_sentences' limit)
    max_block_chars: int = 4000  # a longer block is cut after its last complete sentence
    plain_heading_chars: int = 60  # plain text: a lone line up to this long, no end mark: heading


@dataclass(frozen=True)
class Segment:
    text: str  # one sentence (or piece of one), as written, Markdown removed
    pause_after_s: float  # silence to leave after it
    kind: str  # block it belongs to: paragraph, heading, list_item, quote, table_row, code


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}#{1,6}(?:\s+(.*?))?\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_LIST = re.compile(r"^\s*(?:[-*+•]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULER = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$")
_SCENE_BREAK = re.compile(r"^\s*(?:[*#~•]\s*){3,}$")
_END_MARK = re.compile(r"[.!?:;,\"')\]]$")

_INLINE = [
    (re.compile(r"<!--.*?-->"), ""),  # HTML comments
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote marks
    (re.compile(r"<(https?://[^>]+|[^@\s>]+@[^>\s]+)>"), r"\1"),  # autolinks: the address
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # HTML tags
    (re.compile(r"`+([^`]*)`+"), r"\1"),  # inline code: its text
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis *x*
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),  # emphasis _x_
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # strike-through
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # escapes
]


def strip_inline_markdown(text: str) -> str:
    """'**Bold** [link](http://x) and `code`' -> 'Bold link and code'."""
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


@dataclass
class _Block:
    kind: str
    lines: list[str]
    chars: int = 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.chars += len(line) + 1


class _Reader:
    """The state of one pass over the lines (see ``iter_segments``)."""

    def __init__(self, options: ReadingOptions):
        self.o = options
        self.block: _Block | None = None
        self.pending: Segment | None = None  # held back one segment so a break can lengthen it
        self.break_pending = False

    # -- output -------------------------------------------------------------------------------
    def _emit(self, seg: Segment) -> Iterator[Segment]:
        if self.pending is not None:
            pause = self.pending.pause_after_s
            if self.break_pending:
                pause = max(pause, self.o.break_pause_s)
            yield replace(self.pending, pause_after_s=pause)
        self.break_pending = False
        self.pending = seg

    def _block_pause(self, kind: str) -> float:
        return {
            HEADING: self.o.heading_pause_s,
            LIST_ITEM: self.o.list_item_pause_s,
            TABLE_ROW: self.o.list_item_pause_s,
        }.get(kind, self.o.paragraph_pause_s)

    def _text_of(self, block: _Block) -> str:
        joined = ""
        for line in block.lines:
            line = line.strip()
            if joined.endswith("-") and line[:1].islower() and not joined.endswith(" -"):
                joined = joined[:-1] + line  # a word hyphenated across lines
            else:
                joined = f"{joined} {line}" if joined else line
        if self.o.markdown and block.kind != CODE:
            joined = strip_inline_markdown(joined)
        return " ".join(joined.split())

    def _sentences(self, block: _Block, final: bool) -> Iterator[Segment]:
        text = self._text_of(block)
        if not any(ch.isalnum() for ch in text):
            return
        pieces = split_sentences(text, self.o.max_chars)
        if not final and len(pieces) > 1:  # keep the last, maybe unfinished, sentence
            block.lines, block.chars = [pieces[-1]], len(pieces[-1])
            pieces = pieces[:-1]
        for i, piece in enumerate(pieces):
            last = final and i == len(pieces) - 1
            pause = self._block_pause(block.kind) if last else self.o.sentence_pause_s
            yield from self._emit(Segment(piece, pause, block.kind))

    # -- blocks -------------------------------------------------------------------------------
    def flush(self) -> Iterator[Segment]:
        block, self.block = self.block, None
        if block is None or not block.lines:
            return
        if (
            block.kind == PARAGRAPH
            and len(block.lines) == 1
            and self._plain_heading(block.lines[0])
        ):
            block.kind = HEADING
        yield from self._sentences(block, final=True)

    def _plain_heading(self, line: str) -> bool:
        """A lone short line without end punctuation that starts with a capital or a digit
        ("CHAPTER IV", "The Return", "3 Methods") is a heading."""
        line = strip_inline_markdown(line.strip()) if self.o.markdown else line.strip()
        return (
            0 < len(line) <= self.o.plain_heading_chars
            and not _END_MARK.search(line)
            and (line[:1].isupper() or line[:1].isdigit())
        )

    def start(self, kind: str, first: str) -> Iterator[Segment]:
        yield from self.flush()
        self.block = _Block(kind, [])
        self.block.add(first)

    def add(self, kind: str, line: str) -> Iterator[Segment]:
        if self.block is None or self.block.kind != kind:
            yield from self.start(kind, line)
            return
        self.block.add(line)
        if self.block.chars > self.o.max_block_chars:
            yield from self._sentences(self.block, final=False)

    def scene_break(self) -> Iterator[Segment]:
        yield from self.flush()
        self.break_pending = True

    def finish(self) -> Iterator[Segment]:
        yield from self.flush()
        if self.pending is not None:
            yield self.pending
            self.pending = None


def iter_segments(lines: Iterable[str], options: ReadingOptions | None = None) -> Iterator[Segment]:
    """Sentences of a document with the pause after each (see module doc). ``lines``: any
    iterable of lines (an open file, ``text.splitlines()``); read lazily, once."""
    o = options or ReadingOptions()
    reader = _Reader(o)
    in_code = in_front_matter = False
    for n, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if not o.markdown:
            if not line.strip():
                yield from reader.flush()
            elif _SCENE_BREAK.match(line):
                yield from reader.scene_break()
            else:
                yield from reader.add(PARAGRAPH, line)
            continue
        if n == 0 and line.strip() == "---":  # YAML front matter
            in_front_matter = True
            continue
        if in_front_matter:
            in_front_matter = line.strip() not in ("---", "...")
            continue
        if _FENCE.match(line):
            in_code = not in_code
            yield from reader.flush()
            continue
        if in_code:
            if o.read_code and line.strip():
                yield from reader.add(CODE, line)
            continue
        if not line.strip():
            yield from reader.flush()
            continue
        if (
            _SETEXT.match(line)
            and reader.block is not None
            and reader.block.kind == PARAGRAPH
            and len(reader.block.lines) == 1
        ):
            reader.block.kind = HEADING
            yield from reader.flush()
            continue
        if _RULE.match(line) or _SCENE_BREAK.match(line):
            yield from reader.scene_break()
            continue
        if _LINK_DEF.match(line) or _TABLE_RULER.match(line):
            continue
        if m := _ATX.match(line):
            yield from reader.start(HEADING, m[1] or "")
            yield from reader.flush()
        elif m := _TABLE_ROW.match(line):
            cells = [c.strip() for c in m[1].split("|") if c.strip()]
            row = ", ".join(cells)
            yield from reader.start(TABLE_ROW, row + ("" if _END_MARK.search(row) else "."))
        elif m := _LIST.match(line):
            yield from reader.start(LIST_ITEM, m[1])
        elif m := _QUOTE.match(line):
            if m[1].strip():
                yield from reader.add(QUOTE, m[1])
            else:
                yield from reader.flush()
        elif reader.block is not None and reader.block.kind == LIST_ITEM and raw[:1] in " \t":
            yield from reader.add(LIST_ITEM, line)  # continuation of a list item
        else:
            yield from reader.add(PARAGRAPH, line)
    yield from reader.finish()


def count_segments(lines: Iterable[str], options: ReadingOptions | None = None) -> int:
    """How many segments ``iter_segments`` makes of ``lines`` (a cheap text-only pass, for a
    progress bar's total)."""
    return sum(1 for _ in iter_segments(lines, options))
