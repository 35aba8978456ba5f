"""`spark-submit` entry points, one file per job. Each builds the stage from the run config and runs it on Spark."""
