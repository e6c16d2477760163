#!/bin/bash
# Evaluate in N independent shards with a SLURM job array, then merge them in a dependent job.
#
#   bash examples/scale/slurm_array.sh          # submits the array (N shards) and the merge job
#
# Each array task runs `--shard K/N` (K = SLURM_ARRAY_TASK_ID + 1) as its own run folder under
# $OUT/shard_K; a task that is preempted or fails is simply resubmitted (`--resume` continues its
# folder, finished samples are kept). The merge job starts once every shard succeeded
# (afterok) and writes one run folder whose results.json equals a single-process run's.
# The shards' run folders must be readable by the merge job (a shared filesystem, or copy them).
# Use a fresh OUT per run: the merge takes every run folder under $OUT/shard_*.
#
#SBATCH --job-name=lmms-eval-shard
#SBATCH --array=0-3
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=%x_%A_%a.log
set -euo pipefail

N=4                                   # keep equal to the size of --array above
OUT=${OUT:-$PWD/logs/scale_run}       # shared by every shard and the merge job
MODEL=${MODEL:-qwen2_5_vl}
MODEL_ARGS=${MODEL_ARGS:-pretrained=Qwen/Qwen2.5-VL-7B-Instruct}
TASKS=${TASKS:-mmmu_val,mathvista_testmini,chartqa}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    # On the login node: submit the shards, then the merge that waits for all of them.
    array_id=$(sbatch --parsable --array=0-$((N - 1)) --export=ALL,OUT="$OUT" "$0")
    sbatch --dependency=afterok:"$array_id" --job-name=lmms-eval-merge --time=00:30:00 \
        --output="lmms-eval-merge_%j.log" \
        --wrap "lmms-eval merge $OUT/shard_*/*/*/ --output_path $OUT/merged"
    echo "submitted shards (job $array_id) and their merge; results under $OUT/merged"
    exit 0
fi

K=$((SLURM_ARRAY_TASK_ID + 1))
lmms-eval --model "$MODEL" --model_args "$MODEL_ARGS" --tasks "$TASKS" --batch_size auto \
    --shard "$K/$N" --output_path "$OUT/shard_$K" --resume
