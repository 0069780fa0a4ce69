"""Metrics: classification (confusion, per-class) and generated-image scores."""
