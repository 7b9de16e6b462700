"""The ``mlops`` command: argument parsing and output for each command group; the work is done by the
pipelines (pipelines/) and the components they run (components/)."""
