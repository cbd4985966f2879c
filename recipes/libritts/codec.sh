#!/usr/bin/env bash
# Train the palette codec on the many-voice corpus, in stages; rerun the same command to
# resume (a stage whose final/ exists is skipped, a cut-off stage continues from its checkpoint):
#
#   stage 1  render  a codec subset of the many-voice corpus: every planned speaker, a few
#                    utterances each (voice variety matters more than hours for a codec)
#   stage 2  train   spectral losses on codes and latents, warm-started from --init
#   stage 3  gan     adversarial fine-tune of the decoder side (multi-period + multi-resolution
#                    discriminators, feature matching); codes and latents stay as they are;
#                    --decoder-blocks/--vocoder-blocks first deepen the decoder (added blocks
#                    start as the identity)
#   stage 4  codes   discrete codes of the Gaussian latent: a residual VQ fitted by k-means
#                    (fit_codes.py); encoder, latents and decoder stay as they are
#   stage 5  report  codec report on the held-out voices beside --compare (the old codec)
#
#   recipes/libritts/codec.sh                                  # about 85 min on 2 cores
#   recipes/libritts/codec.sh --stage 3 --init palette-codec   # decoder-only: same latents
#   recipes/libritts/codec.sh --stage 3 --stop-stage 3 --init palette-codec \
#       --decoder-blocks 6 --vocoder-blocks 8                     # a deeper decoder, same latents
set -euo pipefail

stage=1                       # first stage to run
stop_stage=5                  # last stage to run
corpus=data/many-codec        # stage 1 output: the codec subset in LibriTTS layout
per_speaker=5                 # stage 1: utterances per planned speaker
exp=exp/codec-many            # checkpoints and logs per stage
init=palette-codec            # stage 2 (or 3 when stage 2 is skipped): codec to start from
train_minutes=35              # stage 2 wall-clock budget
train_steps=8000              # stage 2 schedule length (about 4 steps/s on 2 idle cores)
lr=5e-4                       # stage 2 peak learning rate (a warm start)
gan_minutes=20                # stage 3 wall-clock budget
gan_steps=1100                # stage 3 schedule length (about 1 step/s)
decoder_blocks=0              # stage 3: deepen the decoder to this many blocks (0: as in init)
vocoder_blocks=0              # stage 3: deepen the vocoder to this many blocks (0: as in init)
codebooks=8                   # stage 4: residual stages of the latent codes
codebook_size=1024            # stage 4: vectors per codebook
licence=shippable             # stages 2-4: train on voices fit for shipped weights (or: any)
compare=palette-codec         # stage 5: codecs reported beside the new one
report=benchmarks/results/codec  # stage 5 output folder

source "$(dirname "${BASH_SOURCE[0]}")/options.sh"
parse_options "$0" "$@"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

if run_stage 1; then
  echo "stage 1: codec subset of the many-voice corpus -> $corpus"
  "$python" -m palette.recipes.corpus.many "$corpus" --utterances-per-speaker "$per_speaker" --jobs 2
fi
gan_init=$init
if run_stage 2; then
  gan_init=$exp/train/final
  if [ ! -d "$exp/train/final" ]; then
    echo "stage 2: codec training from $init -> $exp/train"
    "$python" -m palette.recipes.libritts.train_codec --corpus "$corpus/train-clean-100" \
      --init "$init" --out "$exp/train" --lr "$lr" --minutes "$train_minutes" --max-steps "$train_steps" --licence "$licence"
  fi
elif [ -d "$exp/train/final" ]; then
  gan_init=$exp/train/final
fi
if run_stage 3 && [ ! -d "$exp/gan/final" ]; then
  echo "stage 3: adversarial decoder fine-tune from $gan_init -> $exp/gan"
  "$python" -m palette.recipes.libritts.finetune_codec --corpus "$corpus/train-clean-100" \
    --init "$gan_init" --out "$exp/gan" --minutes "$gan_minutes" --max-steps "$gan_steps" --licence "$licence" \
    --decoder-blocks "$decoder_blocks" --vocoder-blocks "$vocoder_blocks"
fi
if run_stage 4 && [ ! -f "$exp/codes/model.safetensors" ]; then
  echo "stage 4: latent codes ($codebooks x $codebook_size) -> $exp/codes"
  "$python" -m palette.recipes.libritts.fit_codes --corpus "$corpus/train-clean-100" \
    --codec "$exp/gan/final" --out "$exp/codes" --codebooks "$codebooks" --size "$codebook_size" --licence "$licence"
fi
if run_stage 5; then
  echo "stage 5: codec report -> $report"
  "$python" -m palette.recipes.evaluation.codec_report "$corpus/test-clean" --codec "$exp/codes" \
    --compare "$compare" --classic false --out "$report"
fi
