"""The rollout's decisions, wherever they run: configuration, strategies and their steps, the state kept on
the deployment, traffic windows and their analysis, the controller, the ledger in ML Metadata, the
SeldonDeployment it renders, and the interface (``actuator.py``) through which it drives a deployment."""
