"""Tokenizer loading and training, domain special tokens, Megatron `.bin/.idx` shard writing and blend files.

`load` gives a `LoadedTokenizer` (any Hugging Face tokenizer directory, or a demo BPE trained here);
`shards` writes and reads Megatron shards with a loss-mask sidecar; `blend` writes Megatron blend files.
"""

from tokenizer.blend import data_path_args, per_split_data_args, projection, write_blend_files
from tokenizer.load import (
    DOMAIN_SPECIAL_TOKENS,
    LoadedTokenizer,
    encode_batch,
    encode_with_offsets,
    item_token,
    load_tokenizer,
    train_bpe,
)
from tokenizer.shards import (
    LossMaskedDataset,
    ShardWriter,
    dtype_for_vocab,
    loss_mask_for,
    merge_shards,
    read_shard,
    tokenize_arrow_to_shard,
    tokenize_to_shard,
)

__all__ = [
    "DOMAIN_SPECIAL_TOKENS", "LoadedTokenizer", "LossMaskedDataset", "ShardWriter", "data_path_args",
    "dtype_for_vocab", "encode_batch", "encode_with_offsets", "item_token", "load_tokenizer", "loss_mask_for",
    "merge_shards", "per_split_data_args", "projection", "read_shard", "tokenize_arrow_to_shard",
    "tokenize_to_shard", "train_bpe", "write_blend_files",
]  # fmt: skip
