"""U2I personalization: perplexity of a model on the behavior sequences of held-out users.

The corpus's behavior stage holds out a share of users (`behavior.holdout_user_share`, and for real logs every
user's events after `behavior.holdout_after`) and renders their events exactly as it renders training users'
into `heldout_sequences` (the `training_sequences` contract): a profile line, then per event a state line, an
item line and a feedback line. Training puts the loss on item and feedback text only (profile and state lines
are `no_loss_spans`); so does this measure. Token masks come from `tokenizer.shards.loss_mask_for`, the
function that writes the training shards' loss-mask sidecars, applied to the model's own tokenizer offsets.

    perplexity = exp( sum of -log p(token | preceding text) over loss tokens / number of loss tokens )

Each sequence is scored on its first `max_tokens` tokens (the model's context or less); the first token has no
prediction and is never counted. Sequences are taken in `seq_id` order (a fixed, spread sample) up to `limit`.
A model that has learned the users' listening patterns predicts their next items and feedback far better than
a randomly initialised one, whose perplexity is near its vocabulary size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads


@dataclass(frozen=True)
class U2IResult:
    perplexity: float
    nll_per_token: float
    loss_tokens: int
    sequences: int
    users: int

    def to_dict(self) -> dict:
        return {"perplexity": self.perplexity, "nll_per_token": self.nll_per_token, "loss_tokens": self.loss_tokens,
                "sequences": self.sequences, "users": self.users}


def read_heldout(path: Path, limit: int = 0) -> list[dict]:
    """Held-out sequences (`seq_id`, `user_id`, `text`, `no_loss_spans`) in `seq_id` order; the first `limit` (0: all)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no held-out sequences; run the corpus with behavior.holdout_user_share > 0")
    t = pads.dataset(path, format="parquet").to_table(columns=["seq_id", "user_id", "text", "no_loss_spans"])
    rows = sorted(t.to_pylist(), key=lambda r: r["seq_id"])
    return rows[:limit] if limit else rows


def loss_masks(tokenizer, texts: list[str], spans: list[list[dict]], max_tokens: int) -> tuple[list[list[int]], list[np.ndarray]]:
    """Token ids (at most `max_tokens`) and the training loss mask (1: the token takes the loss) of each text."""
    from tokenizer.shards import loss_mask_for

    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    ids, masks = [], []
    for tok_ids, offsets, sp in zip(enc["input_ids"], enc["offset_mapping"], spans, strict=True):
        mask = loss_mask_for(np.asarray(offsets, dtype=np.int64), sp or [], append_eod=False)
        ids.append(list(tok_ids[:max_tokens]))
        masks.append(mask[:max_tokens])
    return ids, masks


def perplexity(model, tokenizer, rows: list[dict], max_tokens: int = 1024, batch_size: int = 4,
               device: str = "cpu") -> U2IResult:
    """Loss-token perplexity of a causal LM (`transformers`) on held-out sequences (see the module docstring)."""
    import torch

    limit = min(max_tokens, getattr(model.config, "max_position_embeddings", max_tokens) or max_tokens)
    ids, masks = loss_masks(tokenizer, [r["text"] for r in rows], [r["no_loss_spans"] for r in rows], limit)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    total_nll, total_tokens = 0.0, 0
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # similar lengths together: less padding
    model.eval()
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(ids[i]) for i in batch)
        x = torch.full((len(batch), width), pad, dtype=torch.long)
        att = torch.zeros((len(batch), width), dtype=torch.long)
        lm = torch.zeros((len(batch), width), dtype=torch.bool)
        for j, i in enumerate(batch):
            n = len(ids[i])
            x[j, :n] = torch.tensor(ids[i])
            att[j, :n] = 1
            lm[j, :n] = torch.from_numpy(masks[i].astype(bool))
        with torch.no_grad():
            logits = model(input_ids=x.to(device), attention_mask=att.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = x[:, 1:].to(device)
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        keep = (lm[:, 1:] & att[:, 1:].bool()).to(device)
        total_nll += float(nll[keep].double().sum())
        total_tokens += int(keep.sum())
    if total_tokens == 0:
        raise ValueError("U2I: no loss-bearing tokens in the held-out sequences")
    mean = total_nll / total_tokens
    return U2IResult(math.exp(mean), mean, total_tokens, len(rows), len({r["user_id"] for r in rows}))
