"""ONNX export of the model stages and the codec, and the onnxruntime stand-ins that run them
below the sentence loop (``export`` needs onnx + onnxscript, the runner onnxruntime; neither
is imported until used)."""

from palette.streaming.onnx.ar_runtime import OrtCodecLM
from palette.streaming.onnx.runtime import (
    OrtCodec,
    OrtOptions,
    OrtPARModel,
    choose_runtime,
    graph_stages,
    ort_available,
    ort_stand_ins,
)

__all__ = [
    "OrtCodec",
    "OrtCodecLM",
    "OrtOptions",
    "OrtPARModel",
    "choose_runtime",
    "graph_stages",
    "ort_available",
    "ort_stand_ins",
]
