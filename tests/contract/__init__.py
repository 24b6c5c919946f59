"""Contract suites: one per port, run over every backend."""
