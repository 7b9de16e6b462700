"""What every environment agrees on: the data contract, the feature catalog, the serving schema, the core
contract, the vocabulary mapping, shared names and the project's errors.

A leaf: standard library and numpy only, importing nothing else of the project, so the pipeline, serving,
savedmodel and features environments all import it and no package can form a cycle through it.
"""
