"""Reference-model token weighting criteria: per-token loss weights from the current model's and a reference
model's token losses (MuCPT's loss-ratio criterion, Rho-1's excess-loss selection, WeMusic's inverse reference
loss). Pure tensor functions, so the training loop, the scoring pass and the tests share one definition.

Notation, per micro-batch: `l_t` the current model's cross entropy of token t (detached: weights never carry a
gradient), `r_t` the reference model's, `m_t` in {0, 1} the loss mask, `N = sum_t m_t` the integer count of loss
tokens. Every criterion returns weights `w_t >= 0` with `w_t = 0` wherever `m_t = 0`, normalised so that the mean
weight over loss tokens is (about) 1: the loss stays `sum_t l_t m_t w_t / N` with the integer denominator
megatron-core's schedules require (`pretrain.loss.masked_token_loss`), and the step size of the optimizer means
the same as without weighting. The mean weight is reported for logging.

- `none`: `w_t = m_t`.
- `rho1` (Rho-1, Lin et al. 2024, "Not All Tokens Are What You Need"): excess loss `e_t = l_t - r_t`; keep the
  `K = ceil(keep * N)` loss tokens with the largest excess (ties by position, so the choice is deterministic)
  and give each `1 / keep`: a hard selection whose loss is the mean over the kept tokens, up to rounding
  (mean weight `K / (keep * N)`). Tokens the reference finds easy but the current model does not are the ones
  left to learn; tokens both find hard (noise) or both find easy are dropped.
- `loss_ratio` (MuCPT's criterion, whose exact formula is not public; this is our definition): the ratio
  `q_t = l_t / max(r_t, eps)`, clipped to `[ratio_min, ratio_max]`, divided by its mean over loss tokens. A token
  the reference model predicts well but the current model does not (q > 1: in-domain signal the reference
  learned from clean data) is amplified; a token the reference also finds hard relative to the current model
  (q < 1: noise the clean reference never saw) is down-weighted. Clipping bounds the influence of a token with
  near-zero reference loss; renormalising keeps the mean weight at 1.
- `inverse_ref` (WeMusic-Agent's form): `w_t proportional to 1 / (r_t + eps)`, normalised to mean 1 over loss
  tokens, then clipped to `[weight_min, weight_max]` (tokens the quality reference finds unpredictable, typically
  noise, get little weight; the current model's loss is not used, so the weights can be precomputed offline).
  Clipping after normalising keeps the bounds meaningful as multiples of the mean; the mean may then move off 1
  slightly, and the logged mean weight shows by how much.

Why these forms: Rho-1 and WeMusic publish theirs; for MuCPT's "unified loss-ratio criterion" the ratio of
current to reference loss is the quantity both its data-selection side (a document's mean ratio) and its loss
side (a token's ratio) can use, and clipping plus mean-1 normalisation is the usual way to keep a soft weight
from changing the effective learning rate (as in DoReMi-style excess-loss weighting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

CRITERIA = ("none", "rho1", "loss_ratio", "inverse_ref")


@dataclass(frozen=True)
class WeightingConfig:
    """Which criterion weights the loss, and its constants (one switch per training stage)."""

    criterion: Literal["none", "rho1", "loss_ratio", "inverse_ref"] = "none"
    """`none`, `rho1` (hard top-k% by excess loss), `loss_ratio` (clipped current/reference loss ratio) or
    `inverse_ref` (inverse reference loss); formulas in the module docstring."""
    keep: float = 0.6
    """`rho1`: share of loss tokens kept per micro-batch (Rho-1's best setting is 60-70%)."""
    ratio_min: float = 0.2
    """`loss_ratio`: lower clip of the ratio before normalising."""
    ratio_max: float = 5.0
    """`loss_ratio`: upper clip of the ratio before normalising."""
    weight_min: float = 0.1
    """`inverse_ref`: lower clip of the normalised weight."""
    weight_max: float = 5.0
    """`inverse_ref`: upper clip of the normalised weight."""
    eps: float = 1e-3
    """Floor added to (or under) the reference loss, in nats."""

    def __post_init__(self) -> None:
        if self.criterion not in CRITERIA:
            raise ValueError(f"weighting.criterion must be one of {CRITERIA}, got {self.criterion!r}")
        if not 0.0 < self.keep <= 1.0:
            raise ValueError(f"weighting.keep must be in (0, 1], got {self.keep}")
        if not 0.0 <= self.ratio_min < self.ratio_max or not 0.0 <= self.weight_min < self.weight_max:
            raise ValueError("weighting: need 0 <= ratio_min < ratio_max and 0 <= weight_min < weight_max")
        if self.eps <= 0:
            raise ValueError(f"weighting.eps must be > 0, got {self.eps}")

    @property
    def needs_reference(self) -> bool:
        return self.criterion != "none"


def _mean_over(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def token_weights(cfg: WeightingConfig, loss_mask: torch.Tensor, current_loss: torch.Tensor | None = None,
                  reference_loss: torch.Tensor | None = None) -> torch.Tensor:
    """Per-token weights [b, s] (float32, zero where the mask is zero, no gradient) for one micro-batch."""
    mask = (loss_mask > 0).to(torch.float32)
    if cfg.criterion == "none":
        return mask
    if reference_loss is None or reference_loss.shape != mask.shape:
        raise ValueError(f"weighting {cfg.criterion}: needs the reference model's per-token loss of shape "
                         f"{tuple(mask.shape)}, got {None if reference_loss is None else tuple(reference_loss.shape)}")
    ref = reference_loss.detach().to(torch.float32)
    if cfg.criterion == "inverse_ref":
        inv = 1.0 / (ref.clamp(min=0.0) + cfg.eps)
        w = (inv / _mean_over(inv, mask)).clamp(cfg.weight_min, cfg.weight_max)
        return w * mask
    if current_loss is None or current_loss.shape != mask.shape:
        raise ValueError(f"weighting {cfg.criterion}: needs the current model's per-token loss of shape {tuple(mask.shape)}")
    cur = current_loss.detach().to(torch.float32)
    if cfg.criterion == "loss_ratio":
        q = (cur / ref.clamp(min=cfg.eps)).clamp(cfg.ratio_min, cfg.ratio_max)
        return q / _mean_over(q, mask).clamp(min=1e-12) * mask
    # rho1: the top ceil(keep * N) loss tokens by excess loss; a stable sort breaks ties by position
    n = int(mask.sum().item())
    k = math.ceil(cfg.keep * n)
    flat = mask.flatten()
    diff = (cur - ref).flatten()
    excess = torch.where(flat > 0, diff, torch.full_like(diff, float("-inf")))
    order = torch.sort(excess, descending=True, stable=True).indices
    w = torch.zeros_like(flat)
    w[order[:k]] = 1.0 / cfg.keep
    return w.view_as(mask)


def weighted_token_loss(per_token_loss: torch.Tensor, loss_mask: torch.Tensor, cfg: WeightingConfig,
                        reference_loss: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """`pretrain.loss.masked_token_loss` with this criterion's weights (computed from the detached losses):
    (weighted loss sum, int count of loss tokens, report with `lm loss` and `mean weight`)."""
    from pretrain.loss import masked_token_loss

    w = token_weights(cfg, loss_mask, per_token_loss, reference_loss)
    total, num_tokens, report = masked_token_loss(per_token_loss, loss_mask, w)
    mask = (loss_mask > 0).to(torch.float32)
    report["mean weight"] = torch.stack([(w * mask).sum().detach(), mask.sum()])
    return total, num_tokens, report
