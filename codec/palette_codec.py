"""palette codec: a small mel-to-waveform autoencoder that trains on a 2-core CPU in an hour.

One encoder and one decoder shared by two bottlenecks (either may be switched off in the config):

```
wav [B, 1, S] -> log-mel (100 Hz) -> stack 2 frames -> ConvNeXt encoder (centred) -> h [B, C, T]
h -> residual FSQ  -> codes [B, Q, T] -----\\                       (code_source "encoder")
h -> Gaussian posterior (mean, logstd) [B, D, T] -> latents --> [B, C, T] -> causal ConvNeXt
                   mean -> latent RVQ -> codes [B, Q, T] -> latents  (code_source "latent")
  -> upsample to vocoder frames -> causal ConvNeXt -> log-magnitude + phase -> causal iSTFT
  -> wav [B, 1, T * hop]
```

With ``code_source`` ``"latent"`` the codes are a residual VQ of the posterior mean, fitted
after training (``recipes/libritts/fit_codes.py``) and decoded through the latent path.

The decoder is causal in the frames with a bounded receptive field (:attr:`receptive_field`), so
:meth:`decode_chunked` with that much left context equals :meth:`decode` up to float rounding.
The encoder looks ahead (centred convolutions), which gives the causal decoder the future it
needs. Sizes live in :class:`PaletteCodecConfig`, saved as ``config.json`` (``"codec":
"palette"``) beside ``model.safetensors``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from palette.codec.base import Codec
from palette.codec.bottleneck import (
    GaussianBottleneck,
    LatentRVQ,
    ResidualFSQ,
    gaussian_kl_to_standard,
)
from palette.codec.convnext import ChannelNorm, ConvNeXtStack
from palette.codec.files import UserError, UserFileNotFoundError, atomic_write, write_text_atomic
from palette.codec.mel import LogMel
from palette.codec.vocoder import Vocoder

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
MEL_MEAN, MEL_SCALE = -5.0, 3.0  # rough statistics of speech log-mels, to centre the input


@dataclass(frozen=True)
class PaletteCodecConfig:
    """Sizes of a palette codec (stored as ``config.json``)."""

    sample_rate: int = 24000
    n_fft: int = 1024  # STFT size of the encoder's log-mel input
    mel_hop: int = 240  # samples between mel frames (100 Hz)
    n_mels: int = 80
    stack: int = 2  # mel frames per codec frame: hop_length = mel_hop * stack (480 -> 50 Hz)
    dim: int = 192  # channels of every ConvNeXt block
    kernel_size: int = 7  # depthwise convolution width (frames)
    encoder_blocks: int = 3
    decoder_blocks: int = 3  # causal, at the codec frame rate
    vocoder_blocks: int = 3  # causal, at the vocoder frame rate
    upsample: int = 2  # vocoder frames per codec frame (vocoder hop = hop_length / upsample)
    vocoder_n_fft: int = 960  # inverse-STFT size (a multiple of the vocoder hop)
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)  # levels per FSQ dimension; cardinality = product
    num_codebooks: int = 2  # residual quantiser stages (Q); 0 switches the discrete mode off
    latent_dim: int = 16  # Gaussian latent size (D); 0 switches the continuous mode off
    code_source: str = "encoder"  # codes from: "encoder" (residual FSQ), "latent" (latent RVQ)
    codebook_size: int = 1024  # code_source "latent": vectors per codebook (the cardinality)

    def __post_init__(self):
        object.__setattr__(self, "fsq_levels", tuple(self.fsq_levels))
        if self.num_codebooks <= 0 and self.latent_dim <= 0:
            raise ValueError("a palette codec needs codebooks, latents or both")
        if self.code_source not in ("encoder", "latent"):
            raise ValueError(f"code_source must be encoder or latent, got {self.code_source!r}")
        if self.code_source == "latent" and self.latent_dim <= 0:
            raise ValueError("code_source latent needs Gaussian latents (latent_dim > 0)")
        if self.hop_length % self.upsample:
            raise ValueError(f"hop_length {self.hop_length} is not divisible by {self.upsample}")

    @property
    def hop_length(self) -> int:
        return self.mel_hop * self.stack

    @property
    def cardinality(self) -> int:
        if self.num_codebooks <= 0:
            return 0
        return self.codebook_size if self.code_source == "latent" else math.prod(self.fsq_levels)

    @property
    def trains_codes(self) -> bool:
        """Whether training sends items through a code path (the latent RVQ is fitted after)."""
        return self.num_codebooks > 0 and self.code_source == "encoder"

    @property
    def bitrate(self) -> float:
        """Bits per second of the discrete codes."""
        rate = self.sample_rate / self.hop_length
        return self.num_codebooks * math.log2(self.cardinality) * rate if self.cardinality else 0.0

    def to_dict(self) -> dict:
        return {"codec": "palette", **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> PaletteCodecConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields - {"codec"}
        if unknown:
            raise UserError(f"unknown palette codec config fields: {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in fields})


class Encoder(nn.Module):
    """``wav [B, 1, S]`` -> features ``[B, C, ceil(S / hop)]`` (centred, looks ahead)."""

    def __init__(self, config: PaletteCodecConfig):
        super().__init__()
        c = config
        self.hop, self.stack = c.hop_length, c.stack
        self.mel = LogMel(c.sample_rate, c.n_fft, c.mel_hop, c.n_mels)
        self.proj = nn.Conv1d(c.n_mels * c.stack, c.dim, c.kernel_size, padding=c.kernel_size // 2)
        self.blocks = ConvNeXtStack(c.dim, c.encoder_blocks, c.kernel_size, causal=False)
        self.norm = ChannelNorm(c.dim)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        wav = nn.functional.pad(wav, (0, -wav.shape[-1] % self.hop))
        mel = (self.mel(wav) - MEL_MEAN) / MEL_SCALE  # [B, M, T * stack]
        B, M, _ = mel.shape
        x = mel.view(B, M, -1, self.stack).transpose(2, 3).reshape(B, M * self.stack, -1)
        return self.norm(self.blocks(self.proj(x)))


class Decoder(nn.Module):
    """features ``[B, C, T]`` -> ``wav [B, 1, T * hop]``, causal in the frames."""

    def __init__(self, config: PaletteCodecConfig):
        super().__init__()
        c = config
        self.upsample = c.upsample
        self.blocks = ConvNeXtStack(c.dim, c.decoder_blocks, c.kernel_size, causal=True)
        self.expand = nn.Conv1d(c.dim, c.dim * c.upsample, 1)  # one frame -> `upsample` frames
        hop = c.hop_length // c.upsample
        self.vocoder = Vocoder(c.dim, c.vocoder_blocks, c.kernel_size, c.vocoder_n_fft, hop)

    @property
    def receptive_field(self) -> int:
        """Frames of left context that decide a frame's samples."""
        return self.blocks.receptive_field + math.ceil(self.vocoder.receptive_field / self.upsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.expand(self.blocks(x))  # [B, C * u, T]
        B, _, T = x.shape
        x = x.view(B, -1, self.upsample, T).transpose(2, 3).reshape(B, -1, T * self.upsample)
        return self.vocoder(x)


class PaletteCodec(Codec):
    """Codes ``[B, Q, T]`` and Gaussian latents ``[B, D, T]`` at ``sample_rate / hop_length`` Hz."""

    def __init__(self, config: PaletteCodecConfig | None = None):
        super().__init__()
        self.config = config = config or PaletteCodecConfig()
        self.sample_rate, self.hop_length = config.sample_rate, config.hop_length
        self.num_codebooks, self.cardinality = config.num_codebooks, config.cardinality
        self.latent_dim = config.latent_dim
        self.encoder = Encoder(config)
        self.fsq = (
            ResidualFSQ(config.dim, config.fsq_levels, config.num_codebooks)
            if config.trains_codes
            else None
        )
        self.rvq = (
            LatentRVQ(config.latent_dim, config.codebook_size, config.num_codebooks)
            if self.has_codes and not config.trains_codes
            else None
        )
        self.gaussian = (
            GaussianBottleneck(config.dim, config.latent_dim) if self.has_latents else None
        )
        self.decoder = Decoder(config)

    @property
    def receptive_field(self) -> int:
        """Left context (frames) with which :meth:`decode_chunked` equals :meth:`decode`."""
        return self.decoder.receptive_field

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --- discrete mode -------------------------------------------------------------------
    @torch.inference_mode()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav [B, 1, S]`` -> codes ``[B, Q, ceil(S / hop)]`` (int64 in ``[0, cardinality)``)."""
        self._require(self.fsq or self.rvq, "discrete codes")
        return self.codes_of(self.encoder(wav))

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, Q', T]`` (``Q' <= Q``: the first codebooks) -> ``wav [B, 1, T * hop]``."""
        self._require(self.fsq or self.rvq, "discrete codes")
        return self.decoder(self.code_input(codes))

    def codes_of(self, h: torch.Tensor, mean: torch.Tensor | None = None) -> torch.Tensor:
        """encoder features ``[B, C, T]`` -> codes ``[B, Q, T]``; ``mean``: the latent
        posterior mean of ``h`` when the caller has it (the latent RVQ codes it)."""
        if self.rvq is not None:
            return self.rvq.quantize(self.gaussian.posterior(h)[0] if mean is None else mean)[1]
        return self.fsq.quantize(h)[1]

    def code_input(self, codes: torch.Tensor, checked: bool = True) -> torch.Tensor:
        """codes ``[B, Q', T]`` -> decoder input ``[B, C, T]`` (``checked=False``: no range
        checks, for tracing)."""
        bottleneck = self.rvq if self.rvq is not None else self.fsq
        x = bottleneck.dequantize(codes) if checked else bottleneck.lookup(codes)
        return self.gaussian.proj_out(x) if self.rvq is not None else x

    # --- continuous mode -----------------------------------------------------------------
    @torch.inference_mode()
    def encode_latents(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav [B, 1, S]`` -> posterior ``(mean, logstd)``, each ``[B, D, ceil(S / hop)]``."""
        self._require(self.gaussian, "Gaussian latents")
        return self.gaussian.posterior(self.encoder(wav))

    @torch.inference_mode()
    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """latents ``[B, D, T]`` -> ``wav [B, 1, T * hop]``."""
        self._require(self.gaussian, "Gaussian latents")
        return self.decoder(self.gaussian.proj_out(latents))

    # --- training ------------------------------------------------------------------------
    def forward(
        self, wav: torch.Tensor, continuous: torch.Tensor, quantizer_dropout: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: ``wav [B, 1, S]`` -> (reconstruction ``[B, 1, T * hop]``, KL ``[B]``).

        ``continuous [B]`` (bool) sends each item through the Gaussian bottleneck (a posterior
        sample) or through the residual FSQ, where with probability ``quantizer_dropout`` only a
        random number of the first stages is kept. KL to N(0, I) is summed over latent
        dimensions, averaged over frames, and 0 for discrete items. Without a trained code
        path (no codes, or the fitted latent RVQ) every item is continuous.
        """
        if self.fsq is None:
            continuous = torch.ones_like(continuous)
        h = self.encoder(wav)
        B, _, T = h.shape
        x = torch.zeros_like(h)
        kl = h.new_zeros(B)
        if self.fsq is not None:
            active = torch.full((B,), self.num_codebooks, device=h.device)
            drop = torch.rand(B, device=h.device) < quantizer_dropout
            random_stages = torch.randint(1, self.num_codebooks + 1, (B,), device=h.device)
            active = torch.where(drop, random_stages, active)
            x = self.fsq.quantize(h, active)[0]
        if self.gaussian is not None:
            mean, logstd = self.gaussian.posterior(h)
            z = self.gaussian.proj_out(self.gaussian.sample(mean, logstd))
            x = torch.where(continuous[:, None, None], z, x)
            kl = gaussian_kl_to_standard(mean, logstd).sum(1).mean(1) * continuous
        return self.decoder(x), kl

    # --- storage -------------------------------------------------------------------------
    def save_pretrained(
        self, directory: str | os.PathLike, dtype: torch.dtype = torch.float32
    ) -> None:
        """Write ``model.safetensors`` and ``config.json`` into ``directory`` (atomically).

        ``dtype=torch.float16`` halves the file (the shipped weights); loading casts back to
        float32, so outputs then differ from the saved model's by weight rounding only.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to(dtype).contiguous() for k, v in self.state_dict().items()}
        atomic_write(directory / WEIGHTS_FILE, lambda tmp: save_file(state, str(tmp)))
        text = json.dumps(self.config.to_dict(), indent=2) + "\n"
        write_text_atomic(directory / CONFIG_FILE, text)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> PaletteCodec:
        """Load a directory written by :meth:`save_pretrained` (eval mode, CPU)."""
        directory = Path(directory)
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise UserFileNotFoundError(
                    f"palette codec weights are missing: {directory / name} does not exist. "
                    "Train a codec with `python -m palette.recipes.libritts.train_codec` and copy "
                    f"OUT/final/{WEIGHTS_FILE} and {CONFIG_FILE} there, or pass a trained codec "
                    "directory instead."
                )
        config = PaletteCodecConfig.from_dict(json.loads((directory / CONFIG_FILE).read_text()))
        model = cls(config)
        model.load_state_dict(load_file(directory / WEIGHTS_FILE))
        return model.eval()

    def _require(self, part: nn.Module | None, what: str) -> None:
        if part is None:
            raise NotImplementedError(f"this palette codec was configured without {what}")
