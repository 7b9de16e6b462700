"""The rollout against a cluster: the SeldonDeployment through the Kubernetes API server, and step windows
from the Prometheus that scrapes Seldon Core."""
