"""The evaluation harness: manifests, zero-shot protocol, scorers, reports (``palette eval``)."""
