import dataclasses

import numpy as np
import pytest
import torch

from palette.streaming.loop import rechunk
from palette.tts.synthesizer import SynthesisOptions


@pytest.mark.parametrize("family", ["ar", "par", "kalle"])
def test_streamed_audio_equals_offline_audio(synth, voice, family):
    options = SynthesisOptions(
        family=family, seed=5, refine_iterations=0, duration=0.9, chunk_frames=7
    )
    chunks = list(synth.stream("One two. Three.", voice, options=options))
    offline = synth.synthesize("One two. Three.", voice, options=options)
    assert len(chunks) > 4  # really chunked
    streamed = np.concatenate(chunks)
    assert streamed.shape == offline.samples.shape
    assert np.abs(streamed - offline.samples).max() < 1e-4


def test_without_enough_decoder_context_streaming_differs(synth, voice):
    options = SynthesisOptions(
        family="par", refine_iterations=0, duration=0.9, chunk_frames=5, context_frames=1
    )
    streamed = np.concatenate(list(synth.stream("One two.", voice, options=options)))
    full = dataclasses.replace(options, context_frames=50)
    offline = synth.synthesize("One two.", voice, options=full).samples
    assert np.abs(streamed - offline).max() > 1e-3


def test_rechunk_regroups_without_losing_frames():
    pieces = [torch.arange(3)[None], torch.arange(3, 4)[None], torch.arange(4, 11)[None]]
    out = list(rechunk(iter(pieces), 4))
    assert [c.shape[-1] for c in out] == [4, 4, 3]
    assert torch.equal(torch.cat(out, -1), torch.arange(11)[None])
