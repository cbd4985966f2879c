"""onnxruntime stand-in for the autoregressive ``CodecLM`` (families ``ar`` and ``kalle``).

``OrtCodecLM`` has what ``ARGenerator``, ``SpeculativeARGenerator`` and the families call
(``run``, ``extend``, ``step_inputs``, ``phones``, ``log_durations``, ``draft_logits``,
``frames.logits``/``frames.predict``, ``config``, ``discrete``, ``draft``), so they run
unchanged on the graphs of ``streaming.onnx.ar_graphs``. ``run`` and ``extend`` are
``CodecLM``'s own: they assemble ``[text ; BOS ; steps]``, positions and masks exactly as on
PyTorch and hand them to ``core``, which is the static-cache step graph here.

The generator's ``KVCache`` keeps its ``length`` (and ``rollback``, which is free: rows past the
kept length are masked out and overwritten by the next step), while the cache itself lives in
two pairs of onnxruntime buffers per ``KVCache``, on the session's device: a step reads one
pair and writes the other through IOBinding, then they swap, so an output never aliases its
input and the cache never crosses to the host (CUDA) or is copied by the binding (CPU).
"""

from __future__ import annotations

import json
import weakref

import numpy as np
import torch
import torch.nn.functional as F

from palette.models.codec_lm import CodecLM
from palette.models.config import LMConfig
from palette.models.speaker import SpeakerConditioned
from palette.models.transformer import KVCache
from palette.streaming.onnx.runtime import Graph

AR_GRAPHS = ("text", "frames", "head", "phones", "durations", "speaker", "draft", "gaussian_draft")
# (suffixes: <stage>_<x>)
DEVICES = {"CUDAExecutionProvider": "cuda", "CPUExecutionProvider": "cpu"}


class CacheBuffers:
    """Ping-pong cache buffers ``[L, B, H, M, Dh]`` of one ``KVCache`` on ``device``:
    ``read`` holds the cache, ``write`` receives the next step's."""

    def __init__(self, shape: tuple[int, ...], dtype, device: str):
        import onnxruntime as ort

        self._host = [np.zeros(shape, dtype) for _ in range(4)]  # CPU values share these
        pairs = [ort.OrtValue.ortvalue_from_numpy(a, device, 0) for a in self._host]
        self.read, self.write = tuple(pairs[:2]), tuple(pairs[2:])

    def swap(self) -> None:
        self.read, self.write = self.write, self.read


class StaticCacheCore:
    """The step graph as ``CodecLM.core``: ``(x [B, T, C], positions [B, T], mask [B, 1, T, S],
    cache) -> states [B, T, C]``; ``mask`` covers the ``S = cache.length + T`` keys as on
    PyTorch and is padded here to the cache's ``max_len``. Without a cache the call has a
    scratch cache of its own (the ``use_cache=False`` reference path)."""

    def __init__(self, graph: Graph, config: LMConfig):
        self.graph, self.config = graph, config.transformer
        self.device = DEVICES.get(graph.provider, "cpu")
        self.dtype = graph.float_inputs["keys"]
        self.run_options = None  # onnxruntime RunOptions of every step
        self._buffers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def buffers(self, cache: KVCache, batch: int) -> CacheBuffers:
        if cache not in self._buffers:
            core = self.config
            shape = (core.layers, batch, core.heads, cache.max_len, core.dim // core.heads)
            self._buffers[cache] = CacheBuffers(shape, self.dtype, self.device)
        return self._buffers[cache]

    def __call__(self, x, positions, mask, cache: KVCache | None = None) -> torch.Tensor:
        B, T, _ = x.shape
        if cache is None:
            cache = KVCache(self.config, B, T)
        start, M = cache.length, cache.max_len
        if start + T > M:
            raise RuntimeError(f"KV cache full: {start + T} positions > max_len {M}")
        mask = F.pad(mask.expand(B, 1, T, mask.shape[-1]), (0, M - mask.shape[-1]), value=False)
        buffers = self.buffers(cache, B)
        binding = self.graph.session.io_binding()
        values = {"x": x, "positions": positions, "mask": mask}
        fetch, run_options = self.bind_step(binding, values, start, buffers)
        for name, value in zip(("keys", "values"), buffers.read, strict=True):
            binding.bind_ortvalue_input(name, value)
        for name, value in zip(("new_keys", "new_values"), buffers.write, strict=True):
            binding.bind_ortvalue_output(name, value)
        self.graph.session.run_with_iobinding(binding, run_options)
        states = fetch()
        buffers.swap()
        cache.advance(T)
        return torch.from_numpy(states.astype(np.float32, copy=False))

    def bind_step(self, binding, values: dict, start: int, buffers: CacheBuffers):
        """Bind the step's own inputs (``values``: x, positions, padded mask; the cache position
        ``start``) and its ``states`` output; the cache buffers are bound by the caller.
        -> ``(fetch, run_options)``: ``fetch()`` gives the states as numpy after the run."""
        g = self.graph
        for name, value in values.items():
            binding.bind_cpu_input(name, g.cast(name, value))
        binding.bind_cpu_input("cache_position", np.array(start, dtype=np.int64))
        binding.bind_output("states", self.device)  # first output: get_outputs() keeps bind order
        return (lambda: binding.get_outputs()[0].numpy()), self.run_options


class OrtFrames:
    """``CodecLM.frames`` on the frames and head graphs: ``to_steps``, ``logits`` (ar),
    ``predict`` (kalle), ``eos``, ``patch``."""

    def __init__(self, frames: Graph, head: Graph, config: LMConfig):
        self.frames_graph, self.head_graph = frames, head
        self.patch, self.cardinality, self.dim = (
            config.patch,
            config.cardinality,
            config.transformer.dim,
        )
        self.eos = config.cardinality
        self.discrete = config.family == "ar"

    def to_steps(self, frames: torch.Tensor) -> torch.Tensor:
        """codes ``[B, T]`` or latents ``[B, D, T]`` (T a multiple of patch) -> ``[B, T/P, C]``."""
        S = frames.shape[-1] // self.patch
        if S == 0:
            return torch.zeros(frames.shape[0], 0, self.dim)
        grouped = frames.reshape(*frames.shape[:-1], S, self.patch)
        return _torch(self.frames_graph.run(frames=grouped))[0]

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """states ``[B, S, C]`` -> logits ``[B, S, P, K + 1]``."""
        return _torch(self.head_graph.run(states=h))[0]

    def predict(self, h: torch.Tensor):
        """states ``[B, S, C]`` -> mean, logstd ``[B, S, P, D]``, stop logit ``[B, S]``."""
        mean, logstd, stop = _torch(self.head_graph.run(states=h))
        return mean, logstd, stop


def _torch(outputs) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(o) for o in outputs)


class OrtCodecLM(SpeakerConditioned):
    """An autoregressive stage on onnxruntime; ``graphs``: the step graph under ``"step"`` and
    the others of ``AR_GRAPHS`` that the stage has. Takes and returns torch tensors."""

    run = CodecLM.run  # the same sequence assembly as on PyTorch, over self.core below
    extend = CodecLM.extend

    def __init__(self, graphs: dict[str, Graph], cuda_graph: tuple[int, ...] = ()):
        """``cuda_graph``: step lengths replayed as CUDA graphs (``OrtOptions.cuda_graph``)."""
        from palette.streaming.onnx.cuda_graph import cuda_graph_core

        step = graphs["step"]
        self.stage_config = json.loads(step.metadata["palette.config"])
        self.config = LMConfig.from_dict(self.stage_config["model"])
        self.graphs = graphs
        self.core = (
            cuda_graph_core(step, self.config, cuda_graph)
            if cuda_graph
            else StaticCacheCore(step, self.config)
        )
        self.frames = OrtFrames(graphs["frames"], graphs["head"], self.config)
        self.draft = graphs.get("draft")  # the speculative generator asks for a draft head
        self.gaussian_draft = self._gaussian_draft if "gaussian_draft" in graphs else None
        self.training = False
        self.bos = self._text_rows(torch.zeros(1, 1, dtype=torch.long))[0, -1]  # a constant

    @property
    def discrete(self) -> bool:
        return self.config.family == "ar"

    def eval(self) -> OrtCodecLM:
        return self

    def _text_rows(self, text: torch.Tensor) -> torch.Tensor:
        return _torch(self.graphs["text"].run(text=text))[0]

    def text_embed(self, text: torch.Tensor) -> torch.Tensor:
        """``text [B, Lt]`` -> ``[B, Lt, C]``."""
        return self._text_rows(text)[:, :-1]

    def step_inputs(self, frames: torch.Tensor) -> torch.Tensor:
        return self.frames.to_steps(frames)

    def phones(self, text, index, progress) -> torch.Tensor:
        """Aligned inputs ``[B, N, C]`` (``CodecLM.phones``)."""
        return _torch(self._graph("phones").run(text=text, index=index, progress=progress))[0]

    def speaker_rows(self, speaker: torch.Tensor) -> torch.Tensor:
        """``SpeakerConditioned.speaker_rows`` on the stage's speaker graph."""
        return _torch(self._graph("speaker").run(speaker=speaker.float()))[0]

    def log_durations(self, text, text_lens, speaker=None) -> torch.Tensor:
        inputs = {"text": text, "text_lens": text_lens}
        speaker = self.checked_speaker(speaker, text.shape[0])
        if speaker is not None:
            inputs["speaker"] = speaker.float()
        return _torch(self._graph("durations").run(**inputs))[0]

    def draft_logits(self, text_states: torch.Tensor) -> torch.Tensor:
        """text states ``[B, L, C]`` -> draft logits ``[B, L * k, K + 1]``."""
        return _torch(self._graph("draft").run(text_states=text_states))[0]

    def _gaussian_draft(self, states, phones, k):
        """kalle's draft head: ``states``/``phones [B, S, C]``, ``k [S]`` -> mean, logstd
        ``[B, S, P, D]``."""
        return _torch(self.graphs["gaussian_draft"].run(states=states, phones=phones, k=k))

    def _graph(self, name: str) -> Graph:
        if name not in self.graphs:
            from palette.codec.files import UserError

            raise UserError(f"this model's ONNX export has no {name} graph: run palette export")
        return self.graphs[name]

    def __call__(self, *args, **kwargs):
        raise TypeError("an ONNX stage is for inference only (no training forward)")


def is_ar_graph(graph: Graph) -> bool:
    """Whether ``graph`` is the step graph of an autoregressive stage."""
    family = json.loads(graph.metadata["palette.config"])["model"]["family"]
    return family in ("ar", "kalle")


def ar_stand_in(bundle, stage: str, step: Graph, options) -> OrtCodecLM:
    """``OrtCodecLM`` over the step graph ``step`` and the other graphs ``bundle`` has."""
    if options.cuda_graph:  # the step session captures: made again with the provider option
        step = Graph(step.path, options, cuda_graph=True)
    graphs = {"step": step}
    for name in AR_GRAPHS:
        path = bundle.onnx_graph(f"{stage}_{name}")
        if path is not None:
            graphs[name] = Graph(path, options)
    return OrtCodecLM(graphs, options.cuda_graph)
