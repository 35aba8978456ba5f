"""Hugging Face Qwen3 <-> Megatron-Core GPTModel: logits match HF, export/import is exact, tensor and
pipeline parallel layouts load the same weights."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import pytest
import torch

from pretrain.hf import (
    export_hf,
    gather_full_state,
    hf_to_megatron,
    import_hf,
    load_hf_state,
    megatron_to_hf,
    shard_for_rank,
)
from pretrain.model import ModelConfig, build_model, padded_vocab_size, resize_vocab

VOCAB = 300
SEQ = 16
TEXTS = [
    "The Beatles released Abbey Road in 1969 on Apple Records.",
    "Billie Eilish won five Grammy Awards in 2020, including Album of the Year.",
    "Kind of Blue by Miles Davis is the best-selling jazz album of all time.",
    "Taylor Swift re-recorded Fearless and Red in 2021.",
] * 4


def make_hf_checkpoint(out: Path, *, tied: bool = False, seed: int = 0) -> Path:
    """A small random Qwen3 (head_dim 32 != hidden/heads, GQA 4:2), norms perturbed, saved in shards."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    config = Qwen3Config(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=128,
                         tie_word_embeddings=tied, rms_norm_eps=1e-6, initializer_range=0.05,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})  # fmt: skip
    model = Qwen3ForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # RMSNorm weights start at 1: move them so a swapped norm would show
                p.add_(0.3 * torch.randn_like(p))
    model.save_pretrained(out, max_shard_size="100KB")
    assert (out / "model.safetensors.index.json").is_file()  # the sharded path is the one tested
    return out


def hf_logits(hf_dir: Path, ids: torch.Tensor) -> torch.Tensor:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(ids).logits


def our_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """Logits over the first VOCAB rows, gathered over tensor-parallel ranks."""
    from megatron.core import parallel_state

    positions = torch.arange(ids.shape[1]).expand_as(ids)
    with torch.no_grad():
        out = model.eval()(ids, positions, None)
    size = parallel_state.get_tensor_model_parallel_world_size()
    if size > 1:
        pieces = [torch.empty_like(out) for _ in range(size)]
        torch.distributed.all_gather(pieces, out.contiguous(), group=parallel_state.get_tensor_model_parallel_group())
        out = torch.cat(pieces, dim=-1)
    return out[..., :VOCAB]


def sample_ids(seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (2, SEQ), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory) -> Path:
    return make_hf_checkpoint(tmp_path_factory.mktemp("qwen3_untied"))


@pytest.fixture(scope="module")
def hf_dir_tied(tmp_path_factory) -> Path:
    return make_hf_checkpoint(tmp_path_factory.mktemp("qwen3_tied"), tied=True, seed=3)


def imported(hf_dir: Path, rows: int | None = None, **kw):
    cfg = ModelConfig.from_hf(hf_dir)
    model = build_model(cfg, vocab_size=rows or padded_vocab_size(VOCAB), seq_length=SEQ)
    import_hf(model, hf_dir, cfg, **kw)
    return cfg, model


# ------------------------------------------------------------------------------------- layout only
def test_layout_round_trip_without_a_model(hf_dir):
    cfg = ModelConfig.from_hf(hf_dir)
    hf_state = dict(load_hf_state(hf_dir))
    back = megatron_to_hf(hf_to_megatron(hf_state, cfg), cfg)
    assert back.keys() == hf_state.keys()
    assert all(torch.equal(back[k], hf_state[k]) for k in hf_state)


def test_missing_or_foreign_tensors_are_refused(hf_dir):
    cfg = ModelConfig.from_hf(hf_dir)
    state = dict(load_hf_state(hf_dir))
    del state["model.layers.1.self_attn.k_norm.weight"]
    state["model.layers.0.self_attn.q_proj.bias"] = torch.zeros(128)
    with pytest.raises(ValueError, match=r"missing \['model.layers.1.self_attn.k_norm.weight'\].*q_proj.bias"):
        hf_to_megatron(state, cfg)


# ------------------------------------------------------------------------------ import, export (TP 1)
def test_import_gives_hf_logits(hf_dir, parallel_state_1):
    _, model = imported(hf_dir)
    ids = sample_ids()
    diff = (our_logits(model, ids) - hf_logits(hf_dir, ids)).abs().max().item()
    print(f"max |logit diff| HF vs megatron (fp32, TP1): {diff:.3g}")
    assert diff <= 1e-5


def test_cpu_forward_and_backward_after_import(hf_dir, parallel_state_1):
    _, model = imported(hf_dir)
    ids = sample_ids()
    loss = model.train()(ids, torch.arange(SEQ).expand_as(ids), None, labels=ids).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_export_then_import_is_exact_and_loads_in_transformers(hf_dir, tmp_path, parallel_state_1):
    from transformers import AutoTokenizer

    from tokenizer.load import train_bpe

    tok_dir = train_bpe(TEXTS, vocab_size=VOCAB, min_frequency=1).save(tmp_path / "tokenizer")
    cfg, model = imported(hf_dir)
    out = export_hf(model, cfg, tmp_path / "export", tokenizer_dir=tok_dir, max_shard_size="100KB")
    assert (out / "model.safetensors.index.json").is_file() and not list(tmp_path.glob(".export.tmp-*"))
    exported_cfg = json.loads((out / "config.json").read_text())
    assert exported_cfg["vocab_size"] == padded_vocab_size(VOCAB) and exported_cfg["eos_token_id"] == 0
    # generation stops at the EOD or at the chat turn end, a single token of the demo BPE as of Qwen's tokenizers
    end = AutoTokenizer.from_pretrained(tok_dir).convert_tokens_to_ids("<|im_end|>")
    assert json.loads((out / "generation_config.json").read_text())["eos_token_id"] == [0, end] and end > 0

    _, again = imported(out)
    before, after = model.state_dict(), again.state_dict()
    params = [n for n, _ in model.named_parameters()]
    assert all(torch.equal(before[n], after[n]) for n in params)

    ids = sample_ids(2)
    diff = (hf_logits(out, ids)[..., :VOCAB] - our_logits(model, ids)).abs().max().item()
    print(f"max |logit diff| exported HF vs megatron: {diff:.3g}")
    assert diff <= 1e-5
    tok = AutoTokenizer.from_pretrained(out)
    assert max(tok(TEXTS[0])["input_ids"]) < exported_cfg["vocab_size"]

    export_hf(model, cfg, out)  # replacing an existing export leaves one folder, no temporaries
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "tokenizer"]


def test_tied_embeddings(hf_dir_tied, tmp_path, parallel_state_1):
    cfg, model = imported(hf_dir_tied)
    assert cfg.tie_word_embeddings and "output_layer.weight" not in dict(model.named_parameters())
    ids = sample_ids()
    diff = (our_logits(model, ids) - hf_logits(hf_dir_tied, ids)).abs().max().item()
    print(f"max |logit diff| HF vs megatron, tied embeddings: {diff:.3g}")
    assert diff <= 1e-5
    out = export_hf(model, cfg, tmp_path / "export")
    assert "lm_head.weight" not in load_hf_state(out)
    assert (hf_logits(out, ids)[..., :VOCAB] - our_logits(model, ids)).abs().max().item() <= 1e-5
    half = export_hf(model, cfg, tmp_path / "bf16", dtype=torch.bfloat16)
    assert json.loads((half / "config.json").read_text())["dtype"] == "bfloat16"
    assert {t.dtype for t in load_hf_state(half).values()} == {torch.bfloat16}


def test_vocab_resize_at_import(hf_dir, parallel_state_1):
    """A tokenizer with added tokens: rows beyond the checkpoint (and the named new ids) get the mean."""
    hf_embed = load_hf_state(hf_dir)["model.embed_tokens.weight"]
    tokenizer_vocab = VOCAB + 4  # e.g. four domain markers appended
    rows = padded_vocab_size(tokenizer_vocab, 1)
    _, model = imported(hf_dir, rows=rows, new_token_ids=[VOCAB - 1])
    for weight, source in ((model.embedding.word_embeddings.weight, hf_embed),
                           (model.output_layer.weight, load_hf_state(hf_dir)["lm_head.weight"])):  # fmt: skip
        mean = source[: VOCAB - 1].double().mean(0).float()
        assert weight.shape[0] == rows and rows % 128 == 0
        assert torch.equal(weight[: VOCAB - 1], source[: VOCAB - 1])
        assert torch.allclose(weight[VOCAB - 1 :], mean.expand(rows - VOCAB + 1, -1), atol=0, rtol=0)


def test_unsupported_architecture_names_the_file(tmp_path):
    from transformers import LlamaConfig

    LlamaConfig(hidden_size=64, num_hidden_layers=1, num_attention_heads=4, vocab_size=300).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=rf"{tmp_path / 'config.json'}.*'llama'.*only dense Qwen3"):
        ModelConfig.from_hf(tmp_path)
    moe = tmp_path / "moe" / "config.json"
    moe.parent.mkdir()
    moe.write_text(json.dumps({"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"]}))
    with pytest.raises(ValueError, match=rf"{moe}.*qwen3_moe.*Qwen3MoeForCausalLM.*not"):
        ModelConfig.from_hf(moe)


def test_import_refuses_a_different_architecture(hf_dir, tmp_path, parallel_state_1):
    cfg = ModelConfig.from_hf(hf_dir)
    model = build_model(cfg, vocab_size=384, seq_length=SEQ)
    other = ModelConfig.from_dict({**cfg.to_dict(), "rotary_base": 1e6})
    with pytest.raises(ValueError, match=r"config.json: architecture differs.*rotary_base"):
        import_hf(model, hf_dir, other)


# ------------------------------------------------------------------------ tensor / pipeline parallel
def load_conftest():
    """This folder's conftest, loaded by path: in a spawned child, `import conftest` may find another."""
    spec = importlib.util.spec_from_file_location("pretrain_tests_conftest", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parallel_worker(rank: int, world_size: int, port: int, hf_dir: Path, out: Path) -> None:
    torch.set_num_threads(1)  # two ranks share the machine's cores
    warnings.filterwarnings("ignore")  # a spawned child does not inherit pytest's warning filters
    conftest = load_conftest()
    cfg = ModelConfig.from_hf(hf_dir)
    rows = padded_vocab_size(VOCAB, 2)
    expected = hf_to_megatron(dict(load_hf_state(hf_dir)), cfg)
    for key in ("embedding.word_embeddings.weight", "output_layer.weight"):
        expected[key] = resize_vocab(expected[key], rows)
    report = {}
    # one process group for both layouts (model_parallel then leaves it alone)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                         world_size=world_size)  # fmt: skip
    with conftest.model_parallel(tp=2):
        model = build_model(cfg, vocab_size=rows, seq_length=SEQ)
        import_hf(model, hf_dir, cfg)
        ids = sample_ids()
        report["tp2_logit_diff"] = (our_logits(model, ids) - hf_logits(hf_dir, ids)).abs().max().item()
        shards = shard_for_rank(expected, model)
        report["tp2_shards_equal"] = all(torch.equal(shards[n], p) for n, p in model.named_parameters())
        full = gather_full_state(model)
        report["tp2_gather_equal"] = full.keys() == expected.keys() and all(
            torch.equal(full[k], expected[k]) for k in expected)
        export_hf(model, cfg, out / "tp2_export")
        torch.distributed.barrier()
        report["tp2_export_equal"] = all(torch.equal(v, expected[k])
                                         for k, v in hf_to_megatron(dict(load_hf_state(out / "tp2_export")), cfg).items())  # fmt: skip
    with conftest.model_parallel(pp=2):
        model = build_model(cfg, vocab_size=rows, seq_length=SEQ)
        import_hf(model, hf_dir, cfg)
        full = gather_full_state(model)
        report["pp2_layers_on_rank"] = [layer.layer_number for layer in model.decoder.layers]
        report["pp2_gather_equal"] = full.keys() == expected.keys() and all(
            torch.equal(full[k], expected[k]) for k in expected)
    torch.distributed.destroy_process_group()
    (out / f"rank{rank}.json").write_text(json.dumps(report))


@pytest.mark.slow
def test_tensor_and_pipeline_parallel_2(hf_dir, tmp_path):
    """Two gloo processes: TP 2 gives HF's logits, shards/gathers/exports the same weights; PP 2
    places layer 2 on the second stage and gathers the same full state."""
    conftest = load_conftest()
    torch.multiprocessing.spawn(_parallel_worker, args=(2, conftest.free_port(), hf_dir, tmp_path), nprocs=2)
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    print("TP2 max |logit diff| vs HF per rank:", [f"{r['tp2_logit_diff']:.3g}" for r in reports])
    for r in reports:
        assert r["tp2_logit_diff"] <= 1e-5
        assert r["tp2_shards_equal"] and r["tp2_gather_equal"] and r["tp2_export_equal"] and r["pp2_gather_equal"]
    assert [r["pp2_layers_on_rank"] for r in reports] == [[1], [2]]
