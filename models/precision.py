"""Compute precision of the PyTorch runtime: float32, or bfloat16 autocast in the transformer
blocks where the processor computes bfloat16 natively.

``"auto"`` takes bfloat16 on CPUs with AVX512-BF16 or AMX (and CUDA devices that support it)
and float32 elsewhere (emulated bfloat16 is slower than float32). Only the transformers'
matrix products and attention change precision (``Transformer.compute_dtype``); heads, norms,
the residual stream, the KV cache, the duration rounding and the codec stay float32. Measured
on the shipped model (``benchmarks/results/onnx_speed.md``): a PAR forward 1.6x faster, the
largest output difference 0.01 on values of mean magnitude 0.4.
"""

from __future__ import annotations

import torch

from palette.codec.files import UserError

PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 matrix products in hardware."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def compute_dtype(precision: str, device: str | torch.device = "cpu") -> torch.dtype | None:
    """``"fp32"`` -> ``None`` (no autocast), ``"bf16"`` -> ``torch.bfloat16``, ``"auto"`` ->
    bfloat16 where it is native on ``device``."""
    if precision not in PRECISIONS:
        raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        precision = "bf16" if native_bf16(device) else "fp32"
    return torch.bfloat16 if precision == "bf16" else None


def set_compute_dtype(model: torch.nn.Module, dtype: torch.dtype | None) -> None:
    """Run every transformer inside ``model`` at ``dtype`` (``None`` = float32)."""
    from palette.models.transformer import Transformer

    for module in model.modules():
        if isinstance(module, Transformer):
            module.compute_dtype = dtype
