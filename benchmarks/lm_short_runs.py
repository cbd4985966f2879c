"""Summarise short training runs of each model family: loss curves (from ``EXP/log.csv``) and
the harness's scores of their generated speech (``GEN/results.json``).

    python benchmarks/lm_short_runs.py --exp exp --out benchmarks/results/lm_short_runs.md

The runs themselves are made by the commands listed in the output (``recipes/libritts``).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from palette.models.families import FAMILIES
from palette.models.families import STAGES as SYNTHESIS_STAGES

STAGES = ("align", *SYNTHESIS_STAGES)  # every trainable LM stage


def curve(log: Path, points: int = 6) -> tuple[dict, list[str]]:
    rows = list(csv.DictReader(open(log)))
    last = rows[-1]
    picks = [rows[round(i * (len(rows) - 1) / (points - 1))] for i in range(points)]
    return last, [f"{float(r['loss']):.3f}@{r['step']}" for r in picks]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--exp", default="exp", help="folder with <stage>/log.csv and gen-<family>/")
    p.add_argument("--out", default="benchmarks/results/lm_short_runs.md")
    p.add_argument("--commands", default="", help="text file with the commands that made the runs")
    args = p.parse_args()
    exp = Path(args.exp)
    lines = [
        "# Short CPU training runs of each model family",
        "",
        f"`python benchmarks/lm_short_runs.py --exp {args.exp}`",
        "",
    ]
    if args.commands:
        lines += [
            "Runs made with:",
            "",
            "```bash",
            Path(args.commands).read_text().strip(),
            "```",
            "",
        ]
    lines += [
        "## Training (loss at evenly spaced steps)",
        "",
        "| stage | steps | minutes | loss curve (loss@step) | last row |",
        "|---|---|---|---|---|",
    ]
    known = [exp / s / "log.csv" for s in STAGES]
    others = sorted(set(exp.glob("*/log.csv")) - set(known))  # e.g. a second par variant
    for log in known + others:
        stage = log.parent.name
        if log.is_file():
            last, points = curve(log)
            extra = ", ".join(
                f"{k} {float(v):.3f}"
                for k, v in last.items()
                if k not in ("step", "epoch", "minutes", "lr", "loss")
            )
            lines.append(
                f"| {stage} | {last['step']} | {last['minutes']} | {' '.join(points)} | {extra} |"
            )
    lines += [
        "",
        "## Generated speech on the zero-shot test list (unseen test speakers)",
        "",
        "| family | items | WER | SIM to prompt | speaker ID | DNSMOS OVRL | RTF |",
        "|---|---|---|---|---|---|---|",
    ]
    known = [exp / f"gen-{f}" / "results.json" for f in FAMILIES]
    others = sorted(set(exp.glob("gen-*/results.json")) - set(known))
    for res in known + others:
        family = res.parent.name.removeprefix("gen-")
        if res.is_file():
            s = json.loads(res.read_text())["summary"]
            cell = lambda key, fmt, s=s: "–" if s.get(key) is None else fmt.format(s[key])  # noqa: E731
            lines.append(
                f"| {family} | {s['items']} | {cell('wer', '{:.1%}')} | "
                f"{cell('sim_prompt', '{:.3f}')} | {cell('speaker_id_accuracy', '{:.1%}')} | "
                f"{cell('dnsmos_ovrl', '{:.2f}')} | {cell('rtf', '{:.2f}')} |"
            )
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
