#!/usr/bin/env bash
# GRPO on verl (Megatron backend) with our hybrid reward, as the seeds define GRPO (pretrain/grpo.py is the same
# algorithm on TRL): group size 8, advantage = reward - group mean (no std scaling), clipped ratio 0.2, KL to the
# reference as a loss term (beta 0.04, k3 estimator as TRL's), the original GRPO loss normalisation (mean over
# each sequence's tokens, then over sequences: TRL's loss_type="grpo"), one update per rollout batch.
#
# Keys checked against volcengine/verl@b178a3cd56f58b2d502255daba591e92833930a7 (2026-01-29, 0.8.0.dev):
# every key below exists in verl/trainer/config/ppo_megatron_trainer.yaml and its includes, and each `+` key is
# one it lacks (Hydra refuses `+` on an existing key and a plain override of a missing one);
# tests/pretrain/test_verl_adapter.py checks the keys again against an installed verl's generated config.
#
# Train/rollout log-probability mismatch, logged from the first step: rollout.calculate_log_probs=True makes the
# rollout engine (vLLM, bf16) return its log-probs; the actor (Megatron) recomputes them (decoupled mode), and verl
# logs per step
#   training/rollout_probs_diff_{mean,max,std}, training/rollout_actor_probs_pearson_corr
#     (|p_rollout - p_train| per token; verl's FAQ: mean below 0.005 is normal, above 0.01 is a precision problem)
#   rollout_corr/{kl,k3_kl,log_ppl_diff,log_ppl_abs_diff,log_ppl_diff_max,log_ppl_diff_min,ppl_ratio,
#                 chi2_token,chi2_seq,training_ppl,rollout_ppl}  (off-policy gap between the two)
# Metrics only: rollout_is and rollout_rs stay null, so the loss is the seeds' GRPO. To correct a gap the metrics
# show, add algorithm.rollout_correction.rollout_is=token algorithm.rollout_correction.rollout_is_threshold=2.0
# (truncated importance sampling; docs/algo/rollout_corr.md in verl).
#
# Usage (after `python -m pretrain.verl_rl data --out $OUT` and an HF export of the SFT checkpoint):
#   OUT=/data/out MODEL=/ckpt/sft/hf NNODES=2 GPUS_PER_NODE=8 TP=2 PP=2 bash configs/rl/verl_grpo_megatron.sh [overrides]
#   DRY_RUN=1 ... prints the command, one argument a line, instead of running it.
# Tool rollouts (agentic boundary learning; after `python -m pretrain.agent` labelled the queries and
# `python -m pretrain.verl_rl data --agent` wrote $OUT/rl_verl_agent): AGENT=1 [MODEL=<boundary SFT export>] ...
#   verl's tool_agent loop runs the policy's <tool_call>s (hermes format) through pretrain/agent/verl_tools.py's
#   tools, bound per row to the row's listener; the reward is the final answer's hybrid reward plus the
#   unnecessary-call penalty (PENALTY_COST per needless or refused call), as on TRL (pretrain/agent/rl.py).
# Environment for verl's workers: verl and its Megatron/vLLM stack, plus this repository on PYTHONPATH (set below,
# for Ray's workers too) and the reward side's light dependencies (numpy, pyarrow, pandas, orjson, rapidfuzz, xxhash).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(realpath -m "${OUT:-$REPO/out}")  # absolute: Ray workers and the reward run elsewhere
AGENT=${AGENT:-}
if [[ -n "$AGENT" ]]; then DATA=${DATA:-$OUT/rl_verl_agent}; else DATA=${DATA:-$OUT/rl_verl}; fi
MODEL=${MODEL:-$OUT/sft_demo/sft/sft/hf}
EXPERIMENT=${EXPERIMENT:-grpo_megatron${AGENT:+_agent}}
RUN_DIR=${RUN_DIR:-$OUT/rl_verl_runs/$EXPERIMENT}
NNODES=${NNODES:-1}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
TP=${TP:-2}                      # Megatron tensor parallel (actor and reference)
PP=${PP:-1}                      # Megatron pipeline parallel (actor and reference)
ROLLOUT_TP=${ROLLOUT_TP:-2}      # vLLM tensor parallel
PROMPTS_PER_STEP=${PROMPTS_PER_STEP:-64}   # x 8 completions each
MICRO_BSZ=${MICRO_BSZ:-4}        # sequences per GPU per forward
LR=${LR:-1e-6}
MAX_PROMPT_LEN=${MAX_PROMPT_LEN:-2048}
# TRL's max_completion_length: a ten-line list; with tools, every turn and tool result (AgentConfig.rl_completion_tokens)
if [[ -n "$AGENT" ]]; then MAX_RESPONSE_LEN=${MAX_RESPONSE_LEN:-800}; else MAX_RESPONSE_LEN=${MAX_RESPONSE_LEN:-160}; fi
MAX_TOOL_ROUNDS=${MAX_TOOL_ROUNDS:-1}      # rounds of calls before the answer (AgentConfig.max_tool_rounds)
PENALTY_COST=${PENALTY_COST:-0.1}          # reward per unnecessary call (AgentConfig.penalty_cost)
EPOCHS=${EPOCHS:-1}
LOGGER=${LOGGER:-[console,wandb]}

export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export CUDA_DEVICE_MAX_CONNECTIONS=1  # Megatron's communication/computation overlap

cmd=(python3 -m verl.trainer.main_ppo --config-name=ppo_megatron_trainer
    # GRPO as the seeds define it
    algorithm.adv_estimator=grpo
    algorithm.norm_adv_by_std_in_grpo=False
    algorithm.use_kl_in_reward=False
    actor_rollout_ref.rollout.n=8
    actor_rollout_ref.actor.use_kl_loss=True
    actor_rollout_ref.actor.kl_loss_coef=0.04
    actor_rollout_ref.actor.kl_loss_type=low_var_kl
    actor_rollout_ref.actor.clip_ratio=0.2
    actor_rollout_ref.actor.clip_ratio_low=0.2
    actor_rollout_ref.actor.clip_ratio_high=0.2
    actor_rollout_ref.actor.loss_agg_mode=seq-mean-token-mean
    actor_rollout_ref.actor.entropy_coeff=0
    actor_rollout_ref.actor.ppo_epochs=1
    actor_rollout_ref.actor.ppo_mini_batch_size="$PROMPTS_PER_STEP"
    actor_rollout_ref.rollout.temperature=1.0
    # train/rollout log-prob mismatch: logged, not corrected (see the header)
    actor_rollout_ref.rollout.calculate_log_probs=True
    algorithm.rollout_correction.bypass_mode=False
    algorithm.rollout_correction.rollout_is=null
    algorithm.rollout_correction.rollout_rs=null
    # data: python -m pretrain.verl_rl data
    data.train_files="$DATA/train.parquet"
    data.val_files="$DATA/val.parquet"
    data.prompt_key=prompt
    data.reward_fn_key=data_source
    data.train_batch_size="$PROMPTS_PER_STEP"
    data.max_prompt_length="$MAX_PROMPT_LEN"
    data.max_response_length="$MAX_RESPONSE_LEN"
    data.filter_overlong_prompts=True
    data.truncation=error
    +data.apply_chat_template_kwargs.enable_thinking=False
    # reward: the hybrid reward, one cached instance per process
    reward_model.reward_manager=naive
    custom_reward_function.path="$REPO/configs/rl/verl_reward.py"
    custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.out="$OUT"
    # model and Megatron parallelism
    actor_rollout_ref.model.path="$MODEL"
    actor_rollout_ref.actor.optim.lr="$LR"
    actor_rollout_ref.actor.megatron.tensor_model_parallel_size="$TP"
    actor_rollout_ref.actor.megatron.pipeline_model_parallel_size="$PP"
    actor_rollout_ref.ref.megatron.tensor_model_parallel_size="$TP"
    actor_rollout_ref.ref.megatron.pipeline_model_parallel_size="$PP"
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu="$MICRO_BSZ"
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu="$MICRO_BSZ"
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu="$MICRO_BSZ"
    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP"
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6
    # run
    trainer.nnodes="$NNODES"
    trainer.n_gpus_per_node="$GPUS_PER_NODE"
    trainer.total_epochs="$EPOCHS"
    trainer.project_name=music_llm_grpo
    trainer.experiment_name="$EXPERIMENT"
    trainer.logger="$LOGGER"
    trainer.val_before_train=True
    trainer.test_freq=10
    trainer.save_freq=50
    trainer.critic_warmup=0
    trainer.default_local_dir="$RUN_DIR/checkpoints"
    trainer.rollout_data_dir="$RUN_DIR/rollouts"
    +trainer.validation_data_dir="$RUN_DIR/validation"
    +ray_kwargs.ray_init.runtime_env.env_vars.PYTHONPATH="$PYTHONPATH")
if [[ -n "$AGENT" ]]; then
    cmd+=(
    # tool rollouts: verl's tool_agent loop (the rows' agent_name), our tools, one call per round
    actor_rollout_ref.rollout.multi_turn.enable=True
    actor_rollout_ref.rollout.multi_turn.tool_config_path="$DATA/tool_config.yaml"
    actor_rollout_ref.rollout.multi_turn.format=hermes
    actor_rollout_ref.rollout.multi_turn.max_assistant_turns=$((MAX_TOOL_ROUNDS + 1))
    actor_rollout_ref.rollout.multi_turn.max_parallel_calls=1
    actor_rollout_ref.rollout.multi_turn.max_tool_response_length=4096  # characters: a 20-song list with ids
    actor_rollout_ref.rollout.agent.default_agent_loop=tool_agent
    +custom_reward_function.reward_kwargs.penalty_cost="$PENALTY_COST")
fi
cmd+=("$@")

if [[ -n "${DRY_RUN:-}" ]]; then
    printf '%s\n' "${cmd[@]}"
    exit 0
fi
exec "${cmd[@]}"
