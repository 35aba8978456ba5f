"""Spark libraries the engines and stages call (clustering, the behavior shuffle, item relations); the
`spark-submit` entry points are the modules one level up (`jobs/spark/<stage>.py`)."""
