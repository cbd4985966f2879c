"""The graphs of an autoregressive ``CodecLM`` stage (families ``ar`` and ``kalle``).

The step graph is the model's own transformer core over a **static KV cache**: the cache
buffers have a fixed length ``M`` (the generator's ``KVCache.max_len``), the new rows are
written at ``cache_position`` and the boolean mask covers all ``M`` keys, so one graph serves
the prefill (``[text ; BOS ; steps]``, past length 0), one step (``T = 1``) and the verify pass
of draft-and-verify decoding (``T = K + 1``). Rolling the cache back costs nothing: rows past
the kept length are masked out and overwritten later. The small graphs around it embed the
inputs and read the states, so that ``OrtCodecLM`` can stand in for ``CodecLM`` with the
interface the generators call.

Graphs (file stems under ``onnx/``; ``C`` model width, ``L`` layers, ``H`` heads, ``Dh`` head
size, ``P`` patch):

- ``<stage>`` (the step): ``x [B, T, C]`` (the rows the core is fed), ``positions [B, T]``
  int64, ``mask [B, 1, T, M]`` bool (True = may attend), ``cache_position []`` int64,
  ``keys``/``values [L, B, H, M, Dh]`` -> ``states [B, T, C]`` (after the final norm),
  ``new_keys``/``new_values [L, B, H, M, Dh]`` (the inputs with rows
  ``cache_position .. cache_position + T`` written).
- ``<stage>_text``: ``text [B, Lt]`` -> ``rows [B, Lt + 1, C]`` (the text embeddings, then BOS).
- ``<stage>_frames``: codes ``[B, S, P]`` int64 or latents ``[B, D, S, P]`` -> ``steps [B, S, C]``.
- ``<stage>_head``: ``states [B, S, C]`` -> ``logits [B, S, P, K + 1]`` (ar) or
  ``mean``/``logstd [B, S, P, D]`` and ``stop [B, S]`` (kalle).
- ``<stage>_phones`` (aligned): ``text [B, Lt]``, ``index``/``progress [B, N]`` int64 ->
  ``phones [B, N, C]``.
- ``<stage>_durations`` (aligned): ``text``, ``text_lens [B]`` -> ``log_durations [B, Lt]``.
- ``<stage>_draft`` (CTC draft head): ``text_states [B, L, C]`` -> ``logits [B, L * k, K + 1]``.
- ``<stage>_gaussian_draft`` (kalle's draft head): ``states``/``phones [B, S, C]``, offsets
  ``k [S]`` int64 -> ``mean``/``logstd [B, S, P, D]``.
"""

from __future__ import annotations

import torch
from torch import nn

from palette.models.codec_lm import CodecLM
from palette.streaming.onnx.graphs import EXAMPLE_BATCH, EXAMPLE_TEXT, GraphSpec, PARDurations

EXAMPLE_STEPS, EXAMPLE_CACHE = 5, 23  # with EXAMPLE_BATCH and EXAMPLE_TEXT: >= 2, all different


class StaticCache:
    """What ``Attention`` expects of a cache (``write``, ``advance``), over fixed-length
    buffers ``[L, B, H, M, Dh]``: ``write`` puts ``k, v [B, H, T, Dh]`` at ``position ..
    position + T`` and returns all ``M`` keys and values (the mask hides the unused ones)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, position: torch.Tensor):
        self.keys, self.values, self.position = keys, values, position
        self.new_keys: list[torch.Tensor] = []
        self.new_values: list[torch.Tensor] = []

    def write(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        rows = self.position + torch.arange(k.shape[2], device=k.device)
        keys, values = self.keys[layer].clone(), self.values[layer].clone()
        keys[:, :, rows] = k.to(keys.dtype)
        values[:, :, rows] = v.to(values.dtype)
        self.new_keys.append(keys)
        self.new_values.append(values)
        return keys, values

    def advance(self, t: int) -> None:
        pass


class CoreStep(nn.Module):
    """``CodecLM.core`` over a static cache (see the module docstring for the shapes)."""

    def __init__(self, model: CodecLM):
        super().__init__()
        self.core = model.core

    def forward(self, x, positions, mask, cache_position, keys, values):
        cache = StaticCache(keys, values, cache_position)
        states = self.core(x, positions, mask, cache)
        return states, torch.stack(cache.new_keys), torch.stack(cache.new_values)


class TextRows(nn.Module):
    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, text):
        bos = self.model.bos.expand(text.shape[0], 1, -1)
        return torch.cat([self.model.text_embed(text), bos], dim=1)


class SpeakerRows(nn.Module):
    """``speaker [B, E]`` -> the row ``[B, 1, C]`` a speaker-conditioned stage adds everywhere."""

    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, speaker):
        return self.model.speaker_inputs(speaker, speaker.shape[0])


class FrameSteps(nn.Module):
    """Step inputs from frames grouped by step (the grouping is a free reshape on the host,
    which keeps the graph's frame axis a plain dynamic dimension)."""

    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, frames):
        return self.model.step_inputs(frames.flatten(-2))


class Head(nn.Module):
    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, states):
        frames = self.model.frames
        return frames.logits(states) if self.model.discrete else frames.predict(states)


class Phones(nn.Module):
    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, text, index, progress):
        return self.model.phones(text, index, progress)


class Draft(nn.Module):
    def __init__(self, model: CodecLM):
        super().__init__()
        self.model = model

    def forward(self, text_states):
        return self.model.draft_logits(text_states)


class GaussianDraftHead(nn.Module):
    def __init__(self, model: CodecLM):
        super().__init__()
        self.head = model.gaussian_draft

    def forward(self, states, phones, k):
        return self.head(states, phones, k)


def cache_shape(model: CodecLM, batch: int, length: int) -> tuple[int, ...]:
    """``[L, B, H, M, Dh]``, as ``KVCache`` allocates it."""
    core = model.config.transformer
    return (core.layers, batch, core.heads, length, core.dim // core.heads)


def ar_graphs(stage: str, model: CodecLM) -> list[GraphSpec]:
    """Every graph of an autoregressive stage (those its config has)."""
    B, Lt, T, M = EXAMPLE_BATCH, EXAMPLE_TEXT, EXAMPLE_STEPS, EXAMPLE_CACHE
    g = torch.Generator().manual_seed(0)
    cfg = model.config
    C, P = cfg.transformer.dim, cfg.patch
    text = torch.randint(5, cfg.num_symbols, (B, Lt), generator=g)
    speaker = torch.randn(B, cfg.speaker_dim, generator=g) if cfg.speaker_dim else None
    batch, steps = {0: "batch"}, {0: "batch", 1: "steps"}
    cache = {1: "batch", 3: "cache"}
    step = {
        "x": torch.randn(B, T, C, generator=g),
        "positions": torch.randint(0, M, (B, T), generator=g),
        "mask": torch.rand(B, 1, T, M, generator=g) < 0.7,
        "cache_position": torch.tensor(M - T - 3),
        "keys": torch.randn(cache_shape(model, B, M), generator=g),
        "values": torch.randn(cache_shape(model, B, M), generator=g),
    }
    step_axes = {"x": steps, "positions": steps, "mask": {0: "batch", 2: "steps", 3: "cache"}}
    step_axes |= {"cache_position": {}, "keys": cache, "values": cache}
    if model.discrete:
        frames = torch.randint(0, cfg.cardinality, (B, T, P), generator=g)
        frame_axes, head_out = steps, ("logits",)
    else:
        frames = torch.randn(B, cfg.latent_dim, T, P, generator=g)
        frame_axes, head_out = {0: "batch", 2: "steps"}, ("mean", "logstd", "stop")
    text_axes = {0: "batch", 1: "text"}
    specs = [
        GraphSpec(stage, CoreStep(model), step, ("states", "new_keys", "new_values"), step_axes),
        GraphSpec(f"{stage}_text", TextRows(model), {"text": text}, ("rows",), {"text": text_axes}),
        GraphSpec(
            f"{stage}_frames",
            FrameSteps(model),
            {"frames": frames},
            ("steps",),
            {"frames": frame_axes},
        ),
        GraphSpec(f"{stage}_head", Head(model), {"states": step["x"]}, head_out, {"states": steps}),
    ]
    if cfg.aligned:
        phones = {
            "text": text,
            "index": torch.randint(-1, Lt, (B, T), generator=g),
            "progress": torch.randint(0, 20, (B, T), generator=g),
        }
        specs.append(
            GraphSpec(
                f"{stage}_phones",
                Phones(model),
                phones,
                ("phones",),
                {"text": text_axes, "index": steps, "progress": steps},
            )
        )
        inputs = {"text": text, "text_lens": torch.tensor([Lt, Lt - 3])}
        axes = {"text": text_axes, "text_lens": batch}
        if cfg.speaker_dim:
            inputs["speaker"], axes["speaker"] = speaker, batch
        specs.append(
            GraphSpec(f"{stage}_durations", PARDurations(model), inputs, ("log_durations",), axes)
        )
    if cfg.speaker_dim:
        specs.append(
            GraphSpec(
                f"{stage}_speaker",
                SpeakerRows(model),
                {"speaker": speaker},
                ("rows",),
                {"speaker": batch},
            )
        )
    if model.draft is not None:
        specs.append(
            GraphSpec(
                f"{stage}_draft",
                Draft(model),
                {"text_states": torch.randn(B, Lt, C, generator=g)},
                ("logits",),
                {"text_states": text_axes},
            )
        )
    if model.gaussian_draft is not None:
        rows = torch.randn(B, T, C, generator=g)
        specs.append(
            GraphSpec(
                f"{stage}_gaussian_draft",
                GaussianDraftHead(model),
                {"states": rows, "phones": rows.flip(1), "k": torch.tensor([1, 2, 3, 1, 2])},
                ("mean", "logstd"),
                {"states": steps, "phones": steps, "k": {0: "steps"}},
            )
        )
    return specs
