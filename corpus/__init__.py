"""Engine-agnostic corpus operations: plain functions and small classes over records and Arrow batches.

Nothing here imports Spark or datatrove; `jobs/` wires these ops into the engines.
"""
