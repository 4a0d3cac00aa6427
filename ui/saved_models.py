"""The saved models of a session: the analysed model saved as a bundle, a model chosen to score new
borrowers (checked in a child process first), and the new file scored with it."""

from __future__ import annotations

import hashlib

import streamlit as st

from core.errors import RecoveryError
from core.progress import Progress
from ui import state


def signing_key() -> bytes | None:
    """The signing key from the app's secrets (LOAN_RECOVERY_SIGNING_KEY), None to use the environment's."""
    from core.serve import signing

    if not st.secrets.load_if_toml_exists():  # no secrets file: no error, the environment decides
        return None
    value = st.secrets.get(signing.ENV)
    return value.encode("utf-8") if isinstance(value, str) and value else None


def saved_model() -> bytes:
    """The analysed model as a .slr bundle: fitted once more on every borrower with an outcome."""
    from core.serve import bundle as bundles

    def work(report: Progress) -> bytes:
        report("Fitting the model on every borrower with an outcome", 0.1)
        source = state.source()
        manifest, segmenter, model = bundles.fit_bundle(
            state.prepared(), state.segments(), state.scored(), state.result(), source.name, source.digest)
        learned = state.result().learned  # a plan on the history's effects: they are saved with the model
        if learned is not None:
            manifest["effects"] = bundles.effects_manifest(learned.history)
        return bundles.dumps(bundles.Bundle(manifest, segmenter, model,
                                            effects=None if learned is None else learned.history.effects),
                             key=signing_key())

    return state.cached("saved-model", state.result_key(), lambda: state.with_progress("Saving this model", work))


def saved_model_ready() -> bool:
    """True when the model file for the current settings has been made already."""
    return state.cached_already("saved-model", state.result_key())


def use_session_model() -> None:
    """Score new files with the model trained in this session on the loaded file."""
    use_model(f"{state.source().name}{state.SESSION_MODEL}", saved_model())


def use_model(name: str, data: bytes) -> None:
    """Score new files with this saved model (kept in this session only)."""
    st.session_state["scoring_model"] = state.Source(name, data, False)


def scoring_model():
    """The saved model chosen on the Score page, loaded (None before one is chosen)."""
    from core.serve import bundle as bundles

    chosen = st.session_state.get("scoring_model")
    if chosen is None:
        return None

    key = signing_key()

    def load():
        # checked in a child process first: a crafted file cannot take the server down; a refusal
        # is remembered like a model, so the page does not start a new check on every click
        try:
            return bundles.loads(chosen.data, chosen.name, key=key, isolated=True)
        except RecoveryError as error:
            return state.Refused(str(error))

    signer = None if key is None else hashlib.sha256(key).hexdigest()  # another key, another verdict
    loaded = state.cached("load-model", (chosen.digest, signer), load)
    if isinstance(loaded, state.Refused):
        raise RecoveryError(loaded.message)
    return loaded


def use_new_file(name: str | None, data: bytes | None) -> None:
    """The file of new borrowers to score (None forgets it)."""
    st.session_state["new_file"] = None if data is None else state.Source(name, data, False)


def new_file() -> state.Source | None:
    """The file of new borrowers chosen on the Score page."""
    return st.session_state.get("new_file")


def scored_new_file(exclude_invalid: bool):
    """The new file read, checked and scored with the chosen model (no fitting)."""
    from core.serve import score as scoring  # imported on the Score page only, as the saved-model code is

    chosen, new = st.session_state["scoring_model"], new_file()
    return state.cached("score-new", (chosen.digest, new.digest, exclude_invalid), lambda: scoring.score_file(
        scoring_model(), new.data, new.name, exclude_invalid))
