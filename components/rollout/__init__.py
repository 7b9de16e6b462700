"""Online validation of model versions: canary, shadow, A/B and bandit rollouts judged on live metrics.

A rollout moves a registered candidate version into production in steps, analysing each step's live
traffic (error rate, p99 latency, divergence of the candidate's predictions from the main version's,
accuracy where ground truth has come back) and promotes or rejects it in the registry. The same
controller drives a SeldonDeployment in a cluster or Seldon microservices behind a local proxy. Never
imports kfp. See README.md.

This package file imports nothing so the bandit router (``router.py``) loads in the serving
environment without the pipeline environment's dependencies.
"""
