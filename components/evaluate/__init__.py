"""Evaluation step: metrics on later data, slices, blessing against thresholds and production, report."""
