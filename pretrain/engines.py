"""How one optimizer step runs on a device: the loop in train.py is the same on a laptop and on GPUs.

An engine wraps the model, builds the optimizer and runs the micro-batches of one global batch:
- `GpuEngine`: megatron-core's own parts: `Float16Module` (BF16), `DistributedDataParallel` with the
  distributed optimizer (`get_megatron_optimizer`), `get_forward_backward_func` (pipeline schedules),
  `finalize_model_grads` with `calculate_per_token_loss`.
- `CpuEngine`: those parts hard-code CUDA in megatron-core 0.16.1 (schedules allocate the token count on
  "cuda", DDP and the FP32 optimizer call `torch.cuda.*`), so on CPU the same arithmetic runs through
  `pretrain.compat`: a plain micro-batch loop, a gradient all-reduce over the data-parallel group
  (gloo), the global per-token scaling, megatron's grad-norm rule and `torch.optim.AdamW`.
Both call the same `forward_step` and loss (`pretrain.loss.masked_token_loss`), and both step the
learning rate with megatron-core's `OptimizerParamScheduler`. `engine_for(device)` picks one by device
type, so no training code branches on the device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from pretrain import compat
from pretrain.config import OptimizerConfig, TrainConfig

ForwardStep = Callable[[Iterator[dict], torch.nn.Module], tuple[torch.Tensor, Callable]]


@dataclass
class StepResult:
    """Reduced over data-parallel ranks: summed unweighted loss and loss tokens of the global batch, and the
    summed token weight over loss tokens when the loss is weighted (`pretrain.weighting`)."""

    loss_sum: float
    tokens: int
    weight_sum: float = 0.0
    weight_tokens: int = 0

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.tokens, 1)

    @property
    def mean_weight(self) -> float:
        """Mean token weight over loss tokens (1.0 when the loss is not weighted)."""
        return self.weight_sum / self.weight_tokens if self.weight_tokens else 1.0

    @classmethod
    def from_total(cls, total: torch.Tensor) -> StepResult:
        return cls(float(total[0]), int(total[1]), float(total[2]), int(total[3]))


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Megatron's rule: no weight decay on biases and 1-D parameters (norm weights)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim == 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": decay, "wd_mult": 1.0, "weight_decay": weight_decay},
            {"params": no_decay, "wd_mult": 0.0, "weight_decay": 0.0}]  # fmt: skip


def scheduler(optimizer: Any, ocfg: OptimizerConfig, steps: int):
    """megatron-core `OptimizerParamScheduler`: linear warmup, then cosine/linear decay or constant."""
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

    warmup = int(round(ocfg.warmup_fraction * steps))
    warmup = min(warmup, steps - 1) if steps > 1 else 0
    return OptimizerParamScheduler(
        optimizer, init_lr=0.0 if warmup else ocfg.lr, max_lr=ocfg.lr,
        min_lr=ocfg.min_lr if ocfg.decay_style != "constant" else ocfg.lr,
        lr_warmup_steps=warmup, lr_decay_steps=max(steps, 1), lr_decay_style=ocfg.decay_style,
        start_wd=ocfg.weight_decay, end_wd=ocfg.weight_decay, wd_incr_steps=max(steps, 1), wd_incr_style="constant",
        use_checkpoint_opt_param_scheduler=True,
    )  # fmt: skip


def _sum_reports(store: list[dict], device: torch.device) -> torch.Tensor:
    """[loss sum, loss tokens, weight sum, weighted tokens] over the micro-batches' reports."""
    total = torch.zeros(4, dtype=torch.float64, device=device)
    for rep in store:
        if isinstance(rep, dict) and "lm loss" in rep:
            total[:2] += rep["lm loss"].to(device=device, dtype=torch.float64)
        if isinstance(rep, dict) and "mean weight" in rep:
            total[2:] += rep["mean weight"].to(device=device, dtype=torch.float64)
    return total


class CpuEngine:
    """FP32 on CPU with gloo: see the module docstring and `pretrain.compat`."""

    name = "cpu"
    device = torch.device("cpu")
    params_dtype = torch.float32
    bf16 = False

    def __init__(self, tcfg: TrainConfig):
        if tcfg.precision == "bf16":
            raise ValueError("precision: bf16 needs a GPU; use fp32 (or auto) on CPU")
        if tcfg.parallel.pipeline_model_parallel_size > 1:
            raise ValueError("parallel.pipeline_model_parallel_size > 1 needs GPUs; the CPU path runs one stage")
        if tcfg.parallel.sequence_parallel:
            raise ValueError("parallel.sequence_parallel needs GPUs")
        compat.apply_cpu_workarounds()

    def wrap(self, model: torch.nn.Module, tcfg: TrainConfig) -> torch.nn.Module:
        return model

    def optimizer(self, model: torch.nn.Module, ocfg: OptimizerConfig):
        return compat.CpuAdamW(model, _param_groups(model, ocfg.weight_decay), ocfg)

    def forward_backward(self, model, forward_step: ForwardStep, batches: list[dict], *, seq_length: int,
                         forward_only: bool = False) -> StepResult:  # fmt: skip
        store = compat.run_microbatches(model, forward_step, batches, forward_only=forward_only)
        total = _sum_reports(store, self.device)
        compat.all_reduce_data_parallel(total)
        return StepResult.from_total(total)

    def step(self, optimizer, ocfg: OptimizerConfig) -> float:
        return optimizer.step(ocfg.clip_grad)

    def zero_grad(self, model, optimizer) -> None:
        optimizer.zero_grad()

    @staticmethod
    def unwrap(model: torch.nn.Module) -> torch.nn.Module:
        return model


class GpuEngine:
    """BF16 (or FP32) on CUDA with megatron-core's DDP, distributed optimizer and pipeline schedules."""

    name = "cuda"

    def __init__(self, tcfg: TrainConfig):
        self.device = torch.device("cuda", torch.cuda.current_device())
        self.bf16 = tcfg.precision in ("auto", "bf16")
        self.params_dtype = torch.bfloat16 if self.bf16 else torch.float32

    def wrap(self, model: torch.nn.Module, tcfg: TrainConfig) -> torch.nn.Module:
        from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig
        from megatron.core.distributed.finalize_model_grads import finalize_model_grads
        from megatron.core.transformer.module import Float16Module

        config = model.config
        model.cuda(torch.cuda.current_device())
        if self.bf16:
            model = Float16Module(config, model)
        ddp = DistributedDataParallelConfig(grad_reduce_in_fp32=True, overlap_grad_reduce=False,
                                            use_distributed_optimizer=True, check_for_nan_in_grad=True)  # fmt: skip
        model = DistributedDataParallel(config=config, ddp_config=ddp, module=model)
        config.finalize_model_grads_func = finalize_model_grads
        config.no_sync_func = model.no_sync
        config.calculate_per_token_loss = True
        return model

    def optimizer(self, model: torch.nn.Module, ocfg: OptimizerConfig):
        from megatron.core.optimizer import OptimizerConfig as MegatronOptimizerConfig
        from megatron.core.optimizer import get_megatron_optimizer

        mcfg = MegatronOptimizerConfig(
            optimizer="adam", lr=ocfg.lr, min_lr=ocfg.min_lr, weight_decay=ocfg.weight_decay,
            adam_beta1=ocfg.adam_beta1, adam_beta2=ocfg.adam_beta2, adam_eps=ocfg.adam_eps, clip_grad=ocfg.clip_grad,
            bf16=self.bf16, params_dtype=self.params_dtype, use_distributed_optimizer=True,
        )  # fmt: skip
        optimizer = get_megatron_optimizer(mcfg, [model])
        model.config.grad_scale_func = optimizer.scale_loss
        return optimizer

    def forward_backward(self, model, forward_step: ForwardStep, batches: list[dict], *, seq_length: int,
                         forward_only: bool = False) -> StepResult:  # fmt: skip
        from megatron.core import parallel_state
        from megatron.core.pipeline_parallel import get_forward_backward_func

        mbs = int(batches[0]["tokens"].shape[0])
        store = get_forward_backward_func()(
            forward_step_func=forward_step, data_iterator=iter(batches), model=[model], num_microbatches=len(batches),
            seq_length=seq_length, micro_batch_size=mbs, decoder_seq_length=seq_length, forward_only=forward_only,
        )  # fmt: skip
        total = _sum_reports(store, self.device)
        if parallel_state.get_pipeline_model_parallel_world_size() > 1:  # only the last stage has losses
            torch.distributed.all_reduce(total, group=parallel_state.get_pipeline_model_parallel_group())
        torch.distributed.all_reduce(total, group=parallel_state.get_data_parallel_group())
        return StepResult.from_total(total)

    def step(self, optimizer, ocfg: OptimizerConfig) -> float:
        _, grad_norm, _ = optimizer.step()
        return float(grad_norm) if grad_norm is not None else float("nan")

    def zero_grad(self, model, optimizer) -> None:
        model.zero_grad_buffer()
        optimizer.zero_grad()

    @staticmethod
    def unwrap(model: torch.nn.Module) -> torch.nn.Module:
        from megatron.core.utils import unwrap_model

        return unwrap_model(model)


ENGINES: dict[str, type] = {"cpu": CpuEngine, "cuda": GpuEngine}


def engine_for(tcfg: TrainConfig, device_type: str | None = None):
    """The engine for this machine (`cuda` when a GPU is visible, else `cpu`)."""
    kind = device_type or ("cuda" if torch.cuda.is_available() else "cpu")
    return ENGINES[kind](tcfg)
