"""Megatron-Core continued pretraining, SFT and GRPO (see ARCHITECTURE.md; built by the training issues)."""

import warnings

# megatron-core says at import that it falls back to its local (non-Apex, non-Transformer-Engine) kernels, and
# torch.distributed.checkpoint that its ShardedTensor/load_state_dict paths are deprecated (megatron-core 0.16.1
# uses them); neither needs the user's action, so a training run's console stays readable.
for _message in ("Transformer Engine and Apex are not installed", "Apex is not installed", ".*DTensor instead",
                 "`load_state_dict` is deprecated", "full scope is deprecated"):  # fmt: skip
    warnings.filterwarnings("ignore", message=_message)
