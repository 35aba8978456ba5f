"""Tokenizer loading and training, domain special tokens, Megatron `.bin/.idx` shard writing and blend files (see ARCHITECTURE.md; built by the tokenizer issue)."""
