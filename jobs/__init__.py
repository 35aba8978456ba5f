"""The engines: stage framework, datatrove steps and executors, Spark jobs, the CLI and run manifests."""
