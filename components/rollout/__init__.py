"""Online validation of model versions: canary, shadow, A/B and bandit rollouts judged on live metrics.

A rollout moves a registered candidate version into production in steps, analysing each step's live
traffic (error rate, p99 latency, divergence of the candidate's predictions from the main version's,
accuracy where ground truth has come back) and promotes or rejects it in the registry. The same
controller drives a SeldonDeployment in a cluster or Seldon microservices behind a local proxy. Never
imports kfp. See README.md.

Subpackages by where their code runs: ``core`` (the decisions), ``kubernetes`` (a cluster's API server and
Prometheus), ``local`` (this machine: a deployment file, Seldon microservices, a traffic proxy) and
``routing`` (the bandit router, inside the serving environment). Package files import nothing, so the
router loads in the serving environment without the pipeline environment's dependencies.
"""
