"""Experiments on the production pipeline: parameter sweeps, their comparison, and promoting a winner."""
