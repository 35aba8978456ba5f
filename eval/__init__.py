"""Music evaluation suite: MusicSimpleQA (more benchmarks to come; see the README)."""
