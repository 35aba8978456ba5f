"""User-query-to-item instruction data (MuChator's context-aware instruction tuning): the synthesis op."""
