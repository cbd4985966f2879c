"""The sentence loop (``loop.speak``): sentences -> frame pieces -> chunks -> incremental
decoding with left context -> audio, for offline synthesis and streaming alike."""

from palette.streaming.loop import Speaker, Utterance, decode_chunks, speak

__all__ = ["Speaker", "Utterance", "decode_chunks", "speak"]
