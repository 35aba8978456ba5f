"""MusicSimpleQA: short single-answer music questions from real facts, and a SimpleQA-style grader."""
