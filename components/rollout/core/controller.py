"""The rollout controller: steps the candidate's traffic up, judges each step, promotes or rejects.

Everything it knows between two calls is on the deployment (``state.py`` annotations) and in the
registry, so any controller process - the one that started the rollout, or another after a crash - can
call ``reconcile`` and carry on. Each call reads the deployment, decides at most one thing, writes the
deployment guarded by the version it read, then updates the registry and records the decision; a
crash between those writes is finished by the next call (``_settle`` is idempotent), and a decision
recorded twice is stored once.

On failure the candidate's traffic goes to 0 first - users are protected before anything is recorded -
then the registry marks it ``rejected``; on success the candidate becomes the deployment's only
predictor, then the registry promotes it (the old production version is ``archived`` and stays the new
one's ``previous_production``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from components.images import serving_image
from components.registry import Stage
from components.rollout.core.actuator import Actuator, DeploymentConflict, MetricsSource, Observed
from components.rollout.core.analysis import StepAnalysis, Verdict, analyse
from components.rollout.core.config import RolloutConfig
from components.rollout.core.ledger import Decision, DecisionKind, RolloutLedger
from components.rollout.core.render import DeploymentPlan, ServedVersion
from components.rollout.core.state import Phase, Request, RolloutState
from components.rollout.core.strategy import Strategy, candidate_weights
from contracts.errors import RolloutError
from contracts.names import MODEL_NAME

_FINAL_DECISION = {
    Phase.SUCCEEDED: DecisionKind.PROMOTE,
    Phase.FAILED: DecisionKind.REJECT,
    Phase.ABORTED: DecisionKind.ABORT,
}
_CONFLICT_RETRIES = 5
# A step whose apply took longer than this has its window reopened when the split is in force.
_STAMP_SLACK_SECONDS = 0.5


@dataclass(frozen=True)
class DeploymentTarget:
    """Where the rollout's SeldonDeployment lives and what it runs.

    Attributes:
        name: The SeldonDeployment's name.
        namespace: Its namespace.
        image: The serving image.
        feature_server_url: Feast's feature server as the model servers reach it; when set, every
            model runs behind the feature-store TRANSFORMER (``DeploymentPlan.feature_server_url``).
    """

    name: str = MODEL_NAME
    namespace: str = "flights-mlops"
    image: str = field(default_factory=serving_image)
    feature_server_url: str = ""


class RolloutController:
    """Drives one model's rollouts through an actuator, judging steps on a metrics source.

    Args:
        actuator: The deployment to act on.
        metrics: Where step windows come from.
        ledger: Decision records and, through ``ledger.registry``, the model registry.
        config: Steps and thresholds.
        target: The deployment's name, namespace and image.
        clock: Current Unix time; tests may pass their own.
        report: Called with a line for each decision (the CLI prints them).
    """

    def __init__(
        self,
        actuator: Actuator,
        metrics: MetricsSource,
        ledger: RolloutLedger,
        config: RolloutConfig,
        *,
        target: DeploymentTarget | None = None,
        clock: Callable[[], float] = time.time,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.actuator = actuator
        self.metrics = metrics
        self.ledger = ledger
        self.registry = ledger.registry
        self.config = config
        self.target = target or DeploymentTarget()
        self.clock = clock
        self.report = report

    def start(self, candidate: str, strategy: Strategy) -> RolloutState:
        """Starts a rollout of ``candidate`` against the production version, or resumes the same one.

        Raises:
            RolloutError: when another rollout is in progress, nothing is in production, or the
                registry refuses to put the candidate on traffic (not blessed, terminal stage...).
        """
        observed = self.actuator.observe()
        version = self.registry.get(candidate)
        current = observed.state
        if current is not None and current.phase is Phase.PROGRESSING:
            if (current.candidate_version, current.strategy) == (version.version, strategy):
                self.report(
                    f"resuming rollout {current.rollout_id} at step {current.step + 1}; its window starts again"
                )
                # Applying again brings back what a crash took down (local servers and proxy); the
                # traffic seen before the crash may be gone with them, so the step is judged afresh.
                return self._apply_step(
                    current.evolve(step_started_at=self.clock()), expected=observed.resource_version
                )
            raise RolloutError(
                f"rollout {current.rollout_id} of {current.candidate_version} ({current.strategy}) is in progress; "
                "abort it (mlops rollout abort) before starting another"
            )
        main = self.registry.production()
        if main is None:
            raise RolloutError(
                f"model {self.registry.model_name!r} has no production version to roll out against"
            )
        if main.version == version.version:
            raise RolloutError(f"{version.version} is already in production")
        if version.stage is not Stage.CANARY:
            self.registry.transition(version.version, Stage.CANARY, reason=f"{strategy} rollout started")
        now = self.clock()
        weights = candidate_weights(strategy, self.config.steps)
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dt%H%M%S")
        state = RolloutState(
            rollout_id=f"{self.registry.model_name}-{version.version}-{stamp}".lower(),
            model=self.registry.model_name,
            strategy=strategy,
            main_version=main.version,
            candidate_version=version.version,
            phase=Phase.PROGRESSING,
            step=0,
            weights=weights,
            step_started_at=now,
            message=f"started {strategy}: step 1 of {len(weights)} at {weights[0]}% {_weight_note(strategy)}",
        )
        state = self._apply_step(state, expected=observed.resource_version if observed.exists else None)
        self._decide(state, DecisionKind.START, state.message, None)
        return state

    def reconcile(self) -> RolloutState:
        """Looks at the deployment once and takes the decision that is due, if any.

        Returns:
            The state after this call.

        Raises:
            RolloutError: when the deployment carries no rollout.
        """
        for _ in range(_CONFLICT_RETRIES):
            observed = self.actuator.observe()
            state = observed.state
            if state is None:
                raise RolloutError("the deployment carries no rollout; start one with mlops rollout start")
            try:
                return self._step(observed, state)
            except DeploymentConflict:
                continue  # an operator (or another controller) wrote in between: read again
        raise RolloutError(
            f"the deployment kept changing under the controller ({_CONFLICT_RETRIES} conflicts)"
        )

    def run(self, *, poll_seconds: float | None = None, timeout: float | None = None) -> RolloutState:
        """Reconciles until the rollout reaches a final phase (or ``timeout`` seconds pass)."""
        poll = self.config.steps.poll_seconds if poll_seconds is None else poll_seconds
        deadline = None if timeout is None else self.clock() + timeout
        while True:
            state = self.reconcile()
            if state.phase.final or (deadline is not None and self.clock() >= deadline):
                return state
            time.sleep(poll)

    def _step(self, observed: Observed, state: RolloutState) -> RolloutState:
        if state.phase.final:
            self._settle(state)
            return state
        if state.unknown_request:
            note = f"ignored unknown request {state.unknown_request!r} (use abort or promote)"
            self.report(note)
            cleared = state.evolve(unknown_request="", message=note)
            self.actuator.apply(self._plan(cleared), expected=observed.resource_version)
            return cleared
        if state.request is Request.ABORT:
            return self._finish(observed, state, Phase.ABORTED, "aborted by an operator", None)
        if state.request is Request.PROMOTE:
            return self._finish(
                observed, state, Phase.SUCCEEDED, f"promoted by an operator at step {state.step + 1}", None
            )
        now = self.clock()
        if now - state.step_started_at < self.config.steps.window_seconds * (state.windows_waited + 1):
            return state
        analysis = analyse(
            self.metrics.window(state.step_started_at, now),
            state.main_version,
            state.candidate_version,
            self.config.checks,
        )
        where = f"step {state.step + 1} of {len(state.weights)} ({state.candidate_weight}% {_weight_note(state.strategy)})"
        if analysis.verdict is Verdict.FAIL:
            failed = ", ".join(f"{c.name} {c.value} > {c.threshold}" for c in analysis.failed)
            return self._finish(observed, state, Phase.FAILED, f"{where} failed: {failed}", analysis)
        if analysis.verdict is Verdict.WAIT:
            if state.windows_waited + 1 >= self.config.steps.max_windows:
                reason = (
                    f"{where} failed: too little candidate traffic after {state.windows_waited + 1} windows"
                )
                return self._finish(observed, state, Phase.FAILED, reason, analysis)
            waiting = state.evolve(
                windows_waited=state.windows_waited + 1,
                message=f"{where} extended: waiting for more candidate traffic",
                last_analysis=analysis.to_dict(),
            )
            self.actuator.apply(self._plan(waiting), expected=observed.resource_version)
            self._decide(
                waiting, DecisionKind.EXTEND, waiting.message, analysis, attempt=waiting.windows_waited
            )
            return waiting
        if state.last_step:
            return self._finish(observed, state, Phase.SUCCEEDED, f"{where} passed; promoting", analysis)
        advanced = state.evolve(
            step=state.step + 1,
            step_started_at=now,
            windows_waited=0,
            message=f"{where} passed; step {state.step + 2} at {state.weights[state.step + 1]}%",
            last_analysis=analysis.to_dict(),
        )
        advanced = self._apply_step(advanced, expected=observed.resource_version)
        self._decide(advanced, DecisionKind.ADVANCE, advanced.message, analysis, step=state.step)
        return advanced

    def _apply_step(self, state: RolloutState, *, expected: str | None) -> RolloutState:
        """Applies a new step and opens its window once the split is in force.

        Applying can take a while (a local server starting, pods becoming ready); traffic from before
        the new split must not count towards the new step, so the window opens when ``apply`` returns.
        """
        version = self.actuator.apply(self._plan(state), expected=expected)
        now = self.clock()
        if now - state.step_started_at <= _STAMP_SLACK_SECONDS:
            return state
        stamped = state.evolve(step_started_at=now)
        self.actuator.apply(self._plan(stamped), expected=version)
        return stamped

    def _finish(
        self,
        observed: Observed,
        state: RolloutState,
        phase: Phase,
        reason: str,
        analysis: StepAnalysis | None,
    ) -> RolloutState:
        final = state.evolve(
            phase=phase,
            request=Request.NONE,
            message=reason,
            last_analysis=analysis.to_dict() if analysis else state.last_analysis,
        )
        # Traffic first: the deployment is what users feel; the registry and the record follow.
        self.actuator.apply(self._plan(final), expected=observed.resource_version)
        self._settle(final, analysis)
        return final

    def _settle(self, state: RolloutState, analysis: StepAnalysis | None = None) -> None:
        """Brings the registry and the records in line with a final state; does nothing the second time."""
        candidate = self.registry.get(state.candidate_version)
        if candidate.stage is Stage.CANARY:
            target = {
                Phase.SUCCEEDED: Stage.PRODUCTION,
                Phase.FAILED: Stage.REJECTED,
                Phase.ABORTED: Stage.BLESSED,
            }
            reason = f"rollout {state.rollout_id}: {state.message}"
            self.registry.transition(candidate.version, target[state.phase], reason=reason)
        self._decide(state, _FINAL_DECISION[state.phase], state.message, analysis)

    def _decide(
        self,
        state: RolloutState,
        kind: DecisionKind,
        reason: str,
        analysis: StepAnalysis | None,
        *,
        step: int | None = None,
        attempt: int = 0,
    ) -> None:
        decision = Decision(
            kind=kind,
            step=state.step if step is None else step,
            candidate_weight=state.candidate_weight,
            reason=reason,
            time=self.clock(),
            analysis=analysis.to_dict() if analysis else dict(state.last_analysis),
            attempt=attempt,
        )
        if self.ledger.record(state, decision):
            self.report(f"{kind.value}: {reason}")
            if analysis is not None:
                self.report(f"  measured: {analysis.summary()}")

    def _plan(self, state: RolloutState) -> DeploymentPlan:
        main = ServedVersion.of(self.registry.get(state.main_version))
        candidate = ServedVersion.of(self.registry.get(state.candidate_version))
        alone = DeploymentPlan(
            main=main,
            name=self.target.name,
            namespace=self.target.namespace,
            image=self.target.image,
            annotations=state.to_annotations(),
            bandit=self.config.bandit,
            feature_server_url=self.target.feature_server_url,
        )
        if state.phase is Phase.SUCCEEDED:
            return replace(alone, main=candidate)
        if state.phase.final and state.strategy is not Strategy.CANARY:
            return alone
        # A failed or aborted canary keeps its predictor at 0%, so it stays visible to inspect.
        return replace(
            alone, candidate=candidate, strategy=state.strategy, candidate_weight=state.candidate_weight
        )


def _weight_note(strategy: Strategy) -> str:
    return {
        Strategy.CANARY: "of traffic",
        Strategy.AB: "of traffic to B",
        Strategy.SHADOW: "answered; every request mirrored",
        Strategy.BANDIT: "fixed; the router splits",
    }[strategy]
