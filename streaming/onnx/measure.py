"""Which runtime is faster for a model on this machine: ``palette export`` times the model's
default family end to end on PyTorch and on onnxruntime, in one process, with the same seed and
threads, and records the result in the graphs' manifest; ``runtime="auto"`` reads it.

The voice is a synthetic voiced signal (no file needed); the text is one sentence. The best of
``repeats`` runs counts (the first run of each runtime also warms it up)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasureOptions:
    text: str = "The quick brown fox jumps over the lazy dog, and the band plays on."
    prompt_seconds: float = 3.0  # of the synthetic voice
    repeats: int = 3  # runs per runtime (best counts)


def voiced_signal(seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """A voiced, syllable-rate-modulated harmonic tone ``[S]`` that passes the prompt checks."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    noise = 0.003 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.1 * voiced * envelope + noise).astype(np.float32)


def measure_runtimes(directory: str | Path, options: MeasureOptions = MeasureOptions()) -> dict:
    """Real-time factors of the default family on both runtimes: ``{"family", "threads",
    "torch_rtf", "onnx_rtf"}``."""
    from palette.tts.synthesizer import Synthesizer

    rtf = {}
    family = precision = None
    for runtime in ("torch", "onnx"):
        synth = Synthesizer.from_pretrained(directory, runtime=runtime)
        family = synth.bundle.default_family
        if runtime == "torch":
            precision = "bf16" if synth.compute_dtype == torch.bfloat16 else "fp32"
        sr = synth.sample_rate
        voice = synth.encode_voice((voiced_signal(options.prompt_seconds, sr), sr), "hello there")
        best = float("inf")
        for _ in range(options.repeats):
            start = time.perf_counter()
            audio = synth.synthesize(options.text, voice)
            best = min(best, (time.perf_counter() - start) / max(audio.duration, 1e-3))
        rtf[runtime] = best
    result = {
        "family": family,
        "threads": torch.get_num_threads(),
        "torch_precision": precision,
        "torch_rtf": round(rtf["torch"], 4),
        "onnx_rtf": round(rtf["onnx"], 4),
    }
    log.info(
        "measured the %s family: RTF %.3f on PyTorch, %.3f on onnxruntime (%d threads)",
        family,
        rtf["torch"],
        rtf["onnx"],
        result["threads"],
    )
    return result
