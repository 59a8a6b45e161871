#!/usr/bin/env bash
# TTSF as the paper trains it (SPEC §1: Matcha-TTS pretrained on LRS3 for 2,000 epochs, then
# joint training for 40 epochs; Adam lr 1e-4; 8 x 48 GB A6000), stage by stage.
#
#   scripts/train_paper.sh [STAGE...]      STAGE: data tts face joint (default: all, in order)
#
# Environment: DATA (data root holding lrs3/, default data), NGPU (default 8), RUNS (default runs).
# Each stage resumes from its out_dir/last.pt when rerun (restartable); a stage whose final file
# exists is skipped. The data must follow the LRS3 release: $DATA/lrs3/{pretrain,trainval,test}/<spk>/<clip>.mp4 + .txt.
#
# Stages, steps and batch sizes (N = clips in lrs3_pretrain_trainval.jsonl; LRS3 has ~150k:
# 118,516 pretrain + 31,982 trainval -- the steps below are computed from the local manifest):
#
#   stage  config                          per-GPU batch  global (8 GPUs)  steps                         out
#   data   python -m eval.splits freeze lrs3                                                             $DATA/lrs3/lrs3_*.jsonl
#   tts    configs/tts/lrs3.yaml            32             256              2000 epochs = 2000*N/256 (~1.18M)  runs/tts_lrs3/last.pt
#   face   configs/face/lrs3_paper.yaml     8              64               200,000 (warm-up; our choice)  runs/face_lrs3/face.pt
#   joint  configs/joint/lrs3_paper.yaml    2 x 32 frames  16 clips         40 epochs = 40*N/16 (~376k)    runs/joint_lrs3/ttsf.pt
#
# Expected GPU budget (NOT measured: no GPU was available when this was written; estimates from
# counted FLOPs, see docs/model.md "Training recipe"): tts ~50-300 GPU-h, face ~60-160 GPU-h,
# joint ~650-1,750 GPU-h -- about 0.8-2.2k A6000-hours, i.e. 4-11 days on 8 GPUs. Measure before
# committing to it: `python -m bench.train_throughput --gpu-hours` on one GPU prints steps/s, peak
# memory and the GPU-hours of these step counts at the measured speed.
#
# Weights the losses need (not downloadable by this project; see docs/model.md):
#   vgg19-dcbccd2b.pth in $TORCH_HOME/hub/checkpoints (perceptual), w600k_r50.onnx in
#   ~/.cache/ttsf-bench/weights/insightface/buffalo_l/ (identity: arcface), a SyncNet for the sync
#   loss (configs/joint/lrs3_paper.yaml losses.sync).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-data}
NGPU=${NGPU:-8}
RUNS=${RUNS:-runs}
PY=${PY:-.venv/bin/python}
TORCHRUN=("$PY" -m torch.distributed.run --standalone --nproc_per_node "$NGPU")
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(data tts face joint)
MANIFEST="$DATA/lrs3/lrs3_pretrain_trainval.jsonl"

clips() { grep -c . "$MANIFEST"; }
epochs_to_steps() { # epochs, global batch
  echo $(( ($1 * $(clips) + $2 - 1) / $2 ))
}

for stage in "${STAGES[@]}"; do
  case "$stage" in
    data)
      echo "== data: LRS3 manifests into $DATA/lrs3/"
      "$PY" -m eval.splits freeze lrs3 --data-root "$DATA"
      "$PY" -m eval.splits validate lrs3_test --data-root "$DATA"
      ;;
    tts)
      steps=$(epochs_to_steps 2000 $((32 * NGPU)))
      echo "== tts: $steps steps (2000 epochs of $(clips) clips, global batch $((32 * NGPU)))"
      "${TORCHRUN[@]}" -m ttsf.train tts --config configs/tts/lrs3.yaml --out-dir "$RUNS/tts_lrs3" \
        --max-steps "$steps" --set data.train_manifest="$MANIFEST" data.root="$DATA/lrs3"
      ;;
    face)
      [ -f "$RUNS/face_lrs3/face.pt" ] && { echo "== face: $RUNS/face_lrs3/face.pt exists, skipped"; continue; }
      echo "== face: 200000 steps, global batch $((8 * NGPU))"
      "${TORCHRUN[@]}" -m ttsf.train face --config configs/face/lrs3_paper.yaml \
        --set data.root="$DATA/lrs3" train.out_dir="$RUNS/face_lrs3"
      ;;
    joint)
      steps=$(epochs_to_steps 40 $((2 * NGPU)))
      echo "== joint: $steps steps (40 epochs of $(clips) clips, global batch $((2 * NGPU)))"
      "${TORCHRUN[@]}" -m ttsf.train joint --config configs/joint/lrs3_paper.yaml \
        --set data.root="$DATA/lrs3" train.steps="$steps" train.out_dir="$RUNS/joint_lrs3" \
              init.tts="$RUNS/tts_lrs3/last.pt" init.face="$RUNS/face_lrs3/face.pt"
      echo "== done: TTSF_CHECKPOINT=$RUNS/joint_lrs3/ttsf.pt python -m eval.run --table 1 --data-root $DATA"
      ;;
    *) echo "unknown stage $stage (data tts face joint)" >&2; exit 2 ;;
  esac
done
