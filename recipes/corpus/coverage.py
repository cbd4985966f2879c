"""Voice coverage of a many-voice corpus: speaker embeddings in 2-D.

    python -m palette.recipes.corpus.coverage data/many-libritts \\
        --out benchmarks/results/corpus/coverage.png

Each speaker with rendered audio is embedded (resemblyzer, mean over up to ``--per-speaker``
utterances); a PCA fitted on the training speakers maps all of them to 2-D. Drawn: training
bases (as they speak), their WORLD pseudo-speakers, dev speakers, the held-out base voices
(test-base) and the old joe+WORLD warp-test groups. Beside the PNG, a JSON file holds the
numbers: for every test speaker its nearest training speaker and cosine, and the variance the
two components explain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from palette.recipes.corpus import layout
from palette.recipes.corpus.many_record import CONFIG_FILE
from palette.tts.audio import resample


def speaker_embeddings(root: Path, per_speaker: int = 2) -> tuple[list[dict], np.ndarray]:
    """Records of MANY_CORPUS.json speakers with audio on disk, and their embeddings [N, 256]."""
    from palette.recipes.evaluation.metrics.speaker import ResemblyzerEmbedder, unit

    record = json.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))
    embedder = ResemblyzerEmbedder()
    rows, embs = [], []
    for speaker in record["speakers"]:
        folder = root / speaker["subset"] / str(speaker["speaker_id"])
        wavs = sorted(folder.rglob("*.wav"))[:per_speaker] if folder.is_dir() else []
        if not wavs:
            continue
        vectors = []
        for path in wavs:
            wav, sr = sf.read(str(path), dtype="float32")
            vectors.append(embedder.embed(resample(wav, sr, 16000)))
        rows.append(speaker)
        embs.append(unit(np.mean(vectors, axis=0)))
    return rows, np.array(embs, dtype=np.float32).reshape(len(embs), -1)


def _group(speaker: dict) -> str:
    if speaker["role"] == "train":
        return "training base" if speaker.get("warp") is None else "pseudo-speaker (WORLD)"
    if speaker["role"] == "train-real":
        return "training real recording"
    if speaker["role"] == "test-base":
        return "held-out base voice"
    if speaker["role"] == "test-real":
        return "held-out real recording"
    if speaker["role"].startswith("test"):
        return "joe+WORLD warp test"
    return speaker["role"]


def draw(rows: list[dict], embs: np.ndarray, out: Path, command: str) -> dict:
    """Scatter plot of the 2-D PCA into ``out`` (PNG); returns the numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [_group(r) for r in rows]
    train = np.array([r["subset"] == layout.TRAIN for r in rows])
    mean = embs[train].mean(axis=0)
    _, s, vt = np.linalg.svd(embs[train] - mean, full_matrices=False)
    xy = (embs - mean) @ vt[:2].T
    explained = (s[:2] ** 2 / np.sum(s**2)).round(3).tolist()
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    sources = sorted({r["base"].split(":")[0] for r in rows})
    colours = {src: plt.cm.tab10(i % 10) for i, src in enumerate(sources)}
    styles = {
        "pseudo-speaker (WORLD)": ("o", 12, 0.45),
        "training base": ("s", 46, 0.95),
        "dev": ("D", 22, 0.7),
        "joe+WORLD warp test": ("^", 60, 1.0),
        "held-out base voice": ("*", 220, 1.0),
        "held-out real recording": ("P", 90, 1.0),
    }
    for group, (marker, size, alpha) in styles.items():
        idx = [i for i, g in enumerate(groups) if g == group]
        if not idx:
            continue
        ax.scatter(
            xy[idx, 0],
            xy[idx, 1],
            s=size,
            marker=marker,
            alpha=alpha,
            c=[colours[rows[i]["base"].split(":")[0]] for i in idx],
            edgecolors="black" if group != "pseudo-speaker (WORLD)" else "none",
            linewidths=0.6,
            label=group,
        )
    for i, g in enumerate(groups):
        if g in ("held-out base voice", "held-out real recording"):
            ax.annotate(
                rows[i]["base"], xy[i], fontsize=7, xytext=(4, 4), textcoords="offset points"
            )
    handles = [plt.Line2D([], [], marker="o", ls="", color=colours[s], label=s) for s in sources]
    first = ax.legend(loc="upper left", fontsize=8, title="marker")
    ax.add_artist(first)
    ax.legend(handles=handles, loc="lower right", fontsize=8, title="source")
    ax.set_xlabel(f"PC1 ({explained[0]:.0%} of training variance)")
    ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
    ax.set_title(
        f"Voice coverage: resemblyzer embeddings of {len(rows)} speakers (PCA)", fontsize=10
    )
    fig.text(0.01, 0.005, command, fontsize=6, family="monospace")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    nearest = {}
    train_idx = np.flatnonzero(train)
    for i, r in enumerate(rows):
        if r["subset"] == layout.TEST:
            cos = embs[train_idx] @ embs[i]
            j = train_idx[int(cos.argmax())]
            nearest[f"{r['speaker_id']} {r['base']} ({r['role']})"] = {
                "nearest_training_speaker": f"{rows[j]['speaker_id']} {rows[j]['name']}",
                "cosine": round(float(cos.max()), 3),
            }
    counts = {g: groups.count(g) for g in sorted(set(groups))}
    return {
        "command": command,
        "speakers": counts,
        "explained_variance": explained,
        "test_nearest_training": nearest,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.coverage", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/corpus/coverage.png"))
    parser.add_argument("--per-speaker", type=int, default=2)
    args = parser.parse_args(argv)
    command = "python -m palette.recipes.corpus.coverage " + " ".join(argv or sys.argv[1:])
    rows, embs = speaker_embeddings(args.corpus, args.per_speaker)
    if len(rows) < 3:
        print(f"error: fewer than 3 speakers with audio in {args.corpus}", file=sys.stderr)
        return 2
    numbers = draw(rows, embs, args.out, command)
    from palette.codec.files import write_text_atomic

    write_text_atomic(args.out.with_suffix(".json"), json.dumps(numbers, indent=1) + "\n")
    print(json.dumps({k: numbers[k] for k in ("speakers", "explained_variance")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
