"""The language-model loss of every training loop here: per-token cross entropy x loss mask x token weight.

The weight (all ones in plain CPT; the reference-model soft weights later) enters the numerator only.
The denominator is the integer count of loss tokens (mask = 1), as megatron-core's schedules require
(`forward_step_calc_loss` takes `num_tokens` as an int tensor); with `calculate_per_token_loss` the
schedule divides the summed gradients by the global token count, so the loss is a per-token mean over
the whole global batch, whatever the micro-batch and data-parallel split.
"""

from __future__ import annotations

import torch


def masked_token_loss(
    per_token_loss: torch.Tensor, loss_mask: torch.Tensor, weights: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """(loss sum, int token count, report) for one micro-batch.

    `per_token_loss` [b, s] from `GPTModel(..., labels=...)`; `loss_mask` [b, s] in {0, 1}; `weights` [b, s]
    or None (ones). The report holds `lm loss` = [unweighted loss sum, tokens] for logging.
    """
    losses = per_token_loss.float()
    mask = loss_mask.to(losses.dtype)
    if mask.shape != losses.shape:
        raise ValueError(f"loss_mask shape {tuple(mask.shape)} differs from the loss's {tuple(losses.shape)}")
    plain = torch.sum(losses * mask)
    if weights is None:
        total = plain
    else:
        if weights.shape != losses.shape:
            raise ValueError(f"token weights shape {tuple(weights.shape)} differs from the loss's {tuple(losses.shape)}")
        total = torch.sum(losses * mask * weights.to(losses.dtype))
    num_tokens = mask.sum().to(torch.int)
    report = {"lm loss": torch.stack([plain.detach(), num_tokens.to(losses.dtype)])}
    return total, num_tokens, report
