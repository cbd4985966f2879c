"""Helper of benchmarks/normalization.py: reads NeMo's normaliser in the Python that has it.

Run with the interpreter of an environment holding ``nemo-text-processing`` (it is not a
dependency of palette-tts). Reads a JSON list of sentences on stdin, writes a JSON object
``{"load_s", "outputs": [[text_or_null, error_or_null, seconds], ...]}`` on stdout.
"""

import json
import logging
import sys
import time

logging.disable(logging.WARNING)


def main() -> None:
    sentences = json.load(sys.stdin)
    cache = sys.argv[1] if len(sys.argv) > 1 else None
    start = time.perf_counter()
    from nemo_text_processing.text_normalization.normalize import Normalizer

    normalizer = Normalizer(input_case="cased", lang="en", cache_dir=cache)
    load_s = time.perf_counter() - start
    outputs = []
    for sentence in sentences:
        start = time.perf_counter()
        try:
            text, error = normalizer.normalize(sentence, punct_post_process=True), None
        except Exception as e:  # noqa: BLE001 - the benchmark counts crashes
            text, error = None, f"{type(e).__name__}: {e}"
        outputs.append([text, error, time.perf_counter() - start])
    json.dump({"load_s": load_s, "outputs": outputs}, sys.stdout)


if __name__ == "__main__":
    main()
