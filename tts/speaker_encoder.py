"""The pretrained speaker encoder of speaker-conditioned models (PAR stages with
``speaker_dim``): resemblyzer's GE2E d-vector (256 dims, unit length), trained on thousands of
real speakers and shipped inside its wheel. The training recipe embeds its cuts with the same
encoder (``recipes/libritts/speaker_features.py``), so a prompt's embedding here lies where the
model learnt to read it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from palette.tts.audio import resample


@lru_cache(maxsize=1)
def speaker_encoder():
    """The encoder (loaded once a process): ``name``, ``sample_rate``, ``embed(wav [S])``."""
    from palette.recipes.evaluation.metrics.speaker import ResemblyzerEmbedder

    return ResemblyzerEmbedder()


def speaker_embedding(wav: np.ndarray, sample_rate: int) -> torch.Tensor:
    """Mono ``wav [S]`` at ``sample_rate`` -> unit speaker embedding ``[256]`` float32."""
    encoder = speaker_encoder()
    x = resample(np.asarray(wav, dtype=np.float32), sample_rate, encoder.sample_rate)
    return torch.from_numpy(np.asarray(encoder.embed(x), dtype=np.float32))
