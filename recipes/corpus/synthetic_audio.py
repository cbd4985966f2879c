"""Speech-like synthetic audio for tests and smoke runs, and a tiny corpus in LibriTTS layout.

No voices needed: voiced "syllables" are harmonic sources (glottal-like 1/k tilt, wandering
pitch) shaped by moving formant resonances, unvoiced ones are band-passed noise, and pauses
are faint noise. It is not speech, but it has what a codec must learn: harmonics, formants,
noise, onsets and silence.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# (F1, F2, F3) in Hz of a few vowels; formants glide between them
VOWELS = np.array(
    [[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480], [570, 840, 2410]]
)


def _voiced(
    rng: np.random.Generator, n: int, sr: int, f0: float, formant_scale: float
) -> np.ndarray:
    t = np.arange(n) / sr
    contour = f0 * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(contour) / sr  # [n]
    a, b = VOWELS[rng.integers(len(VOWELS), size=2)] * formant_scale
    ramp = np.linspace(0, 1, n)[:, None]
    formants = a * (1 - ramp) + b * ramp  # [n, 3]
    out = np.zeros(n)
    for k in range(1, int(0.45 * sr / contour.max()) + 1):
        freq = k * contour[:, None]  # [n, 1]
        bw = 80 + 0.05 * formants
        gain = (1 / (1 + ((freq - formants) / bw) ** 2)).sum(1)  # resonance peaks
        out += gain * np.sin(k * phase) / k
    return out


def _noise(rng: np.random.Generator, n: int, sr: int, centre: float, width: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    return np.fft.irfft(spec * np.exp(-0.5 * ((freqs - centre) / width) ** 2), n)


def synthetic_speech(
    seconds: float,
    sample_rate: int = 24000,
    seed: int = 0,
    f0: float | None = None,
    formant_scale: float | None = None,
) -> np.ndarray:
    """A mono float32 ``[S]`` clip of speech-like syllables and pauses, peak 0.5.

    ``f0`` (Hz) and ``formant_scale`` set the "speaker"; drawn from the seed when not given.
    """
    rng = np.random.default_rng(seed)
    f0 = rng.uniform(90, 240) if f0 is None else f0
    formant_scale = rng.uniform(0.85, 1.2) if formant_scale is None else formant_scale
    total = int(seconds * sample_rate)
    pieces, length = [], 0
    while length < total:
        n = int(rng.uniform(0.06, 0.3) * sample_rate)
        kind = rng.choice(["voiced", "voiced", "voiced", "noise", "pause"])
        if kind == "voiced":
            x = _voiced(rng, n, sample_rate, f0 * rng.uniform(0.85, 1.2), formant_scale)
        elif kind == "noise":
            x = _noise(rng, n, sample_rate, rng.uniform(2500, 7000), rng.uniform(500, 2000))
        else:
            x = 0.002 * rng.standard_normal(n)
        env = np.minimum(1, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * sample_rate))
        x = x * env / (np.abs(x).max() + 1e-9) * (rng.uniform(0.3, 1) if kind != "pause" else 1)
        pieces.append(x)
        length += n
    wav = np.concatenate(pieces)[:total]
    wav = wav + 0.001 * rng.standard_normal(total)
    return (0.5 * wav / (np.abs(wav).max() + 1e-9)).astype(np.float32)


def write_synthetic_corpus(
    out_dir: str | Path,
    speakers: int = 4,
    utterances: int = 5,
    seconds: float = 3.0,
    sample_rate: int = 24000,
    seed: int = 0,
) -> list[Path]:
    """Write ``<out_dir>/<spk>/<chapter>/<spk>_<chapter>_000000_<i>.wav`` (LibriTTS layout, 16-bit
    PCM wav, audio only); returns the paths. One f0 and formant scale per speaker."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    paths = []
    for s in range(speakers):
        spk, chapter = str(100 + s), str(1000 + s)
        f0, scale = rng.uniform(90, 240), rng.uniform(0.85, 1.2)
        folder = Path(out_dir) / spk / chapter
        folder.mkdir(parents=True, exist_ok=True)
        for u in range(utterances):
            wav = synthetic_speech(seconds, sample_rate, int(rng.integers(2**31)), f0, scale)
            path = folder / f"{spk}_{chapter}_000000_{u:06d}.wav"
            sf.write(path, wav, sample_rate, subtype="PCM_16")
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a synthetic speech-like corpus in LibriTTS layout (for smoke runs)."
    )
    parser.add_argument("--out", required=True, help="corpus folder to write (e.g. DIR/synthetic)")
    parser.add_argument("--speakers", type=int, default=8, help="pseudo-speakers (default 8)")
    parser.add_argument("--utterances", type=int, default=10, help="clips per speaker (default 10)")
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length (default 4 s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = write_synthetic_corpus(
        args.out, args.speakers, args.utterances, args.seconds, seed=args.seed
    )
    print(f"wrote {len(paths)} clips to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
