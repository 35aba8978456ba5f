"""The three-stage curriculum mix: token budgets per (stage, source), sampling weights, repeat caps
and the mixture report."""
