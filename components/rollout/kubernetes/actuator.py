"""The Kubernetes actuator: the rollout's SeldonDeployment through the API server.

Reads and writes ``seldondeployments.machinelearning.seldon.io/v1`` with the kubernetes client. The
rollout state lives in the object's annotations (``state.py``), so ``kubectl get sdep flight-delay -o
yaml`` shows it and ``kubectl annotate sdep flight-delay rollout.flights-mlops.io/request=abort
--overwrite`` stops the rollout at the controller's next look. Every replace carries the
``resourceVersion`` the decision was based on; the API server refuses it (409) when the object changed
meanwhile - an operator's annotation is never overwritten - and the controller reads again.

The controller's service account needs ``get``, ``create``, ``update`` and ``patch`` on
``seldondeployments`` in the namespace, nothing more.
"""

from __future__ import annotations

from typing import Any, NoReturn

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from components.rollout.core.actuator import DeploymentConflict, Observed
from components.rollout.core.render import DeploymentPlan, render_seldon_deployment
from components.rollout.core.state import REQUEST_KEY, RolloutState, parse_request
from contracts.errors import RolloutError

GROUP = "machinelearning.seldon.io"
VERSION = "v1"
PLURAL = "seldondeployments"


class KubernetesActuator:
    """One SeldonDeployment in a cluster.

    Args:
        api: A ``kubernetes.client.CustomObjectsApi``.
        name: The SeldonDeployment's name.
        namespace: Its namespace.
    """

    def __init__(self, api: Any, *, name: str, namespace: str) -> None:
        self.api = api
        self.name = name
        self.namespace = namespace

    @classmethod
    def connect(cls, *, name: str, namespace: str, context: str | None = None) -> KubernetesActuator:
        """Connects with the in-cluster service account, else the kubeconfig (``context`` or the current one).

        Raises:
            RolloutError: when neither configuration can be loaded.
        """
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        try:
            config.load_incluster_config()
        except ConfigException:
            try:
                config.load_kube_config(context=context)
            except (ConfigException, OSError) as exc:
                raise RolloutError(
                    f"no Kubernetes configuration: not in a pod, and no usable kubeconfig ({exc}); "
                    "use --local to roll out on this machine"
                ) from exc
        return cls(client.CustomObjectsApi(), name=name, namespace=namespace)

    def observe(self) -> Observed:
        """Reads the SeldonDeployment; ``exists`` is False when there is none."""
        deployment = self._get()
        if deployment is None:
            return Observed(exists=False, state=None, resource_version="", deployment={})
        metadata = deployment.get("metadata", {})
        return Observed(
            exists=True,
            state=RolloutState.from_annotations(metadata.get("annotations") or {}),
            resource_version=str(metadata.get("resourceVersion", "")),
            deployment=deployment,
        )

    def apply(self, plan: DeploymentPlan, *, expected: str | None) -> str:
        """Creates the SeldonDeployment (``expected`` None) or replaces it if still at ``expected``.

        Raises:
            DeploymentConflict: when it exists already (create) or changed since ``expected`` (replace).
            RolloutError: when the API server refuses it for another reason.
        """
        if (plan.name, plan.namespace) != (self.name, self.namespace):
            raise RolloutError(
                f"this actuator drives {self.namespace}/{self.name}, not {plan.namespace}/{plan.name}"
            )
        body = render_seldon_deployment(plan)
        try:
            if expected is None:
                stored = self.api.create_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURAL, body
                )
            else:
                body["metadata"]["resourceVersion"] = expected
                stored = self.api.replace_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURAL, self.name, body
                )
        except (ApiException, HTTPError, OSError) as exc:
            self._raise(exc, "write")
        return str(stored["metadata"]["resourceVersion"])

    def request(self, action: str) -> RolloutState:
        """Sets the ``request`` annotation, as ``kubectl annotate`` would (a merge patch).

        Raises:
            RolloutError: for an unknown action, no deployment, no rollout, or one that is over.
        """
        request = parse_request(action)
        state = self.observe().state
        if state is None:
            raise RolloutError(f"{self.namespace}/{self.name} carries no rollout")
        if state.phase.final:
            raise RolloutError(f"rollout {state.rollout_id} is already {state.phase.value}")
        patch = {"metadata": {"annotations": {REQUEST_KEY: request.value}}}
        try:
            self.api.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, self.name, patch)
        except (ApiException, HTTPError, OSError) as exc:
            self._raise(exc, "annotate")
        return state.evolve(request=request)

    def _get(self) -> dict[str, Any] | None:
        try:
            return dict(
                self.api.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, self.name)
            )
        except (ApiException, HTTPError, OSError) as exc:
            if getattr(exc, "status", None) == 404:
                return None
            self._raise(exc, "read")

    def _raise(self, exc: Exception, action: str) -> NoReturn:
        status = getattr(exc, "status", None)
        where = f"SeldonDeployment {self.namespace}/{self.name}"
        if status == 409:
            raise DeploymentConflict(
                f"{where} changed or already exists ({action} refused): {_reason(exc)}"
            ) from exc
        if status is not None:
            raise RolloutError(
                f"the API server refused to {action} {where} ({status}): {_reason(exc)}"
            ) from exc
        raise RolloutError(f"cannot {action} {where}: {exc}") from exc


def _reason(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    return str(body or getattr(exc, "reason", "") or exc)[:500]
