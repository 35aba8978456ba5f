"""Megatron-Core continued pretraining, SFT and GRPO (see ARCHITECTURE.md; built by the training issues)."""
