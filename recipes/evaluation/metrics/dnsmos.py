"""DNSMOS (Microsoft's non-intrusive speech-quality predictor) through ``speechmos``.

The ONNX models ship inside the ``speechmos`` package. Input is 16 kHz mono; clips shorter
than 9.01 s are repeated to that length and longer ones are scored in 9 s windows with a 1 s
hop and averaged (speechmos' protocol). Scores are MOS-like, 1 (bad) to 5 (excellent):
``ovrl`` overall, ``sig`` speech signal, ``bak`` background noise, ``p808`` the P.808 model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from palette.recipes.evaluation.metrics.deps import require

SAMPLE_RATE = 16000
log = logging.getLogger(__name__)


class DNSMOSScorer:
    """Score 16 kHz waveforms ``[S]``; ``personalized`` selects the personalised-DNSMOS model
    (which penalises interfering talkers); ``device`` "cuda" uses onnxruntime's CUDA provider
    when the installed onnxruntime has one."""

    sample_rate = SAMPLE_RATE

    def __init__(self, personalized: bool = False, threads: int = 0, device: str = "cpu") -> None:
        dnsmos = require("speechmos.dnsmos", "speechmos", "DNSMOS")
        ort = require("onnxruntime", "onnxruntime", "DNSMOS")
        root = Path(dnsmos.__file__).parent
        primary = (
            root / ("pdnsmos_models" if personalized else "dnsmos_models") / "sig_bak_ovr.onnx"
        )
        p808 = root / "dnsmos_models" / "model_v8.onnx"
        for path in (primary, p808):
            if not path.is_file():
                raise FileNotFoundError(f"speechmos is installed but lacks its model {path}")
        self.name = "dnsmos-personalized" if personalized else "dnsmos"
        self.personalized = personalized
        # the package's scorer, with sessions built here so that the thread count is ours
        self._scorer = dnsmos.DNSMOS.__new__(dnsmos.DNSMOS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" in ort.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            else:
                log.warning("DNSMOS runs on the CPU: this onnxruntime has no CUDA provider")
        self._scorer.primary_model_path = str(primary)
        self._scorer.onnx_sess = ort.InferenceSession(str(primary), options, providers=providers)
        self._scorer.p808_onnx_sess = ort.InferenceSession(str(p808), options, providers=providers)

    def score(self, wav: np.ndarray) -> dict[str, float]:
        """``[S]`` at 16 kHz -> ``{"ovrl", "sig", "bak", "p808"}``."""
        wav = np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0)  # speechmos rejects |x| > 1
        if wav.size == 0:
            raise ValueError("DNSMOS cannot score empty audio")
        out = self._scorer(wav, SAMPLE_RATE, self.personalized)
        return {k: float(out[f"{k}_mos"]) for k in ("ovrl", "sig", "bak", "p808")}
