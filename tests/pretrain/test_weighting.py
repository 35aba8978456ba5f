"""Token weighting criteria (`pretrain.weighting`): weights equal hand-computed values on a small batch, masked
tokens stay masked, the weighted loss and its gradient equal a plain PyTorch computation, and the config refuses
bad values."""

from __future__ import annotations

import math

import pytest
import torch

from pretrain.weighting import WeightingConfig, token_weights, weighted_token_loss

MASK = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
CUR = torch.tensor([[2.0, 1.0, 4.0, 9.0], [0.5, 3.0, 9.0, 1.0]])
REF = torch.tensor([[1.0, 2.0, 1.0, 0.1], [0.5, 1.0, 0.1, 4.0]])


def test_none_is_the_mask() -> None:
    assert torch.equal(token_weights(WeightingConfig(), MASK), MASK)


def test_rho1_keeps_the_top_excess_tokens_by_hand() -> None:
    # excess over loss tokens: (0,0) 1, (0,1) -1, (0,2) 3, (1,0) 0, (1,1) 2, (1,3) -3; N = 6, keep 0.5 -> K = 3
    w = token_weights(WeightingConfig(criterion="rho1", keep=0.5), MASK, CUR, REF)
    expected = torch.tensor([[2.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, 0.0]])  # 1 / keep on (0,2), (1,1), (0,0)
    assert torch.equal(w, expected)
    # keep 0.6 -> K = ceil(3.6) = 4: (1,0) with excess 0 joins; ties go by position
    w = token_weights(WeightingConfig(criterion="rho1", keep=0.6), MASK, CUR, REF)
    assert torch.equal(w > 0, torch.tensor([[True, False, True, False], [True, True, False, False]]))
    tie = token_weights(WeightingConfig(criterion="rho1", keep=0.5), torch.ones(1, 4), torch.ones(1, 4), torch.ones(1, 4))
    assert torch.equal(tie, torch.tensor([[2.0, 2.0, 0.0, 0.0]]))


def test_loss_ratio_by_hand() -> None:
    cfg = WeightingConfig(criterion="loss_ratio", ratio_min=0.2, ratio_max=5.0)
    # ratios over loss tokens: 2, 0.5, 4, 1, 3, 0.25 (the masked 9/0.1 = 90 never counts); mean 10.75 / 6
    w = token_weights(cfg, MASK, CUR, REF)
    mean = 10.75 / 6
    expected = torch.tensor([[2 / mean, 0.5 / mean, 4 / mean, 0.0], [1 / mean, 3 / mean, 0.0, 0.25 / mean]])
    assert torch.allclose(w, expected)
    assert float((w * MASK).sum() / MASK.sum()) == pytest.approx(1.0)
    clipped = token_weights(WeightingConfig(criterion="loss_ratio", ratio_min=0.5, ratio_max=2.0), MASK, CUR, REF)
    q = torch.tensor([2.0, 0.5, 2.0, 1.0, 2.0, 0.5])
    assert torch.allclose(clipped[MASK > 0], q / q.mean())


def test_inverse_ref_by_hand() -> None:
    cfg = WeightingConfig(criterion="inverse_ref", eps=1e-3, weight_min=0.1, weight_max=5.0)
    inv = 1 / (torch.tensor([1.0, 2.0, 1.0, 0.5, 1.0, 4.0]) + 1e-3)
    expected = (inv / inv.mean()).clamp(0.1, 5.0)
    w = token_weights(cfg, MASK, None, REF)  # the current loss is not needed: precomputable offline
    assert torch.allclose(w[MASK > 0], expected) and torch.all(w[MASK == 0] == 0)


@pytest.mark.parametrize("criterion", ["none", "rho1", "loss_ratio", "inverse_ref"])
def test_weighted_loss_and_gradient_equal_plain_pytorch(criterion: str) -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 11, requires_grad=True)
    labels = torch.randint(0, 11, (2, 4))
    per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    cfg = WeightingConfig(criterion=criterion, keep=0.5)
    total, n, report = weighted_token_loss(per_token, MASK, cfg, REF)
    (total / n).backward()
    got = logits.grad.clone()
    # plain PyTorch: the same weights as constants, sum over loss tokens divided by their integer count
    logits.grad = None
    per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    w = token_weights(cfg, MASK, per_token.detach(), REF)
    ref_loss = (per_token * MASK * w).sum() / MASK.sum()
    ref_loss.backward()
    assert int(n) == 6 and n.dtype == torch.int32
    assert torch.allclose(total / n, ref_loss) and torch.allclose(got, logits.grad)
    # masked tokens get neither weight nor gradient
    assert torch.all(w[MASK == 0] == 0) and torch.all(got[MASK == 0] == 0)
    assert report["mean weight"][1] == 6 and report["lm loss"][1] == 6
    if criterion in ("none", "loss_ratio", "inverse_ref"):
        assert float(report["mean weight"][0] / report["mean weight"][1]) == pytest.approx(1.0, abs=0.05)


def test_reference_loss_is_required_and_config_is_checked() -> None:
    with pytest.raises(ValueError, match="reference model's per-token loss"):
        token_weights(WeightingConfig(criterion="rho1"), MASK, CUR, None)
    with pytest.raises(ValueError, match="current model's per-token loss"):
        token_weights(WeightingConfig(criterion="loss_ratio"), MASK, None, REF)
    for bad in ({"criterion": "tfidf"}, {"keep": 0.0}, {"ratio_min": 2.0, "ratio_max": 1.0}, {"eps": 0.0}):
        with pytest.raises(ValueError):
            WeightingConfig(**bad)
    assert not WeightingConfig().needs_reference and WeightingConfig(criterion="rho1").needs_reference
    assert math.isfinite(float(token_weights(WeightingConfig(criterion="loss_ratio"), MASK, CUR, torch.zeros(2, 4)).sum()))
