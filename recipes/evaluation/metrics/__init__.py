"""Speech metrics for evaluating TTS output; heavy packages are imported only when a scorer
is built (``pip install 'palette-tts[eval]'``)."""

from palette.recipes.evaluation.metrics.asr import WhisperTranscriber, bundled_whisper_model
from palette.recipes.evaluation.metrics.deps import MissingDependencyError
from palette.recipes.evaluation.metrics.dnsmos import DNSMOSScorer
from palette.recipes.evaluation.metrics.speaker import (
    ResemblyzerEmbedder,
    SpeakerEmbedder,
    XVectorEmbedder,
    cosine,
    enroll_speakers,
    identify_speakers,
    load_speaker_embedder,
    speaker_id_accuracy,
)
from palette.recipes.evaluation.metrics.timing import real_time_factor, time_synthesis, timed
from palette.recipes.evaluation.metrics.wer import (
    WordErrors,
    corpus_wer,
    normalize_for_wer,
    wer,
    word_errors,
)

__all__ = [
    "DNSMOSScorer",
    "MissingDependencyError",
    "ResemblyzerEmbedder",
    "SpeakerEmbedder",
    "WhisperTranscriber",
    "WordErrors",
    "XVectorEmbedder",
    "bundled_whisper_model",
    "corpus_wer",
    "cosine",
    "enroll_speakers",
    "identify_speakers",
    "load_speaker_embedder",
    "normalize_for_wer",
    "real_time_factor",
    "speaker_id_accuracy",
    "time_synthesis",
    "timed",
    "wer",
    "word_errors",
]
