"""Training data over the shards stage's output: megatron-core GPTDatasets with our loss-mask sidecars.

`build_datasets` builds the train / valid / test datasets of one curriculum stage (or of all three, `mixed`)
from the stage's `blends/stage<N>.per_split.json` with megatron-core's `BlendedMegatronDatasetBuilder`; each
prefix is a `MaskedGPTDataset`: megatron's `GPTDataset` (same packing, shuffling and index cache) whose loss
mask is also zero where the shard's sidecar says a label takes no loss. `build_loader` wraps a dataset in a
DataLoader whose sampler resumes from a checkpoint's `consumed_samples` (Megatron-LM's pretraining sampler).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import ConfigDict

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
META_FILE = "tokenizer_meta.json"
MIXED = "mixed"
_SCAN_CHUNK = 1 << 25  # tokens per chunk when scanning a shard for its largest id (64-128 MB)


@dataclass
class DataConfig:
    """Which shards a run trains on and how megatron-core packs them into samples."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    shards_dir: str
    """The shards stage's output folder (`OUT/shards`: `blends/`, `stage<N>/`, `tokenizer/`). Relative paths
    resolve against the working directory."""
    stage: int | Literal["mixed"] = 1
    """Curriculum stage 1, 2 or 3 (`blends/stage<N>.per_split.json`), or `mixed`: one blend of all three
    (`blends/mixed.per_split.json`), each stage weighted by its tokens."""
    seq_length: int = 7168
    """Tokens per sample (documents are packed across EODs, as Megatron does); the seeds use 7,168."""
    seed: int = 1234
    """Seed of megatron's document and sample shuffles (part of the index cache key)."""
    eod_mask_loss: bool = False
    """Megatron's `--eod-mask-loss`: zero the loss where the *input* token is the EOD, i.e. the prediction of the
    next document's first token (predicting the EOD itself still trains)."""
    reset_position_ids: bool = False
    """Megatron's `--reset-position-ids`: positions restart after every EOD inside a sample."""
    reset_attention_mask: bool = False
    """Megatron's `--reset-attention-mask`: tokens attend only within their document (needs
    `create_attention_mask`)."""
    create_attention_mask: bool = False
    """Return megatron's (1, s, s) boolean `attention_mask` (True = masked) with each sample. Only needed with
    `reset_attention_mask` or an attention without its own causal mask: at 7,168 tokens it is 51 MB a sample."""
    use_loss_mask: bool = True
    """Apply the `<prefix>_lossmask` sidecars (no loss on template wording, profile and state lines). False
    trains on every token (e.g. shards from Megatron-LM's `preprocess_data.py`, which have no sidecar)."""
    reference_loss: bool = False
    """Read the `<prefix>_refloss` sidecars of `pretrain.score` into each sample's `ref_loss` (the reference
    model's loss of each label, float32 nats): offline token weighting. Set by the training loop when
    `weighting.mode` is `offline`."""
    num_workers: int = 2
    """DataLoader worker processes (0 = load in the training process)."""
    mmap_bin_files: bool = True
    """Memory-map the `.bin` files (megatron's default); False reads them with file pointers."""
    cache_dir: str | None = None
    """Where megatron caches its document/sample/shuffle indices (rank 0 builds them, the other ranks wait and
    load them). Default: `<shards_dir>/../_cache/datasets`."""
    drop_last_partial_validation_sequence: bool = True
    """Megatron's default: the valid split drops a last sample shorter than `seq_length`."""
    mid_level_dataset_surplus: float = 0.005
    """Extra samples each prefix builds beyond its share of a blend; raise it if megatron reports that a blend
    oversamples a prefix."""

    def __post_init__(self) -> None:
        if not str(self.shards_dir).strip():
            raise ValueError("data.shards_dir: give the shards stage's output folder (e.g. out/shards)")
        if isinstance(self.stage, str) and self.stage.isdigit():
            self.stage = int(self.stage)
        if self.stage not in (1, 2, 3, MIXED):
            raise ValueError(f"data.stage must be 1, 2, 3 or 'mixed', got {self.stage!r}")
        if self.seq_length < 1:
            raise ValueError(f"data.seq_length must be >= 1, got {self.seq_length}")
        if self.seed < 0 or self.num_workers < 0:
            raise ValueError(f"data.seed and data.num_workers must be >= 0 (got {self.seed}, {self.num_workers})")
        if self.reset_attention_mask and not self.create_attention_mask:
            raise ValueError("data.reset_attention_mask needs data.create_attention_mask: true (megatron applies the "
                             "reset to the attention mask it builds, and builds none without it)")  # fmt: skip
        if self.mid_level_dataset_surplus < 0:
            raise ValueError(f"data.mid_level_dataset_surplus must be >= 0, got {self.mid_level_dataset_surplus}")

    @property
    def shards_path(self) -> Path:
        return Path(self.shards_dir).expanduser().resolve()

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir).expanduser().resolve() if self.cache_dir else self.shards_path.parent / "_cache" / "datasets"

    @property
    def blend_name(self) -> str:
        """`stage<N>` or `mixed`: the stem of the blend files."""
        return MIXED if self.stage == MIXED else f"stage{self.stage}"


# ------------------------------------------------------------------------------------------ shards folder
def _run_corpus_hint(shards: Path) -> str:
    return f"run `make corpus` (or `music-corpus run --stages shards`) to write {shards}"


def tokenizer_meta(shards_dir: str | Path) -> dict:
    """`<shards_dir>/tokenizer/tokenizer_meta.json`: eod_id, vocab_size (the embedding size to resize to), ..."""
    path = Path(shards_dir) / "tokenizer" / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: data.shards_dir must be the shards stage's output folder "
                                f"(OUT/shards); {_run_corpus_hint(Path(shards_dir))}")  # fmt: skip
    return json.loads(path.read_text(encoding="utf-8"))


_read_meta = tokenizer_meta  # `build_datasets` has a parameter of that name


def blend_file(cfg: DataConfig) -> Path:
    """The `--per-split-data-args-path` file of the config's stage (or of the mixed blend)."""
    return cfg.shards_path / "blends" / f"{cfg.blend_name}.per_split.json"


def read_blend(cfg: DataConfig) -> list[tuple[list[str], list[float] | None] | None]:
    """The per-split blends ([train, valid, test], each (prefixes, weights) or None), checked: the file exists
    and every prefix it names has its `.bin` and `.idx`."""
    from megatron.core.datasets.utils import get_blend_from_list

    path = blend_file(cfg)
    if not path.is_file():
        hint = (f"run `music-corpus blends {cfg.shards_path}` to write the mixed blend files" if cfg.stage == MIXED
                and (path.parent / "stage1.per_split.json").is_file() else _run_corpus_hint(cfg.shards_path))  # fmt: skip
        raise FileNotFoundError(f"{path} not found: {hint}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if set(data) != set(SPLITS):
        raise ValueError(f"{path}: expected the keys {list(SPLITS)} (Megatron's --per-split-data-args-path), got {sorted(data)}")
    out = []
    for split in SPLITS:
        words = data[split].split() if isinstance(data[split], str) else data[split]
        blend = get_blend_from_list(words) if words else None
        for prefix in (blend[0] if blend else []):
            missing = [ext for ext in (".bin", ".idx") if not os.path.isfile(prefix + ext)]
            if missing:
                raise FileNotFoundError(
                    f"{path}: {split} prefix {prefix} has no {' / '.join(missing)}; if the shards folder moved, run "
                    f"`music-corpus blends {cfg.shards_path}` to point the blend files at it, else "
                    f"{_run_corpus_hint(cfg.shards_path)}")  # fmt: skip
        out.append(blend)
    return out


def blend_tokens(cfg: DataConfig, split: str = "train") -> int:
    """Tokens in the split's blend (one epoch), from `blends/blend_manifest.json`."""
    path = cfg.shards_path / "blends" / "blend_manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {_run_corpus_hint(cfg.shards_path)}")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    entry = manifest.get(MIXED) if cfg.stage == MIXED else manifest["stages"].get(str(cfg.stage))
    if entry is None:
        raise ValueError(f"{path}: no {cfg.blend_name} blend; {_run_corpus_hint(cfg.shards_path)}")
    return int(sum(e["tokens"] for e in entry["prefixes" if split == "train" else split]))


def _mask_prefix(prefix: str) -> str:
    from tokenizer.shards import mask_prefix

    return mask_prefix(prefix)


def _refloss_prefix(prefix: str) -> str:
    from tokenizer.shards import refloss_prefix

    return refloss_prefix(prefix)


def _require_sidecar(side: str, prefix: str, what: str, hint: str) -> None:
    """FileNotFoundError naming the sidecar, its shard and what to do, unless `<side>.bin/.idx` exist."""
    if not all(os.path.isfile(side + ext) for ext in (".bin", ".idx")):
        raise FileNotFoundError(f"{side}.bin/.idx not found: the shard {prefix} has no {what} sidecar; {hint}")


def _check_reference_sidecars(blends: list) -> None:
    """The train split's prefixes have `_refloss` sidecars (only training samples carry reference losses)."""
    for prefix in (blends[0][0] if blends and blends[0] else []):
        _require_sidecar(_refloss_prefix(prefix), prefix, "reference-loss",
                         "write them with `python -m pretrain.score --reference DIR --shards SHARDS` (weighting.mode "
                         "offline), or use weighting.mode online")  # fmt: skip


def _check_sidecars(blends: list, use_loss_mask: bool) -> None:
    from tokenizer.shards import LossMaskedDataset

    if not use_loss_mask:
        return
    for blend in blends:
        for prefix in (blend[0] if blend else []):
            _require_sidecar(_mask_prefix(prefix), prefix, "loss-mask",
                             "it was written with shards.loss_mask: false, or by preprocess_data.py; set "
                             "data.use_loss_mask: false to train on every token, or rerun the shards stage")  # fmt: skip
            LossMaskedDataset(prefix, check=True)  # raises when the sidecar's lengths differ from the tokens'


def check_vocab(cfg: DataConfig, model_vocab_size: int, *, scan: bool = True) -> int:
    """Raise ValueError unless every token id of the config's shards (train, valid, test) fits an embedding of
    `model_vocab_size` rows; returns the largest id found (or, without `scan`, the tokenizer's largest id).

    `tokenizer_meta.json`'s vocab_size is compared first; `scan` then reads every token of every prefix
    (memory-mapped, in chunks): about a minute per 100 GB of shards."""
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    meta = tokenizer_meta(cfg.shards_path)
    if meta["vocab_size"] > model_vocab_size:
        raise ValueError(f"{cfg.shards_path / 'tokenizer' / META_FILE}: the shards' tokenizer has {meta['vocab_size']:,} "
                         f"ids but the model's embedding has {model_vocab_size:,} rows; resize the embeddings to at "
                         f"least {meta['vocab_size']:,} (pretrain.hf import with vocab resize)")  # fmt: skip
    if not scan:
        return meta["vocab_size"] - 1
    largest = -1
    for blend in read_blend(cfg):
        for prefix in (blend[0] if blend else []):
            dtype = IndexedDataset(prefix).index.dtype
            if os.path.getsize(prefix + ".bin") == 0:
                continue
            ids = np.memmap(prefix + ".bin", dtype=dtype, mode="r")
            for start in range(0, len(ids), _SCAN_CHUNK):
                chunk = ids[start : start + _SCAN_CHUNK]
                top = int(chunk.max())
                if top >= model_vocab_size or top < 0:
                    at = start + int(np.flatnonzero((chunk >= model_vocab_size) | (chunk < 0))[0])
                    raise ValueError(f"{prefix}.bin: token id {int(ids[at])} at position {at:,} is outside the model's "
                                     f"vocabulary of {model_vocab_size:,}; the shards were written with another "
                                     f"tokenizer than {cfg.shards_path / 'tokenizer'}, or the model needs "
                                     f"{meta['vocab_size']:,} embedding rows")  # fmt: skip
                largest = max(largest, top)
            del ids
    return largest


def _fingerprint(cfg: DataConfig, blends: list) -> str:
    """Identifies the shards' content in megatron's index cache key (its own key has the prefix paths, not the
    data): the shards stage's fingerprint, the blend file, and every prefix's file sizes."""
    h = hashlib.sha256()
    manifest = cfg.shards_path / "_manifest.json"
    if manifest.is_file():
        h.update(str(json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")).encode())
    h.update(blend_file(cfg).read_bytes())
    for blend in blends:
        for prefix in (blend[0] if blend else []):
            h.update(f"{prefix}:{os.path.getsize(prefix + '.bin')}:{os.path.getsize(prefix + '.idx')}".encode())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------------------------------ megatron datasets
class ShardTokenizer:
    """What megatron's GPTDataset asks of a tokenizer (vocab_size, eod, unique_identifiers), from
    `tokenizer_meta.json`: the data path needs no Hugging Face tokenizer. No `pad`: megatron pads short
    samples with -1, maps them to id 0 and masks their loss."""

    def __init__(self, meta: dict):
        self.vocab_size = int(meta["vocab_size"])
        self.eod = int(meta["eod_id"])
        self.unique_identifiers = {"class": "pretrain.data.ShardTokenizer", "name": meta.get("name"),
                                   "fingerprint": meta.get("fingerprint"), "vocab_size": self.vocab_size,
                                   "eod": self.eod}  # fmt: skip


_LAZY = ("MaskedGPTDatasetConfig", "MaskedGPTDataset", "LocalBlendedDataset")


def __getattr__(name: str) -> type:
    """`pretrain.data.MaskedGPTDataset` and the other megatron-core subclasses, built on first use (importing
    megatron-core takes seconds, and DataConfig users need none of it); pickle finds them here too."""
    if name in _LAZY:
        return _megatron_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _megatron_classes() -> dict[str, type]:
    warnings.filterwarnings("ignore", message=".*Transformer Engine and Apex are not installed.*")
    from megatron.core.datasets.blended_dataset import BlendedDataset
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    @dataclass
    class MaskedGPTDatasetConfig(GPTDatasetConfig):
        """GPTDatasetConfig plus the sidecar switch and a fingerprint of the shards for the cache key."""

        use_loss_mask: bool = True
        reference_loss: bool = False
        data_fingerprint: str = ""

    class MaskedGPTDataset(GPTDataset):
        """megatron's GPTDataset whose loss mask is also 0 where the shard's sidecar gives a *label* no loss.

        Tokens, labels, position ids, the EOD and padding handling are megatron's own (`GPTDataset.__getitem__`);
        the sidecar is read with the same document index, sample index and shuffle index, so position i of the
        sample's window is the same token in both files. The label at i is window token i + 1, so its mask is
        sidecar[i + 1] (the shard's rule: mask[t] is the mask of token t as a target).
        """

        def __init__(self, indexed_dataset, dataset_path, indexed_indices, num_samples, index_split, config):
            super().__init__(indexed_dataset, dataset_path, indexed_indices, num_samples, index_split, config)
            self.mask_dataset = (IndexedDataset(_mask_prefix(dataset_path), multimodal=False, mmap=config.mmap_bin_files)
                                 if config.use_loss_mask else None)  # fmt: skip
            train = getattr(index_split, "name", str(index_split)) == "train"  # only training samples are weighted
            self.refloss_dataset = (IndexedDataset(_refloss_prefix(dataset_path), multimodal=False,
                                                   mmap=config.mmap_bin_files)
                                    if config.reference_loss and train else None)  # fmt: skip

        @staticmethod
        def _key_config_attributes() -> list[str]:
            return [*GPTDataset._key_config_attributes(), "data_fingerprint"]

        def __getitem__(self, idx: int | None) -> dict[str, torch.Tensor]:
            sample = super().__getitem__(idx)
            if self.refloss_dataset is not None:  # label i is window token i + 1, as for the mask
                from tokenizer.shards import decode_refloss

                window = self._sidecar_window(0 if idx is None else idx, self.refloss_dataset)
                target = window[1:] if self.config.add_extra_token_to_sequence else np.append(window[1:], 0)
                sample["ref_loss"] = torch.from_numpy(decode_refloss(target))
            if self.mask_dataset is not None:
                window = self._sidecar_window(0 if idx is None else idx, self.mask_dataset)
                if self.config.add_extra_token_to_sequence:
                    target = window[1:]
                else:  # labels are the tokens rolled by one, the last label is padding
                    target = np.append(window[1:], 0)
                sample["loss_mask"] = sample["loss_mask"] * torch.from_numpy(target.astype(np.float32))
            return sample

        def _sidecar_window(self, idx: int, sidecar) -> np.ndarray:
            """The sidecar values of sample `idx`'s token window: `_query_document_sample_shuffle_indices` on the
            mask file (padding: 0)."""
            extra = self.config.add_extra_token_to_sequence
            i = self.shuffle_index[idx]
            doc_beg, off_beg = self.sample_index[i]
            doc_end, off_end = self.sample_index[i + 1]
            if doc_beg == doc_end:
                parts = [sidecar.get(self.document_index[doc_beg], offset=int(off_beg),
                                               length=int(off_end - off_beg + extra))]  # fmt: skip
            else:
                parts = []
                for d in range(doc_beg, doc_end + 1):
                    offset = 0 if d > doc_beg else int(off_beg)
                    length = None if d < doc_end else int(off_end + extra)
                    parts.append(sidecar.get(self.document_index[d], offset=offset, length=length))
            want = self.config.sequence_length + extra
            have = sum(len(p) for p in parts)
            if have < want:
                parts.append(np.zeros(want - have, dtype=np.uint8))
            return np.concatenate(parts)

    class LocalBlendedDataset(BlendedDataset):
        """megatron's BlendedDataset, also without torch.distributed: on an index-cache miss megatron asks
        `torch.distributed.get_rank()` even when no process group exists. Then the indices are built without the
        cache and saved under megatron's own names, so a later (distributed) run finds them."""

        def _build_indices(self):
            cfg = self.config
            if torch.distributed.is_initialized() or not cfg.path_to_cache or cfg.defer_npy_index_mmap:
                return super()._build_indices()
            name = f"{self.unique_description_hash}-{type(self).__name__}-{self.split.name}"
            files = [os.path.join(cfg.path_to_cache, f"{name}-{s}") for s in
                     ("description.txt", "dataset_index.npy", "dataset_sample_index.npy")]  # fmt: skip
            if all(map(os.path.isfile, files)):
                return super()._build_indices()  # a cache hit never asks for the rank
            self.config = copy.copy(cfg)
            self.config.path_to_cache = None
            quiet = logging.getLogger("megatron.core.datasets.blended_dataset")
            level = quiet.level
            quiet.setLevel(logging.ERROR)  # its "cannot save ... path_to_cache is None": we save them below
            try:
                dataset_index, dataset_sample_index = super()._build_indices()
            finally:
                self.config = cfg
                quiet.setLevel(level)
            os.makedirs(cfg.path_to_cache, exist_ok=True)
            with open(files[0], "w") as f:
                f.write(self.unique_description)
            np.save(files[1], dataset_index, allow_pickle=True)
            np.save(files[2], dataset_sample_index, allow_pickle=True)
            return dataset_index, dataset_sample_index

    class Builder(BlendedMegatronDatasetBuilder):
        @staticmethod
        def build_generic_dataset(cls, is_built_on_rank, synchronize_ranks, *args):
            cls = LocalBlendedDataset if cls is BlendedDataset else cls
            return BlendedMegatronDatasetBuilder.build_generic_dataset(cls, is_built_on_rank, synchronize_ranks, *args)

    classes = {"MaskedGPTDatasetConfig": MaskedGPTDatasetConfig, "MaskedGPTDataset": MaskedGPTDataset,
               "LocalBlendedDataset": LocalBlendedDataset, "Builder": Builder}  # fmt: skip
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


def build_datasets(
    cfg: DataConfig,
    *,
    train_samples: int,
    valid_samples: int | None,
    test_samples: int | None,
    tokenizer_meta: dict | None = None,
    is_built_on_rank: Callable[[], bool] | None = None,
) -> tuple[Any, Any, Any]:
    """(train, valid, test) datasets of the config's stage from its per-split blend file.

    `*_samples`: samples to draw (megatron repeats a prefix for more epochs when a blend needs it); 0 builds no
    dataset for the split (None returned), None builds one unweighted epoch of each of its prefixes (a full
    validation pass). A split the blend file has no prefixes for is None; asking it for samples is an error.
    Each sample is a dict of tensors of length `seq_length`: `tokens`, `labels` (int64), `loss_mask` (float32:
    megatron's, i.e. 0 on padding and with `eod_mask_loss` after an EOD, times the sidecar of the labels),
    `position_ids` (int64), `attention_mask` ((1, s, s) bool, True = masked) with `create_attention_mask`, and
    `dataset_id` (the prefix's index in the split's blend) when the split blends several prefixes.

    Call it on every rank: with torch.distributed initialised, rank 0 builds megatron's index cache (under
    `cfg.cache_path`) while the others wait, then they load it. `is_built_on_rank` (default: every rank) is
    megatron's hook to build on, e.g., tensor-parallel rank 0 only (the others get None).
    """
    classes = _megatron_classes()
    blends = read_blend(cfg)
    meta = tokenizer_meta if tokenizer_meta is not None else _read_meta(cfg.shards_path)
    sizes = [train_samples, valid_samples, test_samples]
    if blends[0] is None:
        raise ValueError(f"{blend_file(cfg)}: no train prefixes; {_run_corpus_hint(cfg.shards_path)}")
    for i, split in enumerate(SPLITS):
        if sizes[i] is not None and sizes[i] < 0:
            raise ValueError(f"{split}_samples must be >= 0 or None, got {sizes[i]}")
        if i == 0 and not train_samples:
            raise ValueError(f"train_samples must be >= 1, got {train_samples}")
        if blends[i] is None and sizes[i] != 0:
            raise ValueError(f"{blend_file(cfg)}: the {split} split has no prefixes, but {split}_samples="
                             f"{sizes[i]}; pass {split}_samples=0, or rerun the shards stage with "
                             f"shards.{split}_fraction > 0 (or a minimum of {split} documents)")  # fmt: skip
        if sizes[i] == 0:
            blends[i] = None
        elif sizes[i] is None:
            blends[i] = (blends[i][0], None)  # megatron: a split without a size is an unweighted epoch
    _check_sidecars(blends, cfg.use_loss_mask)
    if cfg.reference_loss:
        _check_reference_sidecars(blends)
    cache = cfg.cache_path
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PermissionError(f"data.cache_dir: cannot create {cache} ({e}); set data.cache_dir to a writable folder") from e
    config = classes["MaskedGPTDatasetConfig"](
        random_seed=cfg.seed,
        sequence_length=cfg.seq_length,
        blend_per_split=blends,
        path_to_cache=str(cache),
        mmap_bin_files=cfg.mmap_bin_files,
        tokenizer=ShardTokenizer(meta),
        mid_level_dataset_surplus=cfg.mid_level_dataset_surplus,
        reset_position_ids=cfg.reset_position_ids,
        reset_attention_mask=cfg.reset_attention_mask,
        eod_mask_loss=cfg.eod_mask_loss,
        create_attention_mask=cfg.create_attention_mask,
        drop_last_partial_validation_sequence=cfg.drop_last_partial_validation_sequence,
        use_loss_mask=cfg.use_loss_mask,
        reference_loss=cfg.reference_loss,
        data_fingerprint=_fingerprint(cfg, blends),
    )
    built = classes["Builder"](classes["MaskedGPTDataset"], sizes, is_built_on_rank or (lambda: True), config).build()
    log.info("data %s: %s (seq_length %d, index cache %s)", cfg.blend_name, ", ".join(
        f"{split} {len(ds):,} samples from {len(b[0])} prefix(es)" for split, ds, b in zip(SPLITS, built, blends, strict=True)
        if ds is not None), cfg.seq_length, cache)  # fmt: skip
    return tuple(built)  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ loading
class ResumableBatchSampler:
    """Megatron-LM's `MegatronPretrainingSampler`: sample indices in order from `consumed_samples`, cut into
    global batches of `micro_batch_size * dp_size`; rank r takes the r-th micro-batch of each.

    The datasets are already shuffled by megatron (seeded), so order is the dataset's; a run restarted with the
    checkpoint's `consumed_samples` (global samples, all ranks) continues exactly where it stopped.
    """

    def __init__(self, total_samples: int, micro_batch_size: int, *, consumed_samples: int = 0, dp_rank: int = 0,
                 dp_size: int = 1, drop_last: bool = True):  # fmt: skip
        if total_samples < 1:
            raise ValueError(f"the dataset has no samples (total_samples={total_samples})")
        if micro_batch_size < 1 or dp_size < 1 or not 0 <= dp_rank < dp_size:
            raise ValueError(f"need micro_batch_size >= 1 and 0 <= dp_rank < dp_size (got {micro_batch_size}, "
                             f"{dp_rank}, {dp_size})")  # fmt: skip
        if not 0 <= consumed_samples < total_samples:
            raise ValueError(f"consumed_samples={consumed_samples:,} is not below the dataset's {total_samples:,} "
                             "samples: build the datasets with train_samples covering the whole run (the "
                             "checkpoint's consumed samples plus what is left to train)")  # fmt: skip
        self.total_samples = total_samples
        self.consumed_samples = consumed_samples
        self.micro_batch_size = micro_batch_size
        self.dp_rank = dp_rank
        self.dp_size = dp_size
        self.drop_last = drop_last

    def __len__(self) -> int:
        """Micro-batches this rank yields."""
        left = self.total_samples - self.consumed_samples
        full, rest = divmod(left, self.micro_batch_size * self.dp_size)
        return full + (not self.drop_last and rest > self.dp_rank * self.micro_batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        step = self.micro_batch_size * self.dp_size
        mine = self.dp_rank * self.micro_batch_size
        start = self.consumed_samples
        while start + step <= self.total_samples:
            yield list(range(start + mine, start + mine + self.micro_batch_size))
            start += step
        if not self.drop_last:  # the last, partial global batch: each rank its slice of it, if any
            last = list(range(start, self.total_samples))[mine : mine + self.micro_batch_size]
            if last:
                yield last


def build_loader(
    ds: Any,
    micro_batch_size: int,
    *,
    consumed_samples: int = 0,
    dp_rank: int = 0,
    dp_size: int = 1,
    seed: int = 0,
    num_workers: int = 0,
    drop_last: bool = True,
    pin_memory: bool = False,
) -> torch.utils.data.DataLoader:
    """A DataLoader over `ds` with `ResumableBatchSampler`: batches are dicts of stacked tensors (see
    `build_datasets`). Pass the checkpoint's `consumed_samples` to resume; each data-parallel rank passes its
    rank and the data-parallel size. `seed` seeds the worker processes' RNGs (the order does not use it)."""
    sampler = ResumableBatchSampler(len(ds), micro_batch_size, consumed_samples=consumed_samples, dp_rank=dp_rank,
                                    dp_size=dp_size, drop_last=drop_last)  # fmt: skip
    generator = torch.Generator()
    generator.manual_seed(seed)
    return torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=num_workers, pin_memory=pin_memory,
                                       generator=generator, persistent_workers=num_workers > 0)  # fmt: skip
