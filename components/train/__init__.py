"""Training step: a Keras model that carries its own preprocessing, its guards and its artifact."""
