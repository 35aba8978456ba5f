"""U2I perplexity: the loss falls on item and feedback tokens only (the training shards' mask), the figure equals
a hand computation with `transformers`' own loss, and it drops when a model learns the users' sequences."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from corpus.behavior.events import BehaviorConfig
from corpus.behavior.interleave import FEEDBACK, ITEM, PROFILE, STATE, interleave_user, render_profile
from eval.u2i import loss_masks, perplexity, read_heldout
from tests.conftest import SHARED_DATA
from tests.evaluation.tiny import tiny_qwen3

pytestmark = pytest.mark.skipif(not (SHARED_DATA.parent / "tokenizers" / "qwen3").is_dir(), reason="no tokenizers")
SONGS = ["Hey Jude — The Beatles", "Jolene — Dolly Parton", "Wonderwall — Oasis", "Hallelujah — Jeff Buckley",
         "Dancing Queen — ABBA", "Purple Rain — Prince"]


def sequences(n_users: int = 4, n_events: int = 12) -> list[dict]:
    t0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
    rows = []
    for u in range(n_users):
        events = [{"event_id": f"u{u}-{k}", "user_id": f"u{u}", "ts": t0 + timedelta(minutes=4 * k),
                   "item_type": "song", "item_id": f"s{(u + k) % len(SONGS)}", "item_text": SONGS[(u + k) % len(SONGS)],
                   "feedback": "play" if k % 3 else "skip", "value": 200.0 if k % 3 else 10.0,
                   "state": {"device": "phone"}} for k in range(n_events)]
        res = interleave_user(f"u{u}", render_profile(None, None), events, BehaviorConfig(max_tokens=100_000))
        rows += [{"seq_id": f"{u:04d}-{c.chunk_index}", "user_id": f"u{u}", "text": c.text,
                  "no_loss_spans": [{"start": s, "end": e} for s, e in c.no_loss_spans]} for c in res.chunks]
    return rows


@pytest.fixture(scope="module")
def tok():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(SHARED_DATA.parent / "tokenizers" / "qwen3")


def test_loss_falls_on_item_and_feedback_lines_only(tok) -> None:
    rows = sequences(1, 5)
    ids, masks = loss_masks(tok, [r["text"] for r in rows], [r["no_loss_spans"] for r in rows], 10_000)
    loss_text = tok.decode([t for t, m in zip(ids[0], masks[0], strict=True) if m])
    free_text = tok.decode([t for t, m in zip(ids[0], masks[0], strict=True) if not m])
    for line in rows[0]["text"].splitlines():
        if line.startswith((ITEM, FEEDBACK)):
            assert line.strip() in loss_text  # every item and feedback line takes the loss
        else:
            assert line.startswith((PROFILE, STATE)) and line.strip() in free_text and line.strip() not in loss_text
    assert 0 < masks[0].sum() < len(masks[0])


def test_perplexity_equals_transformers_loss_and_ignores_padding(tmp_path: Path, tok) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3(tmp_path / "m", hidden=32, layers=1)).eval()
    rows = sequences(3, 4)
    got = perplexity(model, tok, rows, max_tokens=512, batch_size=2)  # uneven lengths: padded batches
    ids, masks = loss_masks(tok, [r["text"] for r in rows], [r["no_loss_spans"] for r in rows], 512)
    total = count = 0.0
    for i, m in zip(ids, masks, strict=True):
        x = torch.tensor([i])
        labels = x.clone()
        labels[0, ~torch.from_numpy(m.astype(bool))] = -100  # the label of token t is scored from position t-1
        with torch.no_grad():
            loss = model(input_ids=x, labels=labels).loss
        n = int(m[1:].sum())
        total, count = total + float(loss) * n, count + n
    assert got.loss_tokens == count and got.sequences == len(rows) and got.users == 3
    assert got.perplexity == pytest.approx(math.exp(total / count), rel=1e-4)
    assert got.perplexity > 1000  # random weights: near the vocabulary size (151k), far from a trained model


def test_perplexity_drops_when_the_model_learns_the_sequences(tmp_path: Path, tok) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3(tmp_path / "m", hidden=64, layers=1))
    rows = sequences(4, 6)
    before = perplexity(model, tok, rows, max_tokens=128).perplexity
    ids, masks = loss_masks(tok, [r["text"] for r in rows], [r["no_loss_spans"] for r in rows], 128)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for step in range(16):
        i = step % len(ids)
        x = torch.tensor([ids[i]])
        labels = x.clone()
        labels[0, ~torch.from_numpy(masks[i].astype(bool))] = -100
        model(input_ids=x, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    after = perplexity(model, tok, rows, max_tokens=128).perplexity
    assert after < before / 100  # 152k -> 12 here: the measure sees what the model learned


def test_heldout_rows_are_read_in_seq_id_order(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sequences(3, 3)
    d = tmp_path / "heldout_sequences"
    d.mkdir()
    pq.write_table(pa.Table.from_pylist(list(reversed(rows))), d / "part-00000.parquet")
    got = read_heldout(d, limit=2)
    assert [r["seq_id"] for r in got] == sorted(r["seq_id"] for r in rows)[:2]
    with pytest.raises(FileNotFoundError, match="holdout_user_share"):
        read_heldout(tmp_path / "nowhere")
