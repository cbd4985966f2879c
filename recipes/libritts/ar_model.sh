#!/usr/bin/env bash
# Train the autoregressive families (VALL-E-style ar + nar, KALL-E-style kalle) on CPU from the
# prepared mini corpus, aligned like the default PAR model: every step carries the phoneme its
# frame belongs to (durations from the CTC aligner of mini_model.sh's stage 1-2), and a duration
# head fixes the length at inference. The ar stage also trains its CTC draft head for
# self-speculative decoding; kalle trains its per-frame Gaussian draft head. Rerun the same
# command to resume (a stage whose final/ exists is skipped, a stage that was cut off continues
# from its checkpoint.pt):
#
#   stage 1  ar      --depth true (the default): every codebook of the latent-RVQ codec through a
#                    residual depth head on kalle's frozen backbone (kalle's draft head drafts for
#                    it; from this run's kalle stage when it has one, else --base's);
#                    --depth false: the first codebook's codes, with the CTC draft head
#   stage 2  nar     the other codebooks, given the first (--depth false only)
#   stage 3  kalle   Gaussian next-distribution over the codec's latents, aligned
#   stage 4  draft   kalle's draft head distilled on kalle's own greedy decoding (backbone frozen)
#   stage 5  export  add ar (nar) and kalle (float16) to the model in --out; a depth-head ar stores
#                    only the tensors it does not share with kalle
#
#   recipes/libritts/mini_model.sh --stop-stage 2   # aligner and durations first
#   recipes/libritts/ar_model.sh                    # defaults below (about 115 min, 2 cores)
set -euo pipefail

stage=1                   # first stage to run
stop_stage=5              # last stage to run
prep=data/libritts-prep   # run.sh output (manifests + codec features + durations)
codec=palette-codec       # codec the features were made with
licence=any               # any, or shippable: only voices whose sources allow shipped weights
exp=exp/ar                # checkpoints and logs per stage
out=exp/model-ar          # exported model directory (the shipped one: tts/checkpoints/palette-mini-en)
base=tts/checkpoints/palette-mini-en  # model whose stages (par, refine) are exported beside
dim=256                   # transformer width of every stage
layers=6                  # transformer blocks of every stage (the PAR stage's, for --warm)
warm=base                 # ar, kalle start from this stage's matching tensors (base: --base's par; none; or a dir)
ar_warm=kalle             # ar starts from: kalle (--base's kalle stage; its Gaussian starts the code adapter), or as --warm
nar_warm=base             # nar starts from: base (--base's par: the bidirectional core), none, or a dir
depth=true                # ar: a depth head over every codebook on kalle's frozen backbone (false: codebook 1 + nar)
depth_lr=2e-3             # ar with --depth true: peak learning rate of the depth head
ar_minutes=32             # wall-clock budget of ar
ar_steps=1200             # ar's schedule length (cosine decay ends here)
draft_upsample=8          # ar: draft frames per phoneme of the CTC draft head
nar_minutes=12            # wall-clock budget of nar
nar_steps=500             # nar's schedule length
kalle_minutes=30          # wall-clock budget of kalle
kalle_steps=1200          # kalle's schedule length
kalle_patch=1             # kalle: codec frames per step (1: the PAR stage's frame adapter fits)
kalle_draft_ahead=4       # kalle: steps the Gaussian draft head predicts ahead of each state
draft_pairs=1200          # draft: prompt/target pairs kalle decodes for the head's distillation
draft_ahead=8             # draft: steps the distilled head drafts (0: kalle_draft_ahead)
draft_hidden=1024         # draft: hidden width of the distilled head (0: the transformer's)
frame_dropout=0           # ar, kalle: probability of zeroing a step's frame input in training
own_inputs=0              # ar, kalle: probability that a step's input is the model's own draw (scheduled sampling)
lr=1e-3                   # ar, kalle: peak learning rate
own_passes=1              # ar, kalle with --own-inputs: draw passes, each from the history the last one mixed
speaker=none              # ar, kalle: global speaker embedding (none, utterance, other; needs speaker_features.py's table)

source "$(dirname "${BASH_SOURCE[0]}")/options.sh"
parse_options "$0" "$@"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
common=(--manifests "$prep" --codec "$codec" --dim "$dim" --layers "$layers" --licence "$licence")
ar_common=(--aligned true --frame-dropout "$frame_dropout" --own-inputs "$own_inputs" --own-passes "$own_passes" --lr "$lr" --speaker "$speaker")
if [ "$warm" = base ]; then warm="$base/par"; fi
if [ "$ar_warm" = kalle ]; then ar_warm="$base/kalle"; elif [ "$ar_warm" = base ]; then ar_warm=$warm; fi
if [ "$nar_warm" = base ]; then nar_warm="$base/par"; fi
kalle_common=("${ar_common[@]}")
if [ "$warm" != none ]; then kalle_common+=(--warm-start "$warm"); fi
if [ "$ar_warm" != none ]; then ar_common+=(--warm-start "$ar_warm"); fi
nar_args=()
if [ "$nar_warm" != none ]; then nar_args+=(--warm-start "$nar_warm"); fi
train() { "$python" -m palette.recipes.libritts.train "${common[@]}" "$@"; }
run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

kalle_final="$base/kalle"  # the kalle stage exported (and a depth-head ar's backbone)
if [ -d "$exp/kalle/final" ]; then kalle_final="$exp/kalle/final"; fi
if [ -d "$exp/kalle-draft/final" ]; then kalle_final="$exp/kalle-draft/final"; fi
if run_stage 1 && [ ! -d "$exp/ar/final" ] && [ "$depth" = true ]; then
  echo "stage 1: ar (depth head on $kalle_final) -> $exp/ar"
  # the backbone's draft head and speaker input as kalle has them (a speaker-conditioned kalle:
  # --speaker other unless one is given)
  head=$("$python" -c 'import json, sys; m = json.load(open(sys.argv[1]))["model"]; print(m["draft_ahead"], m["draft_hidden"], m["speaker_dim"])' "$kalle_final/config.json")
  read -r ahead hidden speaker_dim <<< "$head"
  depth_speaker=$speaker
  if [ "$speaker_dim" -gt 0 ] && [ "$speaker" = none ]; then depth_speaker=other; fi
  train --stage ar --exp "$exp/ar" --depth true --warm-start "$kalle_final" --aligned true \
    --speaker "$depth_speaker" --draft-ahead "$ahead" --draft-hidden "$hidden" \
    --train-only frames.spread,frames.stage,frames.depth_ --lr "$depth_lr" \
    --max-minutes "$ar_minutes" --max-steps "$ar_steps" --warmup-steps 50
elif run_stage 1 && [ ! -d "$exp/ar/final" ]; then
  echo "stage 1: ar -> $exp/ar"
  train --stage ar --exp "$exp/ar" "${ar_common[@]}" --patch 1 --draft-upsample "$draft_upsample" \
    --max-minutes "$ar_minutes" --max-steps "$ar_steps" --warmup-steps 100
fi
if run_stage 2 && [ ! -d "$exp/nar/final" ] && [ "$depth" != true ]; then
  echo "stage 2: nar -> $exp/nar"
  train --stage nar --exp "$exp/nar" "${nar_args[@]}" --max-minutes "$nar_minutes" --max-steps "$nar_steps" \
    --warmup-steps 50
fi
if run_stage 3 && [ ! -d "$exp/kalle/final" ]; then
  echo "stage 3: kalle -> $exp/kalle"
  train --stage kalle --exp "$exp/kalle" "${kalle_common[@]}" --patch "$kalle_patch" \
    --draft-ahead "$kalle_draft_ahead" \
    --max-minutes "$kalle_minutes" --max-steps "$kalle_steps" --warmup-steps 100
fi
if run_stage 4 && [ ! -d "$exp/kalle-draft/final" ]; then
  echo "stage 4: draft -> $exp/kalle-draft"
  "$python" -m palette.recipes.libritts.distill_draft --model "$exp/kalle/final" \
    --out "$exp/kalle-draft" --manifests "$prep" --codec "$codec" --licence "$licence" \
    --pairs "$draft_pairs" --ahead "$draft_ahead" --hidden "$draft_hidden"
fi
ar_stages=(--stage ar="$exp/ar/final" --share ar=kalle)
if [ "$depth" != true ]; then ar_stages=(--stage ar="$exp/ar/final" --stage nar="$exp/nar/final"); fi
if run_stage 5; then
  echo "stage 5: export -> $out"
  "$python" -m palette.recipes.libritts.export "$out" --codec "$codec" --default-family par \
    --stage par="$base/par" --stage refine="$base/refine" \
    "${ar_stages[@]}" --stage kalle="$kalle_final" \
    --card "$repo/recipes/libritts/MODEL_CARD.md" --sampling "$(cat "$base/bundle.json" | "$python" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["sampling"]))')"
  mkdir -p "$out/logs"
  cp "$base"/logs/*.csv "$out/logs/" 2>/dev/null || true
  for s in ar nar kalle; do
    if [ -f "$exp/$s/log.csv" ]; then cp "$exp/$s/log.csv" "$out/logs/$s.csv"; fi
  done
fi
