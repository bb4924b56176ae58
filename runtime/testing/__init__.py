"""Sample components and fakes shared by tests, docs and benchmarks."""
