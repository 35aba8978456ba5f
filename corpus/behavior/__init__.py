"""Personalized-preference sequences (stage 3): event validation, gap-based sessionization, and the
interleaved (state, item, feedback) rendering with no-loss spans on profile and state text."""
