"""English text normalisation: accuracy per class, crashes, over-normalisation, speed, install size.

Compares, on our own case suite (tests/tts/data/normalization_cases.tsv):

- ``old rules``: tts/text.py as it was at a git revision (``--old-ref``, default the last commit
  before the library came in), loaded from git;
- ``wetext``: the WeTextProcessing runtime alone (``wetext.Normalizer``);
- ``nemo``: NeMo's normaliser (``nemo-text-processing`` + ``pynini``), when ``--nemo-python``
  names an interpreter that has it (it is run there through normalization_nemo_worker.py;
  install it in a venv of its own: ``python -m venv V && V/bin/pip install nemo-text-processing``);
  its outputs and timings are kept in ``--nemo-json`` (default
  benchmarks/results/normalization_nemo.json) and reused from there when the sentences are the
  same and ``--nemo-python`` is not given (NeMo builds its grammars for minutes on first use);
- ``palette``: our normaliser now (``palette.tts.text.normalize``: our rules, wetext, our rules).

Plain sentences (for "changed", over-normalisation) are the suite's ``plain`` class plus prose
sentences without digits from Python's own language reference (``pydoc_data.topics``).

    python benchmarks/normalization.py [--nemo-python /path/to/venv/bin/python]

Speeds are wall-clock on whatever else the machine is doing: compare columns of one run.

writes benchmarks/results/normalization.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from palette.tts.readings import canonical, load_cases, same_reading

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests/tts/data/normalization_cases.tsv"
HELDOUT = ROOT / "tests/tts/data/normalization_cases_heldout.tsv"
OUT = ROOT / "benchmarks/results/normalization.md"
WETEXT_DISTS = ("wetext", "kaldifst", "contractions", "textsearch", "anyascii", "pyahocorasick")


def plain_sentences(limit: int) -> list[str]:
    """Prose sentences of letters and light punctuation from pydoc_data.topics (PSF licence):
    no digits, no capitalised acronyms, no abbreviations (those are classes of their own)."""
    from pydoc_data.topics import topics

    text = " ".join(" ".join(t.split()) for t in topics.values())
    seen, out = set(), []
    for s in re.split(r"(?<=[.!?])\s+", text):
        n_words = len(s.split())
        if (
            5 <= n_words <= 30
            and re.fullmatch(r"[A-Z][A-Za-z ,;'-]*[a-z][.!?]", s)
            and not re.search(r"[A-Z]{2}|\b(?:etc|e\.g|i\.e)\b|\s[b-hj-z]\s", s)
            and s not in seen
        ):
            seen.add(s)
            out.append(s)
    return out[:limit]


def load_old(ref: str):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:tts/text.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("old_text", f.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.normalize


def run_local(fn, sentences: list[str]) -> list[tuple[str | None, str | None, float]]:
    results = []
    for s in sentences:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out, err = fn(s), None
        except Exception as e:  # noqa: BLE001 - a crash is a result here
            out, err = None, f"{type(e).__name__}: {e}"
        results.append((out, err, time.perf_counter() - start))
    return results


def run_nemo(python: str, sentences: list[str]) -> tuple[float, list]:
    worker = Path(__file__).with_name("normalization_nemo_worker.py")
    cache = Path(tempfile.gettempdir()) / "palette-nemo-cache"
    proc = subprocess.run(
        [python, str(worker), str(cache)],
        input=json.dumps(sentences),
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(proc.stdout)
    return data["load_s"], [tuple(o) for o in data["outputs"]]


def cold_start(code: str) -> float:
    """Seconds to import and make a first call, in a fresh interpreter."""
    timed = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", timed], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def dist_size_mb(names) -> float:
    total = 0
    for name in names:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for f in dist.files or []:
            p = Path(dist.locate_file(f))
            if p.is_file():
                total += p.stat().st_size
    return total / 2**20


def nemo_size_mb(python: str) -> float:
    code = (
        "import site,pathlib;print(sum(p.stat().st_size for d in site.getsitepackages() "
        "for p in pathlib.Path(d).rglob('*') if p.is_file()))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nemo-python", help="interpreter with nemo-text-processing installed")
    parser.add_argument(
        "--nemo-json",
        type=Path,
        default=OUT.with_name("normalization_nemo.json"),
        help="where NeMo's outputs are kept / reused from",
    )
    parser.add_argument("--old-ref", default="1024d38", help="git revision of the old rules")
    parser.add_argument("--plain", type=int, default=300, help="plain sentences from pydoc")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    tuned = load_cases(CASES)
    heldout = load_cases(HELDOUT)
    cases = tuned + heldout
    plain = plain_sentences(args.plain) + [c.written for c in cases if c.cls == "plain"]
    sentences = [c.written for c in cases] + plain
    systems: dict[str, list] = {}
    load_s: dict[str, float] = {}
    sizes: dict[str, str] = {}

    systems["old rules"] = run_local(load_old(args.old_ref), sentences)
    sizes["old rules"] = f"{dist_size_mb(['num2words', 'docopt']):.1f} MB (num2words)"

    from wetext import Normalizer

    load_s["wetext"] = cold_start(
        "from wetext import Normalizer; Normalizer(lang='en', operator='tn').normalize('It is 5.')"
    )
    wetext = Normalizer(lang="en", operator="tn")
    wetext.normalize("1")
    systems["wetext"] = run_local(wetext.normalize, sentences)
    sizes["wetext"] = f"{dist_size_mb(WETEXT_DISTS):.1f} MB ({', '.join(WETEXT_DISTS)})"

    nemo_note = ""
    if args.nemo_python:
        load_s["nemo"], systems["nemo"] = run_nemo(args.nemo_python, sentences)
        sizes["nemo"] = (
            f"{nemo_size_mb(args.nemo_python):.0f} MB (a fresh venv with "
            "nemo-text-processing: pynini, transformers, pandas, ...)"
        )
        version = subprocess.run(
            [
                args.nemo_python,
                "-c",
                "import importlib.metadata as m; "
                "print(m.version('nemo-text-processing'), m.version('pynini'))",
            ],
            capture_output=True,
            text=True,
        ).stdout.split()
        args.nemo_json.write_text(
            json.dumps(
                {
                    "versions": version,
                    "load_s": load_s["nemo"],
                    "size": sizes["nemo"],
                    "sentences": sentences,
                    "outputs": systems["nemo"],
                },
                ensure_ascii=False,
            )
        )
    elif args.nemo_json.exists():
        kept = json.loads(args.nemo_json.read_text())
        if kept["sentences"] == sentences:
            load_s["nemo"], sizes["nemo"] = kept["load_s"], kept["size"]
            systems["nemo"] = [tuple(o) for o in kept["outputs"]]
            nemo_note = (
                f"NeMo ({' + pynini '.join(kept['versions'])}) outputs and timings "
                f"are from an earlier run, kept in `{args.nemo_json.name}`."
            )

    from palette.tts.text import FALLBACK, LIBRARY, normalize, read_spans

    load_s["palette"] = cold_start("from palette.tts.text import normalize; normalize('It is 5.')")
    package_s = cold_start("import palette.tts")
    normalize("It is 5.")
    systems["palette"] = run_local(normalize, sentences)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = [{s.path for s in read_spans(sentence)} for sentence in sentences]
    sizes["palette"] = "wetext + num2words (above)"

    classes = list(dict.fromkeys(c.cls for c in cases))
    n_cases = len(cases)
    lines = [
        "# English text normalisation",
        "",
        "Command: `python benchmarks/normalization.py"
        + (" --nemo-python PATH" if args.nemo_python else "")
        + "`"
        + (
            ""
            if args.nemo_python
            else " (NeMo's columns: an earlier run with "
            "`--nemo-python V/bin/python`, V a venv with `pip install nemo-text-processing`)"
        ),
        "",
        f"Suite: {n_cases} cases in {len(classes)} classes, written for palette-tts: "
        f"{len(tuned)} in `tests/tts/data/normalization_cases.tsv` (the normaliser was tuned "
        f"on them) and {len(heldout)} held out in `normalization_cases_heldout.tsv` (written "
        "after tuning, not tuned on; per-class rows count both). Readings compared by "
        "`palette.tts.readings.same_reading`. Plain sentences: "
        f"{len(plain)} (the suite's plain class + prose from Python's language reference).",
        f"`old rules` = tts/text.py at `{args.old_ref}`. {nemo_note}",
        "Speeds: wall-clock on a shared 2-core CPU, one sentence at a time, warm (after the "
        "first call); compare the columns of one run.",
        "",
        "## Accuracy per class (correct / cases)",
        "",
        "| class | " + " | ".join(systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    n_tuned = len(tuned)
    for cls in classes + ["all (suite)", "held out", "all"]:
        row = [cls]
        for results in systems.values():
            ok = total = 0
            for i, (case, (out, _, _)) in enumerate(zip(cases, results[:n_cases], strict=True)):
                if cls == "all (suite)" and i >= n_tuned or cls == "held out" and i < n_tuned:
                    continue
                if cls in ("all", "all (suite)", "held out", case.cls):
                    total += 1
                    ok += out is not None and same_reading(out, case)
            row.append(f"{100 * ok / total:.0f} % ({ok}/{total})")
        lines.append("| " + " | ".join(row) + " |")

    lines += [
        "",
        "## Crashes, over-normalisation, speed, size",
        "",
        "| | " + " | ".join(systems) + " |",
        "|---|" + "---|" * len(systems),
    ]
    rows: dict[str, list[str]] = {
        k: []
        for k in (
            "crashes (all sentences)",
            "plain sentences changed",
            "ms per sentence, mean",
            "ms per sentence, median",
            "ms per sentence, p95",
            "import + first call, s",
            "install size",
        )
    }
    for name, results in systems.items():
        crashes = sum(err is not None for _, err, _ in results)
        changed = sum(
            out is None or canonical(out) != canonical(src)
            for src, (out, _, _) in zip(plain, results[-len(plain) :], strict=True)
        )
        ms = sorted(1000 * t for _, _, t in results)
        rows["crashes (all sentences)"].append(f"{crashes} / {len(results)}")
        rows["plain sentences changed"].append(f"{100 * changed / len(plain):.1f} % ({changed})")
        rows["ms per sentence, mean"].append(f"{statistics.mean(ms):.2f}")
        rows["ms per sentence, median"].append(f"{statistics.median(ms):.2f}")
        rows["ms per sentence, p95"].append(f"{ms[int(0.95 * (len(ms) - 1))]:.2f}")
        rows["import + first call, s"].append(f"{load_s[name]:.2f}" if name in load_s else "-")
        rows["install size"].append(sizes[name])
    lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in rows.items()]
    n_lib = sum(LIBRARY in p for p in paths)
    lib_ms = [
        1000 * t for (_, _, t), p in zip(systems["palette"], paths, strict=True) if LIBRARY in p
    ]
    lib_ms.sort()
    n_fall = sum(FALLBACK in p for p in paths)
    lines += [
        "",
        f"palette: {n_lib} of {len(sentences)} sentences had a span read by wetext; "
        f"they took {statistics.mean(lib_ms):.2f} ms on average "
        f"(p95 {lib_ms[int(0.95 * (len(lib_ms) - 1))]:.2f} ms). "
        f"In {n_fall} wetext failed on a piece and our rules read it (no sentence lost). "
        f"`import + first call`: a fresh interpreter; palette's includes importing the "
        f"`palette.tts` package (torch and all), {package_s:.2f} s on its own. NeMo's is a start with its grammar "
        "cache already built; building the grammars on first use took 53 s on a quiet "
        "machine and 178 s on a busy one here.",
    ]

    lines += ["", "## Cases the palette normaliser reads differently from the suite", ""]
    misses = [
        (c, out)
        for c, (out, _, _) in zip(cases, systems["palette"][:n_cases], strict=True)
        if out is None or not same_reading(out, c)
    ]
    lines += [
        f"- {c.cls}: `{c.written}` -> `{out}` (expected `{c.readings[0]}`)" for c, out in misses
    ] or ["none"]
    changed_plain = [
        (src, out)
        for src, (out, _, _) in zip(plain, systems["palette"][-len(plain) :], strict=True)
        if out is None or canonical(out) != canonical(src)
    ]
    lines += ["", "## Plain sentences the palette normaliser changed", ""]
    lines += [f"- `{src}` -> `{out}`" for src, out in changed_plain] or ["none"]
    lines += ["", "## Crashes per system", ""]
    for name, results in systems.items():
        errs = Counter(err.split(":")[0] for _, err, _ in results if err)
        lines.append(f"- {name}: {dict(errs) or 'none'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
