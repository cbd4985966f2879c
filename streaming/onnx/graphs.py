"""What is exported: one small ``nn.Module`` wrapper per graph, with its inputs, outputs,
dynamic dimensions and example inputs.

Every wrapper calls the model's own methods (``PARModel.logits``, ``PARModel.log_durations``,
the codec's encoder/decoder), so a graph is the PyTorch computation traced once. Dynamic
dimensions are traced from example sizes >= 2 that differ from each other (an example size of
0 or 1 would be specialised into the graph).

Graphs (names are file stems under ``onnx/``; the AR and KALL-E stages' are in ``ar_graphs``):

- ``<stage>`` (a PAR stage, e.g. ``par``, ``refine``): ``text [B, Lt]``, ``text_lens [B]``,
  ``frames`` (latents ``[B, D, T]`` float or codes ``[B, T]`` int64), ``audio_lens [B]``,
  ``masked [B, T]`` bool and, for aligned models, ``phone_index``/``progress [B, T]`` int64 ->
  ``pred_mean``/``pred_logstd [B, T, D]`` (latents) or ``logits [B, T, K]`` (codes).
- ``<stage>_durations`` (aligned PAR): ``text``, ``text_lens`` -> ``log_durations [B, Lt]``.
- ``codec_encoder``: ``wav [B, 1, S]`` -> ``latent_mean``/``latent_logstd [B, D, T]`` and/or
  ``codes [B, Q, T]``, ``T = ceil(S / hop)``.
- ``codec_decoder``: ``latents [B, D, T]`` -> ``wav [B, 1, T * hop]``;
  ``codec_code_decoder``: ``codes [B, Q, T]`` -> ``wav``. Streaming decodes
  ``[left context ; new frames]`` through the same graph (``Codec.decode_chunk``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from palette.models.par import PARModel

EXAMPLE_BATCH, EXAMPLE_TEXT, EXAMPLE_FRAMES = 2, 11, 17  # example sizes: >= 2, all different


@dataclass(frozen=True)
class GraphSpec:
    """One graph to export: the module, named inputs with example values, output names and
    the dynamic axes of each input (``{input: {axis: dim name}}``)."""

    name: str
    module: nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: tuple[str, ...]
    dynamic: dict[str, dict[int, str]]
    minimum: dict[str, int] = field(default_factory=dict)  # smallest size per dim (default 1)


class PARLogits(nn.Module):
    """``PARModel.logits`` with every input explicit (the mask is never inferred)."""

    def __init__(self, model: PARModel):
        super().__init__()
        self.model = model

    def forward(
        self,
        text,
        text_lens,
        frames,
        audio_lens,
        masked,
        phone_index=None,
        progress=None,
        speaker=None,
    ):
        return self.model.logits(
            text, text_lens, frames, audio_lens, masked, phone_index, progress, speaker
        )


class PARDurations(nn.Module):
    def __init__(self, model: PARModel):
        super().__init__()
        self.model = model

    def forward(self, text, text_lens, speaker=None):
        return self.model.log_durations(text, text_lens, speaker)


class CodecEncoder(nn.Module):
    """``wav [B, 1, S]`` -> (latent mean, latent logstd) and/or codes, one encoder pass."""

    def __init__(self, codec):
        super().__init__()
        self.codec = codec

    def forward(self, wav):
        h = self.codec.encoder(wav)
        out, mean = (), None
        if self.codec.gaussian is not None:
            mean, logstd = self.codec.gaussian.posterior(h)
            out = (mean, logstd)
        if self.codec.has_codes:
            out = out + (self.codec.codes_of(h, mean),)
        return out


class LatentDecoder(nn.Module):
    def __init__(self, codec):
        super().__init__()
        self.codec = codec

    def forward(self, latents):
        return self.codec.decoder(self.codec.gaussian.proj_out(latents))


class CodeDecoder(nn.Module):
    """Codes of all ``Q`` codebooks -> decoder input -> waveform, without the range checks
    (they need the values; the runner checks the codes before it calls the graph)."""

    def __init__(self, codec):
        super().__init__()
        self.codec = codec

    def forward(self, codes):
        return self.codec.decoder(self.codec.code_input(codes, checked=False))


def par_graphs(stage: str, model: PARModel, durations: bool) -> list[GraphSpec]:
    """The forward of a PAR stage (and its duration head when ``durations`` and aligned)."""
    B, Lt, T = EXAMPLE_BATCH, EXAMPLE_TEXT, EXAMPLE_FRAMES
    g = torch.Generator().manual_seed(0)
    cfg = model.config
    text = torch.randint(5, cfg.num_symbols, (B, Lt), generator=g)
    text_lens = torch.tensor([Lt, Lt - 3])
    if model.continuous:
        frames = torch.randn(B, cfg.latent_dim, T, generator=g)
        frame_axes, outputs = {0: "batch", 2: "frames"}, ("pred_mean", "pred_logstd")
    else:
        frames = torch.randint(0, cfg.cardinality, (B, T), generator=g)
        frame_axes, outputs = {0: "batch", 1: "frames"}, ("logits",)
    inputs = {
        "text": text,
        "text_lens": text_lens,
        "frames": frames,
        "audio_lens": torch.tensor([T, T - 4]),
        "masked": torch.rand(B, T, generator=g) < 0.5,
    }
    per_frame = {0: "batch", 1: "frames"}
    dynamic = {
        "text": {0: "batch", 1: "text"},
        "text_lens": {0: "batch"},
        "frames": frame_axes,
        "audio_lens": {0: "batch"},
        "masked": per_frame,
    }
    if cfg.aligned:
        inputs["phone_index"] = torch.randint(-1, Lt - 3, (B, T), generator=g)
        inputs["progress"] = torch.randint(0, 20, (B, T), generator=g)
        dynamic["phone_index"] = dynamic["progress"] = per_frame
    text_side = ["text", "text_lens"]
    if cfg.speaker_dim:  # the prompt's speaker embedding [B, E]
        inputs["speaker"] = torch.randn(B, cfg.speaker_dim, generator=g)
        dynamic["speaker"] = {0: "batch"}
        text_side.append("speaker")
    specs = [GraphSpec(stage, PARLogits(model), inputs, outputs, dynamic)]
    if durations and cfg.aligned:
        specs.append(
            GraphSpec(
                f"{stage}_durations",
                PARDurations(model),
                {k: inputs[k] for k in text_side},
                ("log_durations",),
                {k: dynamic[k] for k in text_side},
            )
        )
    return specs


def codec_graphs(codec) -> list[GraphSpec]:
    """Encoder, latent decoder and code decoder of a palette codec (those its config has)."""
    B, T = EXAMPLE_BATCH, EXAMPLE_FRAMES
    g = torch.Generator().manual_seed(0)
    wav = 0.1 * torch.randn(B, 1, T * codec.hop_length - 7, generator=g)
    outputs = (("latent_mean", "latent_logstd") if codec.has_latents else ()) + (
        ("codes",) if codec.has_codes else ()
    )
    specs = [
        GraphSpec(
            "codec_encoder",
            CodecEncoder(codec),
            {"wav": wav},
            outputs,
            {"wav": {0: "batch", 2: "samples"}},
            {"samples": codec.hop_length},
        )
    ]
    if codec.has_latents:
        latents = torch.randn(B, codec.latent_dim, T, generator=g)
        specs.append(
            GraphSpec(
                "codec_decoder",
                LatentDecoder(codec),
                {"latents": latents},
                ("wav",),
                {"latents": {0: "batch", 2: "frames"}},
            )
        )
    if codec.has_codes:
        codes = torch.randint(0, codec.cardinality, (B, codec.num_codebooks, T), generator=g)
        specs.append(
            GraphSpec(
                "codec_code_decoder",
                CodeDecoder(codec),
                {"codes": codes},
                ("wav",),
                {"codes": {0: "batch", 2: "frames"}},
            )
        )
    return specs
