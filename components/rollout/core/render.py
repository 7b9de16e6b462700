"""SeldonDeployment (``machinelearning.seldon.io/v1``) manifests for each rollout strategy, as plain data.

The rendered objects are what a user applies with ``kubectl apply -f`` and what the Kubernetes actuator
sends to the API server. Every object passes ``crd.check_seldon_deployment`` before it leaves here:
the vendored CRD schema of Seldon Core 1.17.1 (with pruning of unknown fields) and the admission rules
of its webhook that these manifests touch (traffic sums, shadows, containers for graph units).

Layout, per strategy (``README.md`` shows each one rendered):

- canary: predictors ``main`` and ``canary``, each a one-model graph, ``traffic`` weights summing to 100.
- shadow: ``main`` with all traffic and ``shadow`` with ``shadow: true`` (Seldon mirrors every request
  to it and discards its answers).
- ab: one predictor whose graph is a ``RANDOM_ABTEST`` ROUTER (Seldon's executor draws with ``ratioA``)
  over the two models.
- bandit: one predictor whose graph is a ROUTER running ``components.rollout.routing.router.BanditRouter``
  from the serving image over the two models; its state is a SQLite file on a volume the router's
  replicas share, so the manifests include that PersistentVolumeClaim.

With a feature server (``DeploymentPlan.feature_server_url``), every model of every strategy is fronted
by the feature-store TRANSFORMER (``components.features.transformer.FeatureTransformer``, serving image):
requests carry booking-time fields, the transformer looks the rest up and passes full rows to its model.
Each transformer reads the serving schema of the version it fronts (its own ``modelUri``), so a
candidate that reads other store features than the main version gets exactly its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import yaml

from components.images import serving_image
from components.rollout.core.config import BanditConfig
from components.rollout.core.crd import check_seldon_deployment
from components.rollout.core.names import (
    check_dns_label,
    check_dns_subdomain,
    check_label_value,
    check_qualified_key,
    to_dns_label,
)
from components.rollout.core.strategy import Strategy, split
from contracts.errors import RolloutError
from contracts.names import MODEL_CLASS, MODEL_NAME, ROUTER_CLASS, TRANSFORMER_CLASS

if TYPE_CHECKING:
    from components.registry import ModelVersion

API_VERSION = "machinelearning.seldon.io/v1"
KIND = "SeldonDeployment"
# Where Seldon's storage initializer puts the model folder for a graph unit with a modelUri.
MOUNTED_MODEL_PATH = "/mnt/models"
BANDIT_STATE_DIR = "/var/lib/bandit"
# Where the monitor CronJob mounts the serving-records volume (manifests/base/monitor.yaml); the model
# servers write their request logs into it at the same path.
SERVING_RECORDS_DIR = "/var/lib/flights-mlops"
REQUEST_LOG_DIR = f"{SERVING_RECORDS_DIR}/requests"
VERSION_LABEL = "flights-mlops.io/model-version"
PART_OF = "flights-mlops"
# The serving image runs as this user (images/serving.Dockerfile).
RUN_AS_USER = 10001


@dataclass(frozen=True)
class ServedVersion:
    """A registered version as it is deployed.

    Attributes:
        version: Its registry name (``v3``), reported by the model in every answer.
        model_uri: Where Seldon's storage initializer downloads the model folder from (``s3://...``,
            ``gs://...``, ``pvc://...``), usually the registry version's URI.
    """

    version: str
    model_uri: str

    @classmethod
    def of(cls, version: ModelVersion) -> ServedVersion:
        """The deployment of a registered version: its name and its registry URI."""
        return cls(version=version.version, model_uri=version.uri)


@dataclass(frozen=True)
class DeploymentPlan:
    """What to render.

    Attributes:
        main: The version in production.
        candidate: The version on trial; None renders the main version alone.
        strategy: How the candidate meets traffic.
        candidate_weight: The candidate's traffic share in percent (canary and A/B); ignored otherwise.
        name: The SeldonDeployment's name.
        namespace: Its namespace.
        image: The serving image.
        annotations: Extra metadata annotations (the rollout state lives here).
        bandit: The bandit router's policy.
        resources: Requests and limits of each model container (and of each transformer's).
        request_log_claim: The volume claim every model server appends its request log to, the one the
            monitor CronJob reads (``serving-records``); empty, no request log is written.
        workers: Gunicorn worker processes per model (and transformer) container.
        threads: Threads per worker. Seldon's own default is 1 x 1, one request at a time per pod;
            ``mlops serve`` measured 1 x 4 at ~1,850 requests/s on 2 cores where 1 x 1 queues behind
            every model call, so a container limited to 1 CPU runs one worker with 4 threads.
        feature_server_url: Feast's feature server as the model servers reach it
            (``http://feature-server:6566`` in the namespace of ``manifests/base/features``). When set,
            every model is fronted by the feature-store TRANSFORMER; empty, models take full rows.
    """

    main: ServedVersion
    candidate: ServedVersion | None = None
    strategy: Strategy = Strategy.CANARY
    candidate_weight: int = 0
    name: str = MODEL_NAME
    namespace: str = "flights-mlops"
    image: str = field(default_factory=serving_image)
    annotations: Mapping[str, str] = field(default_factory=dict)
    bandit: BanditConfig = field(default_factory=lambda: BanditConfig(policy="thompson", epsilon=0.1))
    resources: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        }
    )
    request_log_claim: str = "serving-records"
    workers: int = 1
    threads: int = 4
    feature_server_url: str = ""


def render_manifests(plan: DeploymentPlan) -> list[dict[str, Any]]:
    """Every object the plan needs: the SeldonDeployment, and for a bandit its state volume claim.

    Raises:
        RolloutError: for invalid names, a weight outside 0-100, or an object the CRD or Seldon's
            admission rules would refuse.
    """
    objects = [render_seldon_deployment(plan)]
    if plan.candidate is not None and plan.strategy is Strategy.BANDIT:
        objects.append(_bandit_state_claim(plan))
    return objects


def render_seldon_deployment(plan: DeploymentPlan) -> dict[str, Any]:
    """The SeldonDeployment of a plan, checked against the CRD schema and Seldon's admission rules.

    Raises:
        RolloutError: as ``render_manifests``.
    """
    check_dns_subdomain(plan.name, "deployment name")
    check_dns_label(plan.namespace, "namespace")
    _check_feature_server_url(plan.feature_server_url)
    if plan.workers < 1 or plan.threads < 1:
        raise RolloutError(
            f"a model server needs at least 1 worker and 1 thread, got {plan.workers} x {plan.threads}"
        )
    for key, value in plan.annotations.items():
        check_qualified_key(key, "annotation key")
        if not isinstance(value, str):
            raise RolloutError(f"annotation {key!r} must be a string, got {type(value).__name__}")
    main_weight, candidate_weight = split(plan.candidate_weight)
    candidate = plan.candidate
    if candidate is None:
        predictors = [_model_predictor(plan, "main", plan.main, traffic=100)]
    elif candidate.version == plan.main.version:
        raise RolloutError(f"the candidate {candidate.version} is the main version itself")
    elif plan.strategy is Strategy.CANARY:
        predictors = [
            _model_predictor(plan, "main", plan.main, traffic=main_weight),
            _model_predictor(plan, "canary", candidate, traffic=candidate_weight),
        ]
    elif plan.strategy is Strategy.SHADOW:
        predictors = [
            _model_predictor(plan, "main", plan.main, traffic=100),
            {**_model_predictor(plan, "shadow", candidate, traffic=0), "shadow": True},
        ]
    elif plan.strategy is Strategy.AB:
        predictors = [_ab_predictor(plan, candidate, candidate_weight)]
    else:
        predictors = [_bandit_predictor(plan, candidate)]
    deployment = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": plan.name,
            "namespace": plan.namespace,
            "labels": _labels(plan),
            **({"annotations": dict(sorted(plan.annotations.items()))} if plan.annotations else {}),
        },
        "spec": {"protocol": "seldon", "predictors": predictors},
    }
    check_seldon_deployment(deployment)
    return deployment


def to_yaml(objects: Sequence[Mapping[str, Any]]) -> str:
    """Plain multi-document YAML for ``kubectl apply -f``."""
    return "---\n".join(
        yaml.safe_dump(dict(obj), sort_keys=False, default_flow_style=False) for obj in objects
    )


def unit_name(plan: DeploymentPlan, served: ServedVersion) -> str:
    """The graph unit and container name of a version: ``<deployment>-<version>``, a DNS label."""
    return check_dns_label(to_dns_label(f"{plan.name}-{served.version}"), "graph unit name")


def transformer_name(plan: DeploymentPlan, served: ServedVersion) -> str:
    """The graph unit and container name of the transformer in front of a version:
    ``<deployment>-<version>-features``, a DNS label."""
    return check_dns_label(f"{unit_name(plan, served)}-features", "transformer unit name")


def _labels(plan: DeploymentPlan) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": check_label_value(plan.name[:63], "label"),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "flights-mlops-rollout",
    }


def _model_predictor(
    plan: DeploymentPlan, role: str, served: ServedVersion, *, traffic: int
) -> dict[str, Any]:
    return {
        "name": role,
        "traffic": traffic,
        "replicas": 1,
        "labels": {VERSION_LABEL: check_label_value(served.version, "model version")},
        "componentSpecs": [_model_component(plan, served)],
        "graph": _model_unit(plan, served),
    }


def _ab_predictor(plan: DeploymentPlan, candidate: ServedVersion, candidate_weight: int) -> dict[str, Any]:
    ratio_a = (100 - candidate_weight) / 100
    return {
        "name": "ab-test",
        "traffic": 100,
        "replicas": 1,
        "componentSpecs": [_model_component(plan, plan.main), _model_component(plan, candidate)],
        "graph": {
            "name": "ab-router",
            "type": "ROUTER",
            "implementation": "RANDOM_ABTEST",
            "parameters": [{"name": "ratioA", "value": f"{ratio_a:g}", "type": "FLOAT"}],
            "children": [_model_unit(plan, plan.main), _model_unit(plan, candidate)],
        },
    }


def _bandit_predictor(plan: DeploymentPlan, candidate: ServedVersion) -> dict[str, Any]:
    router = "bandit-router"
    parameters = {
        "policy": (plan.bandit.policy, "STRING"),
        "epsilon": (f"{plan.bandit.epsilon:g}", "FLOAT"),
        "branches": ("2", "INT"),
        "state_path": (f"{BANDIT_STATE_DIR}/{plan.name}.sqlite", "STRING"),
        "arm_names": (f"{plan.main.version},{candidate.version}", "STRING"),
    }
    router_component = {
        "replicas": 2,
        "spec": {
            "securityContext": _pod_security(),
            # Both replicas share the state file, so they must share the node the volume is attached to.
            "affinity": {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "labelSelector": {"matchLabels": {"flights-mlops.io/component": router}},
                            "topologyKey": "kubernetes.io/hostname",
                        }
                    ]
                }
            },
            "containers": [
                {
                    **_container(plan, router, ROUTER_CLASS, "ROUTER"),
                    "volumeMounts": [{"name": "bandit-state", "mountPath": BANDIT_STATE_DIR}],
                }
            ],
            "volumes": [
                {"name": "bandit-state", "persistentVolumeClaim": {"claimName": _state_claim_name(plan)}}
            ],
        },
        "metadata": {"labels": {"flights-mlops.io/component": router}},
    }
    return {
        "name": "bandit",
        "traffic": 100,
        "replicas": 1,
        "componentSpecs": [
            router_component,
            _model_component(plan, plan.main),
            _model_component(plan, candidate),
        ],
        "graph": {
            "name": router,
            "type": "ROUTER",
            "parameters": [{"name": k, "value": v, "type": t} for k, (v, t) in parameters.items()],
            "children": [_model_unit(plan, plan.main), _model_unit(plan, candidate)],
        },
    }


def _model_unit(plan: DeploymentPlan, served: ServedVersion) -> dict[str, Any]:
    """The graph node serving a version: its MODEL unit, behind its transformer when there is a feature
    server."""
    if not served.model_uri:
        raise RolloutError(f"version {served.version} has no model URI to deploy from")
    model = {
        "name": unit_name(plan, served),
        "type": "MODEL",
        "modelUri": served.model_uri,
        "parameters": [
            {"name": "model_uri", "value": MOUNTED_MODEL_PATH, "type": "STRING"},
            {"name": "model_version", "value": served.version, "type": "STRING"},
            *(
                [{"name": "request_log", "value": REQUEST_LOG_DIR, "type": "STRING"}]
                if plan.request_log_claim
                else []
            ),
        ],
    }
    if not plan.feature_server_url:
        return model
    # The transformer reads the version's serving schema (which store features it takes) from the same
    # model folder, downloaded into its own container by Seldon's storage initializer.
    return {
        "name": transformer_name(plan, served),
        "type": "TRANSFORMER",
        "modelUri": served.model_uri,
        "parameters": [
            {"name": "feature_server_url", "value": plan.feature_server_url, "type": "STRING"},
            {"name": "model_uri", "value": MOUNTED_MODEL_PATH, "type": "STRING"},
        ],
        "children": [model],
    }


def _model_component(plan: DeploymentPlan, served: ServedVersion) -> dict[str, Any]:
    # A transformer shares its model's pod: the executor reaches both over localhost.
    model = _container(plan, unit_name(plan, served), MODEL_CLASS, "MODEL")
    pod: dict[str, Any] = {"securityContext": _pod_security(), "containers": [model]}
    if plan.request_log_claim:
        model["volumeMounts"] = [{"name": "serving-records", "mountPath": SERVING_RECORDS_DIR}]
        pod["volumes"] = [
            {"name": "serving-records", "persistentVolumeClaim": {"claimName": plan.request_log_claim}}
        ]
    if plan.feature_server_url:
        pod["containers"].insert(
            0, _container(plan, transformer_name(plan, served), TRANSFORMER_CLASS, "TRANSFORMER")
        )
    return {"spec": pod}


def _check_feature_server_url(url: str) -> None:
    if not url:
        return
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
        raise RolloutError(
            f"feature server URL {url!r} is not http(s)://host[:port], e.g. http://feature-server:6566"
        )


def _container(plan: DeploymentPlan, name: str, component_class: str, service_type: str) -> dict[str, Any]:
    # No ports on the command line: the operator gives each unit its ports through the environment.
    return {
        "name": name,
        "image": plan.image,
        "command": ["seldon-core-microservice"],
        "args": [component_class, "--service-type", service_type],
        "env": [
            {"name": "GUNICORN_WORKERS", "value": str(plan.workers)},
            {"name": "GUNICORN_THREADS", "value": str(plan.threads)},
        ],
        "resources": {key: dict(value) for key, value in plan.resources.items()},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "fsGroup": RUN_AS_USER}


def _state_claim_name(plan: DeploymentPlan) -> str:
    return check_dns_subdomain(f"{plan.name}-bandit-state", "bandit state claim name")


def _bandit_state_claim(plan: DeploymentPlan) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": _state_claim_name(plan), "namespace": plan.namespace, "labels": _labels(plan)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
    }
