"""Kubeflow pipelines of the platform, their local runner and the `mlops` command."""
