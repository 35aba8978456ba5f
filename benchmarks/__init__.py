"""Speed and quality benchmarks against the anchors named in the issues; `make bench` runs them all."""
