"""Stage 3 of the LibriTTS recipe: codec codes (and Gaussian latents, when the codec has them)
for every cut, stored losslessly next to the manifests.

Storage: lhotse's ``numpy_hdf5`` (uncompressed numpy arrays in HDF5 files; h5py), in shards of
``shard_size`` cuts, so that an interrupted run resumes at the first unfinished shard. lhotse's
lilcom storages are lossy and are not used. Each cut gets custom fields readable with
``cut.load_<name>()``:

- ``codes``: ``[T, Q]`` int16 (int32 for codebooks larger than 32767), frame shift 1/frame_rate
- ``latent_mean``, ``latent_logstd``: ``[T, D]`` float32 (codecs with Gaussian latents)

Frames are time-major, as lhotse expects (``temporal_dim=0``); transpose for ``[Q, T]``. ``T``
is the frame count lhotse computes from the cut's duration, so that ``cut.load_codes()`` returns
exactly what was stored.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC
from palette.codec.files import UserError, write_text_atomic
from palette.recipes.libritts import manifests
from palette.tts.audio import resample

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureOptions:
    """How stage 3 runs."""

    codec: str = DEFAULT_CODEC  # registered codec name or checkpoint directory
    bandwidth: float | None = None  # EnCodec: kbps, sets the number of codebooks
    tag: str | None = None  # feature folder name (default: derived from codec and bandwidth)
    shard_size: int = 1000  # cuts per HDF5 shard (the unit of resumption)
    device: str = "cpu"  # torch device for the codec
    latents: bool = True  # also store Gaussian latents when the codec has them

    def resolved_tag(self) -> str:
        if self.tag:
            return self.tag
        name = Path(self.codec).name if Path(self.codec).is_dir() else self.codec
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        return f"{name}_{self.bandwidth:g}kbps" if self.bandwidth is not None else name


def _codec_kwargs(options: FeatureOptions) -> dict:
    return {} if options.bandwidth is None else {"bandwidth": options.bandwidth}


def codec_record(codec, options: FeatureOptions) -> dict:
    """What ``features/<tag>/codec.json`` holds: the codec's source and sizes."""
    return {
        "codec": options.codec,
        "kwargs": _codec_kwargs(options),
        "sample_rate": int(codec.sample_rate),
        "hop_length": int(codec.hop_length),
        "frame_rate": float(codec.frame_rate),
        "num_codebooks": int(codec.num_codebooks),
        "cardinality": int(codec.cardinality),
        "latent_dim": int(codec.latent_dim),
        "codes_dtype": _codes_dtype(codec).__name__ if codec.has_codes else None,
    }


def _codes_dtype(codec) -> type:
    return np.int16 if codec.cardinality <= np.iinfo(np.int16).max else np.int32


def _frames(duration: float, frame_rate: float) -> int:
    """The frame count lhotse derives from a duration (``lhotse.array.seconds_to_frames``)."""
    from lhotse.array import seconds_to_frames

    return seconds_to_frames(duration, frame_shift=1.0 / frame_rate)


@torch.inference_mode()
def encode_cut(cut, codec, device: str, latents: bool) -> dict[str, np.ndarray]:
    """One cut's arrays, time-major: ``{"codes": [T, Q], "latent_mean": [T, D], ...}``."""
    audio = cut.load_audio()[0]  # [S]
    if cut.sampling_rate != codec.sample_rate:
        audio = resample(audio, cut.sampling_rate, codec.sample_rate)
    wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, None].to(device)
    frames = _frames(cut.duration, codec.frame_rate)
    out = {}
    if codec.has_codes:
        codes = codec.encode(wav)[0, :, :frames]  # [Q, T]
        out["codes"] = codes.T.cpu().numpy().astype(_codes_dtype(codec))
    if latents and codec.has_latents:
        mean, logstd = codec.encode_latents(wav)
        out["latent_mean"] = mean[0, :, :frames].T.cpu().numpy().astype(np.float32)
        out["latent_logstd"] = logstd[0, :, :frames].T.cpu().numpy().astype(np.float32)
    return out


def _write_shard(cuts, shard_path: Path, codec, options: FeatureOptions, bar) -> None:
    """Encode ``cuts`` into ``shard-N.h5``, then write their manifest ``shard-N.jsonl.gz``
    (atomically: it marks the shard finished; a retry overwrites a half-written .h5)."""
    from lhotse.features.io import NumpyHdf5Writer

    h5_path = shard_path.with_name(shard_path.name.replace(".jsonl.gz", ".h5"))
    h5_path.parent.mkdir(parents=True, exist_ok=True)
    frame_shift = 1.0 / codec.frame_rate
    done = []
    with NumpyHdf5Writer(h5_path, mode="w") as writer:
        for cut in cuts:
            for name, array in encode_cut(cut, codec, options.device, options.latents).items():
                stored = writer.store_array(
                    f"{cut.id}/{name}", array, frame_shift=frame_shift, temporal_dim=0
                )
                cut = cut.with_custom(name, stored)
            done.append(cut)
            bar.update(1)
    manifests.write_cuts_atomic(done, shard_path)


def _shards(cuts, size: int):
    iterator = iter(cuts)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _check_codec_record(path: Path, record: dict) -> None:
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        if existing != record:
            raise UserError(
                f"{path.parent} holds features of another codec ({existing['codec']}); "
                "choose another --tag"
            )
    else:
        write_text_atomic(path, json.dumps(record, indent=1) + "\n")


def extract_features(
    out_dir: Path, parts: list[str], options: FeatureOptions = FeatureOptions()
) -> dict[str, Path]:
    """Encode every cut of stage 2's manifests with the codec; returns ``part -> cuts path``.

    Finished parts (their combined manifest exists) and finished shards are skipped; the
    codec is loaded only when something is left to do.
    """
    from palette.codec import load_codec

    tag = options.resolved_tag()
    folder = manifests.feature_dir(out_dir, tag)
    results, codec = {}, None
    for part in parts:
        target = manifests.feature_cuts_path(out_dir, tag, part)
        results[part] = target
        if target.is_file():
            logger.info("stage 3: %s already has features in %s, skipped", part, target)
            continue
        if codec is None:
            codec = load_codec(options.codec, **_codec_kwargs(options)).to(options.device).eval()
            _check_codec_record(folder / "palette.codec.json", codec_record(codec, options))
        cuts = manifests.load_cuts(manifests.phoneme_cuts_path(out_dir, part))
        shard_paths = []
        with tqdm(desc=f"codes {part}", unit="cut") as bar:
            for index, chunk in enumerate(_shards(cuts, options.shard_size)):
                shard_path = folder / part / f"shard-{index:05d}.jsonl.gz"
                shard_paths.append(shard_path)
                if shard_path.is_file():
                    bar.update(len(chunk))
                    continue
                _write_shard(chunk, shard_path, codec, options, bar)
        combined = itertools.chain.from_iterable(manifests.load_cuts(p) for p in shard_paths)
        manifests.write_cuts_atomic(combined, target)
    return results
