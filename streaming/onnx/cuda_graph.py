"""The AR step graph replayed as CUDA graphs (onnxruntime's ``enable_cuda_graph``).

A captured CUDA graph replays the kernels of one run with the same device addresses, so every
input and output of a captured step lives in a buffer of its own that is filled in place
(``OrtValue.update_inplace``) before the replay. One graph is captured per shape that repeats
thousands of times in a sentence (``CudaGraphCore.shapes``: the decode step ``T = 1`` and the
verification step ``T = K + 1``) and per parity of the ping-pong cache (the pair read and the
pair written swap every step, and a graph's addresses are fixed): graph ids ``(batch, T,
max_len, parity)``. Other shapes (the prefill of each prompt length) run uncaptured
(``gpu_graph_id = -1``) on the same cache buffers.

The cache buffers belong to the core, one pair of pairs per ``(batch, max_len)``, not to each
``KVCache``: a new sentence reuses them (rows past its length are masked, so what an earlier
sentence left there is never read). A core therefore serves one decode at a time, which the
sentence loop does. On a session that does not run on CUDA (no onnxruntime-gpu, no device)
``cuda_graph_core`` logs a warning naming the provider and gives the plain ``StaticCacheCore``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from palette.models.config import LMConfig
from palette.models.transformer import KVCache
from palette.streaming.onnx.ar_runtime import CacheBuffers, StaticCacheCore
from palette.streaming.onnx.runtime import Graph

log = logging.getLogger(__name__)
CUDA = "CUDAExecutionProvider"


@dataclass
class Slot:
    """Device buffers of one captured shape: the step's inputs and its states output."""

    inputs: dict  # name -> OrtValue
    states: object  # OrtValue [B, T, C]


class CudaGraphCore(StaticCacheCore):
    """``StaticCacheCore`` whose steps of ``shapes`` (step lengths ``T``) replay CUDA graphs;
    the same call: ``(x [B, T, C], positions [B, T], mask [B, 1, T, S], cache) -> states``."""

    def __init__(self, graph: Graph, config: LMConfig, shapes: tuple[int, ...] = (1,)):
        import onnxruntime as ort

        super().__init__(graph, config)
        if graph.provider != CUDA:
            raise ValueError(f"CUDA graphs need {CUDA}; this session runs on {graph.provider}")
        self.shapes = tuple(shapes)
        self.run_options = ort.RunOptions()  # the uncaptured steps (prefill)
        self.run_options.add_run_config_entry("gpu_graph_id", "-1")
        self._pool: dict[tuple[int, int], CacheBuffers] = {}
        self._slots: dict[tuple[int, int, int], Slot] = {}
        self._ids: dict[tuple[int, int, int, int], int] = {}

    def buffers(self, cache: KVCache, batch: int) -> CacheBuffers:
        key = (batch, cache.max_len)
        if key not in self._pool:
            core = self.config
            shape = (core.layers, batch, core.heads, cache.max_len, core.dim // core.heads)
            self._pool[key] = CacheBuffers(shape, self.dtype, self.device)
        return self._pool[key]

    def slot(self, B: int, T: int, M: int) -> Slot:
        import onnxruntime as ort

        key = (B, T, M)
        if key not in self._slots:
            g = self.graph
            shapes = {
                "x": ((B, T, self.config.dim), self.dtype),
                "positions": ((B, T), np.int64),
                "mask": ((B, 1, T, M), np.bool_),
                "cache_position": ((), np.int64),
            }
            inputs = {
                name: ort.OrtValue.ortvalue_from_shape_and_type(shape, dtype, self.device, 0)
                for name, (shape, dtype) in shapes.items()
                if name in g.inputs
            }
            states = ort.OrtValue.ortvalue_from_shape_and_type(
                (B, T, self.config.dim), self.dtype, self.device, 0
            )
            self._slots[key] = Slot(inputs, states)
        return self._slots[key]

    def graph_id(self, B: int, T: int, M: int, parity: int) -> int:
        """Positive onnxruntime graph id of a captured shape (ids start at 1)."""
        return self._ids.setdefault((B, T, M, parity), len(self._ids) + 1)

    def bind_step(self, binding, values: dict, start: int, buffers: CacheBuffers):
        """Steps of ``shapes``: inputs copied into the captured shape's own buffers, states
        into its output buffer, run under the graph id of the shape and cache parity; other
        steps as on the plain core (uncaptured)."""
        import onnxruntime as ort

        B, T, _ = values["x"].shape
        if T not in self.shapes:
            return super().bind_step(binding, values, start, buffers)
        M = values["mask"].shape[-1]
        slot, g = self.slot(B, T, M), self.graph
        for name, value in slot.inputs.items():
            host = g.cast(name, values[name]) if name in values else np.array(start, np.int64)
            value.update_inplace(np.ascontiguousarray(host))
            binding.bind_ortvalue_input(name, value)
        binding.bind_ortvalue_output("states", slot.states)
        parity = int(buffers.read[0].data_ptr() > buffers.write[0].data_ptr())
        run = ort.RunOptions()
        run.add_run_config_entry("gpu_graph_id", str(self.graph_id(B, T, M, parity)))
        return slot.states.numpy, run


def cuda_graph_core(graph: Graph, config: LMConfig, shapes: tuple[int, ...]) -> StaticCacheCore:
    """A ``CudaGraphCore`` where ``graph`` runs on CUDA, else (with a warning naming the
    provider in use) the plain ``StaticCacheCore``."""
    if graph.provider != CUDA:
        log.warning(
            "onnxruntime: CUDA graphs asked for, but %s runs on %s; stepping without them",
            graph.name,
            graph.provider,
        )
        return StaticCacheCore(graph, config)
    return CudaGraphCore(graph, config, shapes)
