"""What runs inside the serving environment: the bandit router (a Seldon ROUTER component), its policies and
their shared state, and the launcher of its microservice. Standard library, numpy and Seldon only."""
