#!/usr/bin/env bash
# Train the default model palette-mini-en on CPU from the prepared mini corpus (run.sh first),
# in stages; rerun the same command to resume (a stage whose final/ exists is skipped, a stage
# that was cut off continues from its checkpoint.pt):
#
#   stage 1  align    CTC aligner over the codec's latents
#   stage 2  durations of every cut (CTC-Viterbi over the aligner's posteriors)
#   stage 3  par      PALLE-style PAR over codec latents, frame-aligned phonemes, duration head
#   stage 4  refine   stage two of PALLE, fine-tuned from par with i.i.d. masks
#   stage 5  export   float16 bundle in --out (the shipped model lives in tts/checkpoints)
#
#   recipes/libritts/mini_model.sh                       # defaults below (about 60 min, 2 cores)
#   recipes/libritts/mini_model.sh --par-minutes 90 --out exp/model
set -euo pipefail

stage=1                   # first stage to run
stop_stage=5              # last stage to run
prep=data/libritts-prep   # run.sh output (manifests + codec features)
codec=palette-codec       # codec the features were made with
exp=exp/mini              # checkpoints and logs per stage
out=tts/checkpoints/palette-mini-en  # exported model directory
dim=256                   # transformer width of par/refine
layers=6                  # transformer blocks of par/refine
align_minutes=6           # wall-clock budget of the aligner
par_minutes=40            # wall-clock budget of par
par_steps=2400            # par's schedule length (cosine decay ends here)
refine_minutes=8          # wall-clock budget of refine
refine_steps=500          # refine's schedule length
sampling='{"par": {"temperature": 0.4, "span": 32}}'  # recommended options (stage 5)
speaker=none              # par/refine global speaker input: none, utterance or other (run
                          # speaker_features.py on --prep first; other = another cut's embedding)
licence=any               # align/par/refine: any, or shippable (only voices fit for shipped weights)

source "$(dirname "${BASH_SOURCE[0]}")/options.sh"
parse_options "$0" "$@"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
common=(--manifests "$prep" --codec "$codec")
train() { "$python" -m palette.recipes.libritts.train "${common[@]}" "$@"; }
run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

if run_stage 1 && [ ! -d "$exp/align/final" ]; then
  echo "stage 1: aligner -> $exp/align"
  train --stage align --exp "$exp/align" --licence "$licence" --dim 192 --layers 4 --lr 2e-3 \
    --max-minutes "$align_minutes" --max-steps 1200 --warmup-steps 100
fi
if run_stage 2; then
  echo "stage 2: durations"
  "$python" -m palette.recipes.libritts.durations "${common[@]}" --aligner "$exp/align/final"
fi
if run_stage 3 && [ ! -d "$exp/par/final" ]; then
  echo "stage 3: par -> $exp/par"
  train --stage par --exp "$exp/par" --latents true --aligned true --score-ratio 0 --speaker "$speaker" --licence "$licence" \
    --dim "$dim" --layers "$layers" --max-minutes "$par_minutes" --max-steps "$par_steps"
fi
if run_stage 4 && [ ! -d "$exp/refine/final" ]; then
  echo "stage 4: refine -> $exp/refine"
  train --stage refine --exp "$exp/refine" --latents true --aligned true --score-ratio 0 --speaker "$speaker" --licence "$licence" \
    --init "$exp/par/final" \
    --dim "$dim" --layers "$layers" --lr 3e-4 --warmup-steps 50 \
    --max-minutes "$refine_minutes" --max-steps "$refine_steps"
fi
if run_stage 5; then
  echo "stage 5: export -> $out"
  "$python" -m palette.recipes.libritts.export "$out" --codec "$codec" --default-family par \
    --stage par="$exp/par/final" --stage refine="$exp/refine/final" \
    --card "$repo/recipes/libritts/MODEL_CARD.md" --sampling "$sampling"
  for s in align par refine; do mkdir -p "$out/logs"; cp "$exp/$s/log.csv" "$out/logs/$s.csv"; done
fi
