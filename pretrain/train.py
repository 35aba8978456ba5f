"""Continued pretraining of a Qwen3 model on our shards, through the curriculum, with megatron-core.

    torchrun --nproc-per-node N -m pretrain.train --config configs/pretrain/<name>.yaml [key=value ...]
    python -m pretrain.train --config ...            # one process (a laptop CPU)

Read top to bottom: `main` sets up the process group and megatron's parallel state, then `run` trains
each stage of the plan in order (`train_stage`): build the model and load its starting weights (the
Hugging Face checkpoint, the previous stage's final checkpoint, or this stage's own latest checkpoint
when resuming a killed run), build the optimizer, schedule and data, then loop: take a global batch,
forward/backward its micro-batches, clip and step, log, evaluate, checkpoint. A finished stage leaves
`done.json` and is skipped when the run is started again. The device-specific parts (DDP, BF16,
pipeline schedules on GPU; their CPU stand-ins) sit behind an engine (pretrain/engines.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from pretrain import checkpoint as ckpt
from pretrain.config import ConfigError, StageConfig, TrainConfig, load_config, resolve_path
from pretrain.data import DataConfig, blend_tokens, build_datasets, build_loader, check_vocab, tokenizer_meta
from pretrain.engines import StepResult, engine_for, scheduler
from pretrain.loss import masked_token_loss
from pretrain.model import ModelConfig, build_model, padded_vocab_size
from pretrain.weighting import WeightingConfig, weighted_token_loss

log = logging.getLogger("pretrain")

# Peak dense BF16 TFLOP/s per GPU (datasheets), for MFU when logging.peak_tflops is unset.
GPU_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "H800": 989.0, "A100": 312.0, "A800": 312.0, "L40S": 362.0}


# ------------------------------------------------------------------------------------------ setup
def init_distributed() -> bool:
    """Join torchrun's process group (or make a one-process one); NCCL on GPU, gloo on CPU.

    Returns True when this call created the group (and the caller should destroy it)."""
    if torch.distributed.is_initialized():
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if "RANK" in os.environ:
        torch.distributed.init_process_group(backend)
    else:  # plain `python -m pretrain.train`: a group of one on a free local port
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        torch.distributed.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    return True


def init_parallel_state(tcfg: TrainConfig, seed: int) -> int:
    """megatron-core's tensor / pipeline / data parallel groups; returns the data-parallel size."""
    from megatron.core import parallel_state, tensor_parallel

    dp = tcfg.parallel.data_parallel_size(torch.distributed.get_world_size())
    parallel_state.destroy_model_parallel()
    parallel_state.initialize_model_parallel(
        tensor_model_parallel_size=tcfg.parallel.tensor_model_parallel_size,
        pipeline_model_parallel_size=tcfg.parallel.pipeline_model_parallel_size,
    )
    torch.manual_seed(seed)  # CPU initialisation draws from torch's RNG
    if torch.cuda.is_available():
        tensor_parallel.model_parallel_cuda_manual_seed(seed)
    return dp


def is_rank0() -> bool:
    return not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0


def print0(*args: Any) -> None:
    if is_rank0():
        print(*args, flush=True)


# ------------------------------------------------------------------------------------------ metrics
def flops_per_token(cfg: ModelConfig, vocab_rows: int, seq_length: int) -> float:
    """Training FLOPs per token (forward + backward = 3 x forward), PaLM's appendix-B count: 6 x the
    matmul parameters (attention projections, SwiGLU, output layer) + 12 x layers x attention width x
    sequence length for the score and value products (full, not causal-halved, as Megatron-LM counts)."""
    attn_width = cfg.num_attention_heads * cfg.kv_channels
    kv_width = cfg.num_query_groups * cfg.kv_channels
    per_layer = cfg.hidden_size * (attn_width + 2 * kv_width) + attn_width * cfg.hidden_size \
        + 3 * cfg.hidden_size * cfg.ffn_hidden_size
    matmul_params = cfg.num_layers * per_layer + vocab_rows * cfg.hidden_size
    return 6.0 * matmul_params + 12.0 * cfg.num_layers * attn_width * seq_length


def peak_tflops(configured: float | None) -> float:
    """One device's peak: the configured figure, a GPU's datasheet BF16 rate, or a measured CPU FP32 rate."""
    if configured:
        return configured
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        for key, tf in GPU_PEAK_TFLOPS.items():
            if key in name:
                return tf
        log.warning("unknown GPU %r: set logging.peak_tflops for MFU (using 989)", name)
        return 989.0
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.3:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e12


class Logger:
    """Console lines, `<save>/log.jsonl` and TensorBoard scalars (rank 0 only)."""

    def __init__(self, save: Path, tensorboard: bool):
        self.jsonl = None
        self.tb = None
        if is_rank0():
            save.mkdir(parents=True, exist_ok=True)
            self.jsonl = (save / "log.jsonl").open("a", encoding="utf-8")
            if tensorboard:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(save / "tensorboard"))

    def event(self, record: dict, global_step: int) -> None:
        if self.jsonl is None:
            return
        self.jsonl.write(json.dumps(record, sort_keys=True) + "\n")
        self.jsonl.flush()
        if self.tb is not None:
            prefix = f"{record['stage']}/{record['kind']}"
            for k, v in record.items():
                if isinstance(v, int | float) and k not in ("step", "global_step"):
                    self.tb.add_scalar(f"{prefix}/{k}", v, global_step)
            self.tb.flush()

    def close(self) -> None:
        if self.jsonl is not None:
            self.jsonl.close()
        if self.tb is not None:
            self.tb.close()


# ------------------------------------------------------------------------------------------ one step
def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def token_weights(batch: dict) -> torch.Tensor:
    """Per-token loss weights: the batch's `token_weights` when a stage provides them, else ones."""
    return batch["token_weights"] if "token_weights" in batch else torch.ones_like(batch["loss_mask"])


def forward_step(data_iterator: Iterator[dict], model: torch.nn.Module, *, reference: torch.nn.Module | None = None,
                 weighting: WeightingConfig | None = None) -> tuple[torch.Tensor, Callable]:
    """megatron-core's forward_step_func: per-token losses of one micro-batch and the loss function. With a
    weighting criterion (bind `reference` and `weighting` with functools.partial), the frozen reference model
    scores the same micro-batch without gradient and the loss is `pretrain.weighting.weighted_token_loss`."""
    batch = next(data_iterator)
    args = (batch["tokens"], batch["position_ids"], batch.get("attention_mask"))
    output = model(*args, labels=batch["labels"])
    if weighting is None or weighting.criterion == "none":
        return output, partial(masked_token_loss, loss_mask=batch["loss_mask"], weights=token_weights(batch))
    ref_loss = batch.get("ref_loss")  # offline: the shards' reference-loss sidecars
    if reference is not None:
        with torch.no_grad():
            ref_loss = reference(*args, labels=batch["labels"]).float()
    return output, partial(weighted_token_loss, loss_mask=batch["loss_mask"], cfg=weighting, reference_loss=ref_loss)


def reference_model(run: Run, seq_length: int) -> torch.nn.Module | None:
    """The frozen reference model of `weighting` (online mode), built in the run's parallel layout and loaded
    from its Hugging Face directory; None when the criterion is `none`."""
    w = run.tcfg.weighting
    if not w.needs_reference or w.mode == "offline":
        return None
    from pretrain.hf import import_hf

    hf_dir = resolve_path(w.reference, run.save)
    hf_dir = hf_dir.parent if hf_dir.name == "config.json" else hf_dir
    cfg = dataclasses.replace(ModelConfig.from_hf(hf_dir), vocab_size=run.vocab_rows)
    model = build_model(cfg, vocab_size=run.vocab_rows, seq_length=seq_length, spec=run.tcfg.model.spec,
                        params_dtype=torch.float32, bf16=run.engine.bf16,
                        sequence_parallel=run.tcfg.parallel.sequence_parallel)  # fmt: skip
    import_hf(model, hf_dir, cfg)
    model = model.to(run.engine.device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    print0(f"weighting: {w.criterion} with reference model {hf_dir} (online, frozen)")
    return model


def evaluate(engine, model, batches: list[list[dict]], seq_length: int) -> StepResult:
    """Mean loss over evaluation global batches (forward only)."""
    model.eval()
    total = StepResult(0.0, 0)
    for micro in batches:
        r = engine.forward_backward(model, forward_step, [to_device(b, engine.device) for b in micro],
                                    seq_length=seq_length, forward_only=True)  # fmt: skip
        total = StepResult(total.loss_sum + r.loss_sum, total.tokens + r.tokens)
    model.train()
    return total


# ------------------------------------------------------------------------------------------ a stage
@dataclass
class Run:
    """What every stage shares: config, engine, model config, sizes, output folder and logger."""

    tcfg: TrainConfig
    engine: Any
    model_cfg: ModelConfig
    vocab_rows: int
    dp_size: int
    save: Path
    logger: Logger
    meta: dict
    peak: float
    on_step: Callable[[str, int, dict], None] | None = None
    """Test hook, called after each logged step with (stage, step, record)."""
    results: dict = field(default_factory=dict)

    @property
    def num_micro(self) -> int:
        return self.tcfg.global_batch_size // (self.tcfg.micro_batch_size * self.dp_size)


def _dp_rank() -> int:
    from megatron.core import parallel_state

    return parallel_state.get_data_parallel_rank()


def micro_batches(loader: Iterator[dict], n: int) -> list[dict]:
    return [next(loader) for _ in range(n)]


def eval_batches(run: Run, dcfg: DataConfig, name: str) -> list[list[dict]] | None:
    """The fixed evaluation set of `dcfg`'s valid split: `eval_iters` global batches, the same every time."""
    t = run.tcfg
    if t.logging.eval_iters == 0:
        return None
    samples = t.logging.eval_iters * t.global_batch_size
    _, valid, _ = build_datasets(dcfg, train_samples=1, valid_samples=samples, test_samples=0, tokenizer_meta=run.meta)
    loader = iter(build_loader(valid, t.micro_batch_size, dp_rank=_dp_rank(), dp_size=run.dp_size, num_workers=0))
    out = [micro_batches(loader, run.num_micro) for _ in range(t.logging.eval_iters)]
    log.info("eval set %s: %d samples from %s", name, samples, dcfg.shards_path)
    return out


def build_eval_sets(run: Run, dcfg: DataConfig) -> dict[str, list[list[dict]]]:
    sets = {"valid": eval_batches(run, dcfg, "valid")}
    for name, es in run.tcfg.eval_sets.items():
        other = dataclasses.replace(dcfg, shards_dir=str(resolve_path(es.shards_dir, run.save)), stage=es.stage,
                                    use_loss_mask=es.use_loss_mask, cache_dir=None)  # fmt: skip
        sets[name] = eval_batches(run, other, name)
    return {k: v for k, v in sets.items() if v is not None}


def run_evals(run: Run, model, sets: dict, stage: str, step: int, global_step: int) -> dict[str, float]:
    losses = {}
    for name, batches in sets.items():
        r = evaluate(run.engine, model, batches, run.tcfg.data.seq_length)
        losses[name] = r.loss
        run.logger.event({"kind": "eval", "stage": stage, "step": step, "global_step": global_step, "set": name,
                          "loss": r.loss, "ppl": math.exp(min(r.loss, 50.0)), "tokens": r.tokens}, global_step)  # fmt: skip
    print0(f"[{stage}] eval step {step}: " + "  ".join(f"{k} loss {v:.4f}" for k, v in losses.items()))
    return losses


def initial_weights(run: Run, model, stage_index: int, previous: Path | None) -> str:
    """Load the stage's starting weights into the unwrapped model: previous stage's final checkpoint, or
    the Hugging Face checkpoint (`init: hf`), or keep the random init. Returns a description."""
    src = run.tcfg.model
    if previous is not None:
        ckpt.load(previous, model=model, model_cfg=run.model_cfg)
        return f"previous stage {previous}"
    if src.init == "random":
        return "random init"
    from pretrain.hf import import_hf

    hf_dir = resolve_path(src.hf_path, run.save)
    hf_dir = hf_dir.parent if hf_dir.name == "config.json" else hf_dir
    added = list(run.meta.get("added_token_ids", []))
    own = hf_dir / "tokenizer_meta.json"  # an export of ours: its added-token rows are trained
    if own.is_file() and json.loads(own.read_text(encoding="utf-8")).get("added_token_ids", []) == added:
        added = []
    import_hf(model, hf_dir, run.model_cfg, new_token_ids=added)
    return f"Hugging Face {hf_dir}" + (f" (+{len(added)} new token rows at the mean embedding)" if added else "")


def train_stage(run: Run, index: int, stage: StageConfig, previous: Path | None) -> Path:
    """Train one curriculum stage to its budget; returns its final checkpoint."""
    t, engine = run.tcfg, run.engine
    stage_dir = run.save / stage.name
    dcfg = dataclasses.replace(t.data, stage=stage.data)
    tokens_per_step = t.global_batch_size * dcfg.seq_length
    steps = stage.num_steps(tokens_per_step, blend_tokens(dcfg))
    resume_step = ckpt.latest_step(stage_dir)

    torch.manual_seed(t.seed + index)
    model = build_model(run.model_cfg, vocab_size=run.vocab_rows, seq_length=dcfg.seq_length, spec=t.model.spec,
                        params_dtype=torch.float32, bf16=engine.bf16,
                        sequence_parallel=t.parallel.sequence_parallel)  # fmt: skip
    source = "resume" if resume_step is not None else initial_weights(run, model, index, previous)
    model = engine.wrap(model, t)
    optimizer = engine.optimizer(model, stage.optimizer)
    sched = scheduler(optimizer, stage.optimizer, steps)
    state = ckpt.TrainState()
    if resume_step is not None:
        state = ckpt.load(ckpt.iter_dir(stage_dir, resume_step), model=engine.unwrap(model), model_cfg=run.model_cfg,
                          optimizer=optimizer, scheduler=sched)  # fmt: skip
        source = f"resumed {ckpt.iter_dir(stage_dir, resume_step)}"
    if is_rank0():
        stage_dir.mkdir(parents=True, exist_ok=True)
        ckpt.write_atomic(stage_dir / "model_config.json", json.dumps(run.model_cfg.to_dict(), indent=2) + "\n")
        ckpt.write_atomic(stage_dir / "train_config.json", t.to_json() + "\n")
    print0(f"[{stage.name}] data {dcfg.blend_name}: {steps} steps x {tokens_per_step:,} tokens "
           f"({t.global_batch_size} x {dcfg.seq_length}; {run.num_micro} micro-batches of {t.micro_batch_size} "
           f"on each of {run.dp_size} data-parallel ranks), lr {stage.optimizer.lr:g} {stage.optimizer.decay_style}; "
           f"weights: {source}")  # fmt: skip

    offline = t.weighting.needs_reference and t.weighting.mode == "offline"  # the training samples carry ref_loss
    train_ds, _, _ = build_datasets(dataclasses.replace(dcfg, reference_loss=offline),
                                    train_samples=steps * t.global_batch_size, valid_samples=0,
                                    test_samples=0, tokenizer_meta=run.meta)  # fmt: skip
    loader = iter(build_loader(train_ds, t.micro_batch_size, consumed_samples=state.consumed_samples,
                               dp_rank=_dp_rank(), dp_size=run.dp_size, seed=t.seed,
                               num_workers=dcfg.num_workers))  # fmt: skip
    evals = build_eval_sets(run, dcfg)
    reference = reference_model(run, dcfg.seq_length)
    weighted = t.weighting.needs_reference
    step_fn = partial(forward_step, reference=reference, weighting=t.weighting) if weighted else forward_step
    if weighted and reference is None:
        print0(f"weighting: {t.weighting.criterion} with the shards' reference-loss sidecars (offline)")
    offset = sum(run.results.get(s, {}).get("steps", 0) for s in run.results)  # global step of step 0
    flops_tok = flops_per_token(run.model_cfg, run.vocab_rows, dcfg.seq_length)
    world = torch.distributed.get_world_size()

    first_eval = None
    if evals and t.logging.eval_at_start and state.step == 0:
        first_eval = run_evals(run, model, evals, stage.name, 0, offset)
    window = {"time": 0.0, "wait": 0.0, "loss": 0.0, "tokens": 0, "steps": 0}
    last_eval = first_eval
    while state.step < steps:
        t0 = time.perf_counter()
        batches = [to_device(b, engine.device) for b in micro_batches(loader, run.num_micro)]
        t_data = time.perf_counter() - t0
        engine.zero_grad(model, optimizer)
        result = engine.forward_backward(model, step_fn, batches, seq_length=dcfg.seq_length)
        grad_norm = engine.step(optimizer, stage.optimizer)
        sched.step(increment=1)
        state.step += 1
        state.consumed_samples += t.global_batch_size
        dt = time.perf_counter() - t0
        window["time"] += dt
        window["wait"] += t_data
        window["loss"] += result.loss_sum
        window["tokens"] += result.tokens
        window["steps"] += 1
        if state.step % t.logging.interval == 0 or state.step == steps:
            tps = window["steps"] * tokens_per_step / window["time"]
            rec = {"kind": "train", "stage": stage.name, "step": state.step, "global_step": offset + state.step,
                   "loss": result.loss, "window_loss": window["loss"] / max(window["tokens"], 1),
                   "grad_norm": grad_norm, "lr": optimizer.param_groups[0]["lr"], "tokens_per_s": tps,
                   "tokens_per_s_per_device": tps / world, "mfu": flops_tok * tps / (run.peak * 1e12 * world),
                   "data_wait_share": window["wait"] / window["time"], "loss_tokens": result.tokens,
                   "consumed_samples": state.consumed_samples, "mean_weight": result.mean_weight}  # fmt: skip
            run.logger.event(rec, offset + state.step)
            print0(f"[{stage.name}] step {state.step}/{steps}  loss {rec['window_loss']:.4f}  grad norm {grad_norm:.3f}  "
                   f"lr {rec['lr']:.3g}  {tps:,.0f} tok/s  MFU {100 * rec['mfu']:.1f}%  "
                   f"data wait {100 * rec['data_wait_share']:.1f}%"
                   + (f"  mean weight {result.mean_weight:.3f}" if weighted else ""))  # fmt: skip
            window = {"time": 0.0, "wait": 0.0, "loss": 0.0, "tokens": 0, "steps": 0}
        if run.on_step is not None:
            run.on_step(stage.name, state.step, {"loss": result.loss, "grad_norm": grad_norm,
                                                 "mean_weight": result.mean_weight})
        if evals and (state.step % t.logging.eval_interval == 0 or state.step == steps):
            last_eval = run_evals(run, model, evals, stage.name, state.step, offset + state.step)
        if state.step % t.checkpoint.interval == 0 or state.step == steps:
            ckpt.save(stage_dir, model=engine.unwrap(model), optimizer=optimizer, scheduler=sched, state=state,
                              model_cfg=run.model_cfg, keep_last=t.checkpoint.keep_last)  # fmt: skip
    final = ckpt.iter_dir(stage_dir, steps)
    if t.checkpoint.export_hf:
        from pretrain.hf import export_hf

        export_hf(engine.unwrap(model), run.model_cfg, stage_dir / "hf", tokenizer_dir=t.data.shards_path / "tokenizer")
        print0(f"[{stage.name}] Hugging Face export: {stage_dir / 'hf'}")
    info = {"stage": stage.name, "init": source, "steps": steps, "final_checkpoint": str(final), "tokens": steps * tokens_per_step,
            "eval_before": first_eval, "eval_after": last_eval}  # fmt: skip
    ckpt.mark_done(stage_dir, info)
    run.results[stage.name] = info
    return final


# ------------------------------------------------------------------------------------------ the run
def run(tcfg: TrainConfig, *, on_step: Callable[[str, int, dict], None] | None = None) -> dict:
    """Train every stage of the plan in order (the process group must exist); returns per-stage results."""
    engine = engine_for(tcfg)
    save = resolve_path(tcfg.checkpoint.save)
    dp = init_parallel_state(tcfg, tcfg.seed)
    meta = tokenizer_meta(tcfg.data.shards_path)
    model_cfg = ModelConfig.from_hf(resolve_path(tcfg.model.hf_path, save))
    tp = tcfg.parallel.tensor_model_parallel_size
    rows = padded_vocab_size(max(int(meta["vocab_size"]), model_cfg.vocab_size), tp)
    model_cfg = dataclasses.replace(model_cfg, vocab_size=rows)
    if tcfg.global_batch_size % (tcfg.micro_batch_size * dp):
        raise ConfigError(f"global_batch_size {tcfg.global_batch_size} must be a multiple of micro_batch_size x "
                          f"data-parallel size = {tcfg.micro_batch_size} x {dp}")  # fmt: skip
    for stage in tcfg.plan():
        check_vocab(dataclasses.replace(tcfg.data, stage=stage.data), rows)
    print0(f"model: {json.dumps(model_cfg.to_dict())}")
    print0(f"vocabulary: tokenizer {meta['vocab_size']:,} -> {rows:,} embedding rows (x{128 * tp} padding)")
    print0(f"engine: {engine.name}, world size {torch.distributed.get_world_size()} (tp {tp}, "
           f"pp {tcfg.parallel.pipeline_model_parallel_size}, dp {dp}); output: {save}")  # fmt: skip
    logger = Logger(save, tcfg.logging.tensorboard)
    run_ = Run(tcfg, engine, model_cfg, rows, dp, save, logger, meta, peak_tflops(tcfg.logging.peak_tflops), on_step)
    previous: Path | None = None
    try:
        for index, stage in enumerate(tcfg.plan()):
            done = ckpt.read_done(save / stage.name)
            if done is not None:
                print0(f"[{stage.name}] already done ({done['final_checkpoint']}); skipping")
                run_.results[stage.name] = done
                previous = Path(done["final_checkpoint"])
                continue
            previous = train_stage(run_, index, stage, previous)
    finally:
        logger.close()
    if is_rank0():
        ckpt.write_atomic(save / "summary.json", json.dumps(run_.results, indent=2, sort_keys=True) + "\n")
    return run_.results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m pretrain.train",
        description="Continued pretraining of a Qwen3 model on our Megatron shards with megatron-core "
        "(launch with torchrun for several processes).",
        epilog="example: torchrun --nproc-per-node 8 -m pretrain.train --config configs/pretrain/qwen3_1.7b.yaml "
        "checkpoint.save=/ckpt/run1 stages.0.tokens=1000000000",
    )
    p.add_argument("--config", required=True, help="YAML training config (see configs/pretrain/)")
    p.add_argument("overrides", nargs="*", help="key.sub=value overrides, e.g. global_batch_size=64 stages.0.steps=10")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, *, on_step: Callable | None = None) -> dict:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stdout)  # fmt: skip
    for noisy in ("megatron.core", "huggingface_hub"):  # per-file index and dataset-build chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        tcfg = load_config(args.config, args.overrides)
    except ConfigError as e:
        raise SystemExit(f"error: {e}") from None
    created = init_distributed()
    try:
        print0(f"config ({args.config}):\n{tcfg.to_json()}")
        return run(tcfg, on_step=on_step)
    finally:
        from megatron.core import parallel_state

        parallel_state.destroy_model_parallel()
        if created:
            torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
