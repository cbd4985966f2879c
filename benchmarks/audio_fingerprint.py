"""Fingerprints of the audio every family makes (offline and streamed) for fixed seeds: run it
before and after a restructuring and compare; equal hashes mean bit-identical audio.

    python benchmarks/audio_fingerprint.py out.json

Tiny seeded random models of every family (the test fixture's bundle) and the shipped default
model. The import falls back to the pre-namespace layout so that older commits can be measured
with the same script (``git worktree add /tmp/old COMMIT`` and run it there).
"""

import hashlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
try:
    from palette.tts.synthesizer import SynthesisOptions, Synthesizer
except ImportError:
    from tts.synthesizer import SynthesisOptions, Synthesizer
ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("c", ROOT / "tests" / "tts" / "conftest.py")
c = importlib.util.module_from_spec(spec)
spec.loader.exec_module(c)
out = {}


def h(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()[:16]


with tempfile.TemporaryDirectory() as d:
    root = c.make_bundle(Path(d))
    synth = Synthesizer.from_pretrained(root)
    voice = synth.encode_voice((c.speech_like(2.0), c.SR), "hello there")
    for fam in ["ar", "par", "kalle"]:
        for seed in [0, 3]:
            for dur in [None, 0.5]:
                o = SynthesisOptions(family=fam, seed=seed, duration=dur)
                a = synth.synthesize("One two. Three four five.", voice, options=o)
                s = np.concatenate(
                    list(synth.stream("One two. Three four five.", voice, options=o))
                )
                out[f"tiny/{fam}/{seed}/{dur}"] = [h(a.samples), len(a.samples), h(s), len(s)]
synth = Synthesizer.from_pretrained("palette-mini-en")
voice = synth.encode_voice(
    str(ROOT / "demos" / "prompt.wav"), (ROOT / "demos" / "prompt.txt").read_text()
)
for seed in [0, 1]:
    o = SynthesisOptions(seed=seed)
    a = synth.synthesize("Dr. Smith paid $3.50 on March 5th, 2024. It was cheap.", voice, options=o)
    s = np.concatenate(
        list(
            synth.stream("Dr. Smith paid $3.50 on March 5th, 2024. It was cheap.", voice, options=o)
        )
    )
    out[f"mini/{seed}"] = [h(a.samples), len(a.samples), h(s), len(s)]
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(json.dumps(out, indent=1))
