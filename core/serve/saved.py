"""A saved model as the product holds it in memory: the manifest, the fitted objects, and its settings read back."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.model import Calibration, LearnedEffects


@dataclass(frozen=True)
class Bundle:
    """A trained model with everything needed to score new borrowers exactly as it was reviewed."""

    manifest: dict
    segmenter: object
    model: object
    signed: bool = False  # its signature was checked against this app's signing key
    effects: LearnedEffects | None = None  # what each action achieved, learned from the history's actions

    @property
    def config(self) -> RecoveryConfig:
        """The settings the model was trained with (decision settings included)."""
        return config_from_dict(self.manifest["config"])

    @property
    def columns(self) -> list[str]:
        """The model's input fields, numeric first."""
        m = self.manifest["model"]
        return m["numeric"] + m["categorical"]

    @property
    def calibration(self) -> Calibration:
        """Platt scaling fitted on the out-of-fold scores."""
        c = self.manifest["model"]["calibration"]
        return Calibration(c["slope"], c["intercept"])


def config_to_dict(config: RecoveryConfig) -> dict:
    """Every setting as JSON-ready values (new settings come along without changes here)."""
    return dataclasses.asdict(config)


def _rebuild(value, hint):
    """A JSON value back into the type a dataclass field declares (tuples, dataclasses, unions)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        return hint(**{k: _rebuild(v, hints[k]) for k, v in value.items()})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in args:
            if arg is type(None):
                continue
            if dataclasses.is_dataclass(arg) == isinstance(value, dict) or typing.get_origin(arg):
                return _rebuild(value, arg)
        return value
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_rebuild(v, args[0]) for v in value)
        if args:
            return tuple(_rebuild(v, a) for v, a in zip(value, args))
        return tuple(value)
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return {k: _rebuild(v, args[1]) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(value)
    return value


def config_from_dict(values: dict) -> RecoveryConfig:
    """The RecoveryConfig a manifest holds; settings this version does not know are refused."""
    hints = typing.get_type_hints(RecoveryConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise RecoveryError(f"This model was saved with settings this version does not know "
                            f"({', '.join(unknown)}): score it with the version that trained it, or retrain.")
    return RecoveryConfig(**{k: _rebuild(v, hints[k]) for k, v in values.items()}).checked()
