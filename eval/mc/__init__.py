"""Multiple-choice benchmarks (music and general knowledge) scored by log-likelihood through lm-evaluation-harness."""
