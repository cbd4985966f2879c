"""onnxruntime stand-ins for the PyTorch stages, below the sentence loop.

``OrtPARModel`` has the interface ``PARGenerator`` calls (``logits``, ``log_durations``,
``continuous``, ``config``, ``mask_token``, ``eval``), ``OrtCodecLM`` (``ar_runtime``) the one
the AR generators call, with the KV cache on the session's device, and ``OrtCodec`` is a ``Codec``
(``encode``/``decode``/``encode_latents``/``decode_latents``; ``decode_chunk`` streams with left
context through the base class), so the family pipelines and ``streaming.loop`` run
unchanged. Tensors cross as numpy arrays (CPU; floats cast to the graph's precision, fp32
or fp16, and back to float32); sessions prefer ``CUDAExecutionProvider`` and
fall back to CPU, logging the provider each session actually uses (onnxruntime falls back
silently, so ``session.get_providers()`` is what is reported).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from palette.codec import Codec
from palette.codec.files import UserError
from palette.models.config import LMConfig

log = logging.getLogger(__name__)
FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass(frozen=True)
class OrtOptions:
    threads: int = 0  # intra-op threads; 0 = torch.get_num_threads() (the process's setting)
    providers: tuple[str, ...] = PREFERRED_PROVIDERS  # in order of preference
    optimization: str = "all"  # graph optimisation level: "basic", "extended" or "all"
    spinning: bool = False  # let idle intra-op threads spin (faster alone, slower beside torch)
    # AR step lengths replayed as CUDA graphs (e.g. (1, draft_tokens + 1)); () = none; CUDA only
    cuda_graph: tuple[int, ...] = ()


def ort_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class Graph:
    """One ``InferenceSession``; ``run(**inputs) -> tuple of numpy outputs``."""

    def __init__(self, path: Path, options: OrtOptions = OrtOptions(), cuda_graph: bool = False):
        """``cuda_graph``: the session may capture CUDA graphs (``streaming.onnx.cuda_graph``;
        every run then needs its inputs bound on the device or a ``gpu_graph_id`` of -1)."""
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = options.threads or torch.get_num_threads()
        so.inter_op_num_threads = 1
        so.log_severity_level = 3  # errors only: constant-folding notes are not for users
        so.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if options.spinning else "0"
        )
        so.graph_optimization_level = {
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[options.optimization]
        available = ort.get_available_providers()
        providers = [p for p in options.providers if p in available] or ["CPUExecutionProvider"]
        settings = [
            (p, {"enable_cuda_graph": "1"}) if cuda_graph and p == "CUDAExecutionProvider" else p
            for p in providers
        ]
        self.session = ort.InferenceSession(str(path), so, providers=settings)
        self.path, self.name = Path(path), Path(path).stem
        self.provider = self.session.get_providers()[0]
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.float_inputs = {  # name -> numpy dtype (float16 for an fp16 export)
            i.name: FLOAT_TYPES[i.type] for i in self.session.get_inputs() if i.type in FLOAT_TYPES
        }
        self.metadata = self.session.get_modelmeta().custom_metadata_map
        level = logging.INFO if self.provider == providers[0] else logging.WARNING
        log.log(level, "onnxruntime: %s runs on %s", self.name, self.provider)

    def cast(self, name: str, x) -> np.ndarray:
        """Input ``name`` as a contiguous array of the graph's type (floats as it takes them)."""
        x = _numpy(x)
        dtype = self.float_inputs.get(name)
        return x.astype(dtype, copy=False) if dtype is not None else x

    def run(self, **inputs) -> tuple[np.ndarray, ...]:
        """-> the outputs; floating outputs as float32 whatever the graph's precision."""
        feed = {k: self.cast(k, v) for k, v in inputs.items() if k in self.inputs}
        out = self.session.run(None, feed)
        return tuple(o.astype(np.float32) if o.dtype == np.float16 else o for o in out)


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return np.ascontiguousarray(x.detach().cpu().numpy())
    return np.ascontiguousarray(x)


class OrtPARModel:
    """A PAR stage on onnxruntime: ``logits`` (and ``log_durations`` when exported) take and
    return what ``PARModel``'s do (torch tensors, batch-first)."""

    def __init__(self, forward: Graph, durations: Graph | None = None):
        self.forward_graph, self.durations_graph = forward, durations
        stage_config = json.loads(forward.metadata["palette.config"])
        self.config = LMConfig.from_dict(stage_config["model"])
        self.continuous = self.config.latent_dim > 0
        self.mask_token = self.config.cardinality + 1
        self.training = False

    def eval(self) -> OrtPARModel:
        return self

    def _speaker(self, speaker, B: int):
        """``speaker [B, E]``, zeros for a conditioned stage given none (None otherwise)."""
        if speaker is None and self.config.speaker_dim:
            speaker = torch.zeros(B, self.config.speaker_dim)
        return speaker

    def logits(
        self,
        text,
        text_lens,
        frames,
        audio_lens,
        masked=None,
        phone_index=None,
        progress=None,
        speaker=None,
    ):
        if masked is None:
            masked = frames == self.mask_token
        out = self.forward_graph.run(
            text=text,
            text_lens=text_lens,
            frames=frames,
            audio_lens=audio_lens,
            masked=masked,
            phone_index=phone_index,
            progress=progress,
            speaker=self._speaker(speaker, text.shape[0]),
        )
        out = tuple(torch.from_numpy(o) for o in out)
        return out if self.continuous else out[0]

    def log_durations(self, text, text_lens, speaker=None) -> torch.Tensor:
        if self.durations_graph is None:
            raise UserError("this model's ONNX export has no duration graph: run palette export")
        speaker = self._speaker(speaker, text.shape[0])
        out = self.durations_graph.run(text=text, text_lens=text_lens, speaker=speaker)
        return torch.from_numpy(out[0])

    def __call__(self, *args, **kwargs):
        raise TypeError("an ONNX stage is for inference only (no training forward)")


class OrtCodec(Codec):
    """The codec's exported encoder and decoders as a ``Codec``."""

    def __init__(self, encoder: Graph, decoder: Graph | None, code_decoder: Graph | None):
        super().__init__()
        info = json.loads(encoder.metadata["palette.codec"])
        self.sample_rate, self.hop_length = info["sample_rate"], info["hop_length"]
        self.num_codebooks, self.cardinality = info["num_codebooks"], info["cardinality"]
        self.latent_dim = info["latent_dim"]
        self.encoder_graph, self.decoder_graph, self.code_decoder_graph = (
            encoder,
            decoder,
            code_decoder,
        )

    def _encode(self, wav: torch.Tensor):
        return [torch.from_numpy(o) for o in self.encoder_graph.run(wav=wav.float())]

    def encode(self, wav):
        return self._encode(wav)[-1]

    def encode_latents(self, wav):
        mean, logstd = self._encode(wav)[:2]
        return mean, logstd

    def decode_latents(self, latents):
        return torch.from_numpy(self.decoder_graph.run(latents=latents.float())[0])

    def decode(self, codes):
        if codes.shape[1] != self.num_codebooks:
            raise ValueError(f"the ONNX code decoder takes all {self.num_codebooks} codebooks")
        if codes.numel() and (codes.min() < 0 or codes.max() >= self.cardinality):
            raise ValueError(f"codes must lie in [0, {self.cardinality})")
        return torch.from_numpy(self.code_decoder_graph.run(codes=codes.long())[0])


def ort_stand_ins(bundle, models: dict, codec: Codec, options: OrtOptions = OrtOptions()):
    """Replace every stage of ``models`` (stage -> (model, config)) that has an exported graph,
    and the codec, with onnxruntime stand-ins. Stages without graphs keep their PyTorch model;
    ``models`` may hold ``None`` for stages with graphs (they are not loaded then)."""
    from palette.streaming.onnx.ar_runtime import OrtCodecLM, ar_stand_in, is_ar_graph

    out = dict(models)
    for stage in bundle.stages:
        path = bundle.onnx_graph(stage)
        if path is None:
            continue
        graph = Graph(path, options)
        if is_ar_graph(graph):
            model = ar_stand_in(bundle, stage, graph, options)
        else:
            durations = bundle.onnx_graph(f"{stage}_durations")
            model = OrtPARModel(graph, durations and Graph(durations, options))
        out[stage] = (model, json.loads(graph.metadata["palette.config"]))
    stand_ins = (OrtPARModel, OrtCodecLM)
    torch_stages = [s for s, (m, _) in out.items() if not isinstance(m, stand_ins)]
    if torch_stages:
        log.info("stages without ONNX graphs run in PyTorch: %s", ", ".join(torch_stages))
    encoder = bundle.onnx_graph("codec_encoder")
    if encoder is not None:
        decoder, code_decoder = (
            bundle.onnx_graph(n) for n in ("codec_decoder", "codec_code_decoder")
        )
        codec = OrtCodec(
            Graph(encoder, options),
            decoder and Graph(decoder, options),
            code_decoder and Graph(code_decoder, options),
        )
    return out, codec


def graph_stages(bundle) -> list[str]:
    """Stages of ``bundle`` that have an exported forward graph."""
    return [s for s in bundle.stages if bundle.onnx_graph(s) is not None]


def choose_runtime(bundle, runtime: str) -> str:
    """``"auto"`` | ``"onnx"`` | ``"torch"`` -> the runtime to use. ``auto`` takes onnxruntime
    when it is installed, the directory has graphs that are up to date with its weights, and
    the export's measurement (``streaming.onnx.measure``, in the manifest) did not find PyTorch
    faster."""
    if runtime not in ("auto", "onnx", "torch"):
        raise UserError(f"unknown runtime {runtime!r}; one of auto, onnx, torch")
    if runtime == "torch":
        return "torch"
    has_graphs = bundle.onnx_manifest() is not None
    stale = bundle.stale_onnx_stages() if has_graphs else []
    if runtime == "onnx":
        if not ort_available():
            raise UserError("--runtime onnx needs onnxruntime: pip install 'palette-tts[onnx]'")
        if not has_graphs:
            raise UserError(
                f"{bundle.directory} has no ONNX graphs: run "
                f"`palette export {bundle.directory} --out DIR` and use DIR"
            )
        if stale:
            raise UserError(
                f"{bundle.directory}: the ONNX graphs of {', '.join(stale)} are "
                "older than the weights: export them again"
            )
        return "onnx"
    if has_graphs and stale:
        log.warning("ONNX graphs of %s are stale; using PyTorch", ", ".join(stale))
    if not (has_graphs and not stale and ort_available()):
        return "torch"
    measured = bundle.onnx_manifest().get("measured")
    if isinstance(measured, dict) and measured.get("onnx_rtf", 0) > measured.get("torch_rtf", 1e9):
        log.info(
            "runtime auto: PyTorch (measured faster at export for the %s family: RTF %.3f vs "
            "%.3f on onnxruntime; --runtime onnx overrides)",
            measured.get("family"),
            measured["torch_rtf"],
            measured["onnx_rtf"],
        )
        return "torch"
    return "onnx"
