"""Names every package and environment must spell the same way: the model's, its output's, and the files
of a model folder."""

from __future__ import annotations

# The registered model, its SeldonDeployment and the model label of its metrics.
MODEL_NAME = "flight-delay"
# The model's one output, in training, in the exported core and in served answers.
OUTPUT_NAME = "delay_probability"

# A trained model's folder: what training writes and what the server, the registry and the checks read.
SCHEMA_FILE = "serving_schema.json"
METADATA_FILE = "model.json"
KERAS_FILE = "model.keras"
SAVED_MODEL_DIR = "saved_model"
TFLITE_FILE = "model.tflite"

# The Seldon Core classes a server or a SeldonDeployment names, by import path.
MODEL_CLASS = "components.serving.model.FlightDelayModel"
TRANSFORMER_CLASS = "components.features.transformer.FeatureTransformer"
ROUTER_CLASS = "components.rollout.routing.router.BanditRouter"
