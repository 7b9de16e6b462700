"""Serving the delay model with Seldon Core v1: request contract, model class, process manager, load test.

Modules that run inside the model server (``model``, ``validation``, ``inference``, ``request_log``,
``telemetry``, ``echo``, ``launcher``) import only what the serving environment holds. ``schema``,
``process`` and ``loadtest`` use the standard library alone, so the pipeline environment can import them.
Nothing is imported here: importing the package must stay cheap in both environments.
"""
