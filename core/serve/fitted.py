"""A loaded bundle's fitted objects, checked before their first prediction, then tried on test rows.

skops rebuilds only allow-listed types, but an allowed type can still hold numbers that crash or
fool the compiled code that predicts with it: a tree whose child points outside its node array
reads memory it does not own (a segmentation fault), a K-Means of the wrong width reads past its
centres, a DummyClassifier scores everyone the same. So every object must be the kind this app
writes in the place it writes it (the segmenter a median-impute, standardise, K-Means pipeline
of the segment fields' width; the model the classifier family the manifest names, with the
training width) and every index, count, width and number in it must be in range and finite.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree

from core.errors import RecoveryError
from core.model import MAX_CATEGORIES, MODEL_LABELS, AdditiveBoostingClassifier, FieldCodes
from core.serve.saved import Bundle

_TREE_LEAF = -1  # sklearn.tree._tree.TREE_LEAF
_BINARY = (0, 1)


class Inconsistent(Exception):
    """What in a fitted object is not as this app writes it (one line for RecoveryError)."""


def _kind(value: object, expected: type, what: str) -> None:
    """The object is exactly this type (allowed subclasses could bring their own predict)."""
    if type(value) is not expected:
        raise Inconsistent(f"{what} is a {type(value).__name__} where this app writes a {expected.__name__}")


def _array(value: object, what: str, shape: tuple[int | None, ...], kind: str = "f",
           finite: bool = True) -> np.ndarray:
    """A numpy array of this shape (None: any length) and dtype kind, finite when asked."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kind:
        raise Inconsistent(f"{what} is not an array of {'numbers' if kind in 'fiu' else 'values'}")
    if value.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, value.shape)):
        raise Inconsistent(f"{what} has shape {value.shape}, not {tuple('any' if s is None else s for s in shape)}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise Inconsistent(f"{what} holds numbers that are not finite")
    return value


def _finite(value: object, what: str) -> float:
    """One finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise Inconsistent(f"{what} is not a finite number")
    return float(value)


def _equal(value: object, expected: object, what: str) -> None:
    """A parameter holds the value this app writes (so it cannot change what predict does)."""
    whole = isinstance(expected, int) and not isinstance(expected, bool)
    same = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) if whole \
        else type(value) is type(expected)
    if not same or value != expected:
        raise Inconsistent(f"{what} is {repr(value)[:40]}, where this app writes {expected!r}")


def _names(value: object, expected: list[str], what: str) -> None:
    """A list of field names equal to the manifest's."""
    if not isinstance(value, (list, tuple, np.ndarray)) or [str(v) for v in value] != expected \
            or any(not isinstance(v, str) for v in value):
        raise Inconsistent(f"{what} are not the fields the manifest names")


def _binary(value: object, what: str) -> None:
    """Classes 0 and 1, as every model this app trains predicts."""
    if not isinstance(value, np.ndarray) or value.shape != (2,) or value.tolist() != list(_BINARY):
        raise Inconsistent(f"{what} are not the two classes 0 and 1")


def _steps(pipeline: object, kinds: tuple[type, ...], what: str) -> list:
    """The estimators of a Pipeline of exactly these kinds, in order."""
    _kind(pipeline, Pipeline, what)
    steps = pipeline.steps
    if not isinstance(steps, list) or len(steps) != len(kinds) or any(
            not isinstance(s, tuple) or len(s) != 2 or not isinstance(s[0], str) for s in steps):
        raise Inconsistent(f"{what} does not have the {len(kinds)} steps this app writes")
    for (label, step), kind in zip(steps, kinds):
        _kind(step, kind, f"{what}'s step {label[:40]!r}")
    return [step for _, step in steps]


# ------------------------------------------------------------------------------ segmenter


def check_segmenter(segmenter: object, features: list[str], k: int) -> None:
    """Median-impute, standardise, K-Means with k centres, all as wide as the segment fields."""
    imputer, scaler, kmeans = _steps(segmenter, (SimpleImputer, StandardScaler, KMeans), "the segmenter")
    width = len(features)
    _imputer(imputer, width, "median", "the segmenter's imputer")
    _scaler(scaler, width, "the segmenter's scaler")
    centres = kmeans.cluster_centers_ if hasattr(kmeans, "cluster_centers_") else None
    if not isinstance(centres, np.ndarray) or centres.ndim != 2:
        raise Inconsistent("the segmenter's K-Means has no centres")
    if centres.shape[1] != width or kmeans.n_features_in_ != width:
        raise Inconsistent(f"the segmenter's K-Means is {centres.shape[1]} field(s) wide, but the segments use "
                           f"{width} field(s)")
    if centres.shape[0] != k or kmeans.n_clusters != k:
        raise Inconsistent(f"the segmenter's K-Means has {centres.shape[0]} centres for {k} named segments")
    _array(centres, "the segmenter's K-Means centres", (k, width))
    # predict hands this thread count to OpenMP as it is: a crafted one could start thousands
    threads = getattr(kmeans, "_n_threads", None)
    if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= 1024:
        raise Inconsistent("the segmenter's K-Means asks for an impossible number of threads")


def _imputer(imputer: SimpleImputer, width: int, strategy: str, what: str) -> None:
    """A fitted SimpleImputer of this width and strategy, adding no indicator columns."""
    _equal(imputer.strategy, strategy, f"{what}'s strategy")
    _equal(imputer.add_indicator, False, f"{what}'s indicator")
    _equal(getattr(imputer, "n_features_in_", None), width, f"{what}'s width")
    statistics = getattr(imputer, "statistics_", None)
    if strategy == "constant":
        _array(statistics, f"{what}'s fill values", (width,), kind="OUSfiu", finite=False)
    else:
        _array(statistics, f"{what}'s medians", (width,), finite=False)
        if np.isinf(statistics).any():
            raise Inconsistent(f"{what}'s medians hold infinite numbers")


def _scaler(scaler: StandardScaler, width: int, what: str) -> None:
    """A fitted StandardScaler of this width: finite means, positive finite scales."""
    _equal(scaler.with_mean, True, f"{what}'s centring")
    _equal(scaler.with_std, True, f"{what}'s scaling")
    _equal(getattr(scaler, "n_features_in_", None), width, f"{what}'s width")
    _array(getattr(scaler, "mean_", None), f"{what}'s means", (width,))
    if not (_array(getattr(scaler, "scale_", None), f"{what}'s scales", (width,)) > 0).all():
        raise Inconsistent(f"{what}'s scales are not all positive")


# ------------------------------------------------------------------------------ the risk model


def check_model(model: object, kind: str, numeric: list[str], categorical: list[str]) -> None:
    """The classifier family the manifest names, learning from exactly its fields, every table in range."""
    if kind == "gradient_boosting":
        _kind(model, AdditiveBoostingClassifier, "the risk model")
        _additive(model, numeric, categorical)
        return
    final = RandomForestClassifier if kind == "random_forest" else LogisticRegression
    prepare, classifier = _steps(model, (ColumnTransformer, final), "the risk model")
    width = _prepare(prepare, numeric, categorical, scaled=kind == "logistic")
    if kind == "random_forest":
        _forest(classifier, width)
    else:
        _logistic(classifier, width)


def _prepare(prepare: ColumnTransformer, numeric: list[str], categorical: list[str], scaled: bool) -> int:
    """The ColumnTransformer make_model builds: numeric then categorical fields; returns its output width."""
    _equal(getattr(prepare, "n_features_in_", None), len(numeric) + len(categorical), "the model's input width")
    _names(getattr(prepare, "feature_names_in_", None), numeric + categorical, "the model's input fields")
    parts = getattr(prepare, "transformers_", None)
    if not isinstance(parts, list) or not all(isinstance(p, tuple) and len(p) == 3 for p in parts):
        raise Inconsistent("the model's field preparation is not fitted")
    named = {p[0]: p for p in parts if isinstance(p[0], str)}
    if set(named) - {"numeric", "category", "remainder"} or len(named) != len(parts) or \
            "numeric" not in named or "category" not in named:
        raise Inconsistent("the model's field preparation has parts this app never writes")
    if "remainder" in named and (named["remainder"][1] != "drop" or len(named["remainder"][2])):
        raise Inconsistent("the model's field preparation passes on fields the manifest does not name")
    _, numbers, columns = named["numeric"]
    _names(columns, numeric, "the model's numeric fields")
    if numeric:
        steps = _steps(numbers, (SimpleImputer, StandardScaler) if scaled else (SimpleImputer,), "the numeric preparation")
        _imputer(steps[0], len(numeric), "median", "the numeric imputer")
        if scaled:
            _scaler(steps[1], len(numeric), "the numeric scaler")
    _, categories, columns = named["category"]
    _names(columns, categorical, "the model's categorical fields")
    width = len(numeric)
    if categorical:
        imputer, encoder = _steps(categories, (SimpleImputer, OneHotEncoder), "the category preparation")
        _imputer(imputer, len(categorical), "constant", "the category imputer")
        _equal(encoder.handle_unknown, "ignore", "the category encoder's handling of new values")
        _equal(getattr(encoder, "n_features_in_", None), len(categorical), "the category encoder's width")
        if getattr(encoder, "drop_idx_", None) is not None or encoder.max_categories is not None \
                or encoder.min_frequency is not None:
            raise Inconsistent("the category encoder drops or merges categories, which this app never asks")
        known = getattr(encoder, "categories_", None)
        if not isinstance(known, list) or len(known) != len(categorical):
            raise Inconsistent("the category encoder does not list each field's categories")
        for name, values in zip(categorical, known):
            _array(values, f"the categories of {name[:40]!r}", (None,), kind="OU", finite=False)
            if len(set(values.tolist())) != len(values) or not all(isinstance(v, str) for v in values.tolist()):
                raise Inconsistent(f"the categories of {name[:40]!r} are not distinct texts")
            width += len(values)
    return width


def _forest(forest: RandomForestClassifier, width: int) -> None:
    """Every tree of the forest: binary, as wide as the prepared fields, every node index in range."""
    _equal(forest.n_jobs, 1, "the forest's parallel jobs")
    _equal(forest.verbose, 0, "the forest's verbosity")
    _equal(getattr(forest, "n_features_in_", None), width, "the forest's input width")
    _equal(getattr(forest, "n_outputs_", None), 1, "the forest's outputs")
    # predict_proba allocates rows × n_classes_ for every tree: a crafted count would exhaust memory
    _equal(getattr(forest, "n_classes_", None), 2, "the forest's number of classes")
    _binary(getattr(forest, "classes_", None), "the forest's classes")
    trees = getattr(forest, "estimators_", None)
    if not isinstance(trees, list) or not trees or len(trees) != forest.n_estimators:
        raise Inconsistent("the forest does not hold the trees it declares")
    for i, tree in enumerate(trees):
        what = f"tree {i + 1} of the forest"
        _kind(tree, DecisionTreeClassifier, what)
        _equal(getattr(tree, "n_features_in_", None), width, f"{what}'s input width")
        _binary(getattr(tree, "classes_", None), f"{what}'s classes")
        _equal(getattr(tree, "n_outputs_", None), 1, f"{what}'s outputs")
        check_tree(tree.tree_, width, what)


def check_tree(tree: object, width: int, what: str = "the tree") -> None:
    """A fitted sklearn Tree whose every child is a later node or a leaf and every split a real field.

    Children after their parent make every path end at a leaf; the node count is checked against
    the allocated array first, because every array view below is as long as the node count.
    """
    _kind(tree, Tree, what)
    n, capacity = tree.node_count, tree.capacity
    if not 1 <= n <= capacity:
        raise Inconsistent(f"{what} declares {n} nodes in room for {capacity}")
    if tree.n_features != width or tree.n_outputs != 1 or tree.n_classes.tolist() != [2]:
        raise Inconsistent(f"{what} is not a binary tree over {width} fields")
    left, right = tree.children_left, tree.children_right
    leaf = left == _TREE_LEAF
    if not np.array_equal(leaf, right == _TREE_LEAF):
        raise Inconsistent(f"{what} has nodes with one child")
    nodes, inner = np.arange(n), ~leaf
    for child in (left, right):
        if ((child[inner] <= nodes[inner]) | (child[inner] >= n)).any():
            raise Inconsistent(f"{what} has a child index outside its {n} nodes")
    features = tree.feature[inner]
    if ((features < 0) | (features >= width)).any():
        raise Inconsistent(f"{what} splits on a field index outside its {width} fields")
    if not np.isfinite(tree.threshold[inner]).all():
        raise Inconsistent(f"{what} has thresholds that are not finite")
    values = tree.value
    if values.shape != (n, 1, 2) or not np.isfinite(values).all() or (values < 0).any():
        raise Inconsistent(f"{what} has leaf values that are not finite shares")
    if not 0 <= tree.max_depth <= n:
        raise Inconsistent(f"{what} declares an impossible depth")


def _logistic(model: LogisticRegression, width: int) -> None:
    """One finite coefficient per prepared field and a finite intercept, for classes 0 and 1."""
    _equal(getattr(model, "n_features_in_", None), width, "the logistic model's input width")
    _binary(getattr(model, "classes_", None), "the logistic model's classes")
    _array(getattr(model, "coef_", None), "the logistic model's coefficients", (1, width))
    _array(getattr(model, "intercept_", None), "the logistic model's intercept", (1,))


def _additive(model: AdditiveBoostingClassifier, numeric: list[str], categorical: list[str]) -> None:
    """The additive booster's tables: codes per field, one finite curve per field, as long as its codes."""
    _names(model.numeric, numeric, "the additive model's numeric fields")
    _names(model.categorical, categorical, "the additive model's categorical fields")
    _binary(getattr(model, "classes_", None), "the additive model's classes")
    _finite(getattr(model, "base_", None), "the additive model's base")
    codes = getattr(model, "codes_", None)
    _kind(codes, FieldCodes, "the additive model's field codes")
    _names(codes.numeric, numeric, "the field codes' numeric fields")
    _names(codes.categorical, categorical, "the field codes' categorical fields")
    max_bins = codes.max_bins
    if not isinstance(max_bins, int) or isinstance(max_bins, bool) or not 2 <= max_bins <= 255:
        raise Inconsistent("the field codes declare an impossible number of bins")
    edges, categories, curves = (getattr(codes, "edges_", None), getattr(codes, "categories_", None),
                                 getattr(model, "curves_", None))
    if not isinstance(edges, dict) or list(edges) != numeric:
        raise Inconsistent("the field codes do not hold bin edges for exactly the numeric fields")
    if not isinstance(categories, dict) or list(categories) != categorical:
        raise Inconsistent("the field codes do not hold categories for exactly the categorical fields")
    if not isinstance(curves, dict) or sorted(curves) != sorted(numeric + categorical):
        raise Inconsistent("the additive model does not hold one curve per field")
    for name in numeric:
        cuts = _array(edges[name], f"the bin edges of {name[:40]!r}", (None,))
        if len(cuts) > max_bins or (np.diff(cuts) <= 0).any():
            raise Inconsistent(f"the bin edges of {name[:40]!r} are not increasing")
    for name in categorical:
        known = _array(categories[name], f"the categories of {name[:40]!r}", (None,), kind="U", finite=False)
        if len(known) > MAX_CATEGORIES or (len(known) > 1 and not (known[1:] > known[:-1]).all()):
            raise Inconsistent(f"the categories of {name[:40]!r} are not distinct sorted texts")
    for name in numeric + categorical:
        curve = _array(curves[name], f"the curve of {name[:40]!r}", (codes.n_codes(name) + 1,))
        if curve[-1] != 0:
            raise Inconsistent(f"the curve of {name[:40]!r} moves the score when the field is missing")
    booster = getattr(model, "booster_", None)
    _kind(booster, HistGradientBoostingClassifier, "the additive model's booster")
    _booster(booster, len(numeric) + len(categorical))


def _booster(booster: HistGradientBoostingClassifier, width: int) -> None:
    """The HistGradientBoosting behind the curves: binary, this width, every tree's nodes in range."""
    _equal(getattr(booster, "n_features_in_", None), width, "the booster's input width")
    _binary(getattr(booster, "classes_", None), "the booster's classes")
    _array(getattr(booster, "_baseline_prediction", None), "the booster's baseline", (1, 1))
    predictors = getattr(booster, "_predictors", None)
    if not isinstance(predictors, list) or not all(isinstance(p, list) and len(p) == 1 for p in predictors):
        raise Inconsistent("the booster does not hold one tree per iteration")
    for i, (predictor,) in enumerate(predictors):
        check_predictor(predictor, width, f"booster tree {i + 1}")


def check_predictor(predictor: object, width: int, what: str) -> None:
    """A HistGradientBoosting tree: children later nodes, fields and category bitsets in range."""
    _kind(predictor, TreePredictor, what)
    nodes = predictor.nodes
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1 or not len(nodes):
        raise Inconsistent(f"{what} has no node table of the expected layout")
    n, leaf = len(nodes), nodes["is_leaf"] != 0
    at, inner = np.arange(n), ~leaf
    for side in ("left", "right"):
        child = nodes[side][inner].astype(np.int64)
        if ((child <= at[inner]) | (child >= n)).any():
            raise Inconsistent(f"{what} has a child index outside its {n} nodes")
    features = nodes["feature_idx"][inner]
    if ((features < 0) | (features >= width)).any():
        raise Inconsistent(f"{what} splits on a field index outside its {width} fields")
    if np.isnan(nodes["num_threshold"][inner]).any() or not np.isfinite(nodes["value"]).all():
        raise Inconsistent(f"{what} has values that are not numbers")
    for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        bitsets = _array(getattr(predictor, name, None), f"{what}'s category sets", (None, 8), kind="u")
        split = inner & (nodes["is_categorical"] != 0)
        if (nodes["bitset_idx"][split] >= len(bitsets)).any():
            raise Inconsistent(f"{what} points at a category set it does not have")


def _hgb(booster: object, kind: type, width: int, per_iteration: int, what: str) -> None:
    """A HistGradientBoosting model of the action effects: this kind and width, every tree in range."""
    _kind(booster, kind, what)
    _equal(getattr(booster, "n_features_in_", None), width, f"{what}'s input width")
    predictors = getattr(booster, "_predictors", None)
    if not isinstance(predictors, list) or not all(isinstance(p, list) and len(p) == per_iteration
                                                   for p in predictors):
        raise Inconsistent(f"{what} does not hold {per_iteration} tree(s) per iteration")
    for i, trees in enumerate(predictors):
        for predictor in trees:
            check_predictor(predictor, width, f"{what}, tree {i + 1}")


def check_effects(effects: object, plain: dict) -> None:
    """The learned action effects' models: the propensity classifiers and the outcome regressors per fold."""
    if not isinstance(effects, dict) or sorted(effects) != ["codes", "final", "outcome", "propensity"]:
        raise Inconsistent("the action effects are not the parts this app writes")
    _kind(effects["codes"], FieldCodes, "the action effects' field codes")
    width, k = len(plain["numeric"]) + len(plain["categorical"]), len(plain["methods"])
    folds = effects["propensity"]
    if not isinstance(folds, (tuple, list)) or not folds or len(effects["outcome"]) != len(folds):
        raise Inconsistent("the action effects do not hold one propensity and one outcome model set per fold")
    for f, model in enumerate(folds):
        classes = np.asarray(getattr(model, "classes_", []))
        if classes.dtype.kind not in "iu" or not len(classes) or classes.min() < 0 or classes.max() >= k:
            raise Inconsistent(f"the action effects' propensity model {f + 1} names actions outside the {k}")
        _hgb(model, HistGradientBoostingClassifier, width, 1 if len(classes) == 2 else len(classes),
             f"the action effects' propensity model {f + 1}")
    s_learner = plain["estimator"] == "s_learner"
    for f, models in enumerate(effects["outcome"]):
        if not isinstance(models, (tuple, list)) or len(models) != (1 if s_learner else k):
            raise Inconsistent(f"the action effects' outcome models of fold {f + 1} are not one per action")
        for a, model in enumerate(models):
            if model is not None:
                _hgb(model, HistGradientBoostingRegressor, width + s_learner, 1,
                     f"the action effects' outcome model {a + 1} of fold {f + 1}")
    final = effects["final"]
    if not isinstance(final, (tuple, list)) or len(final) not in (0, k):
        raise Inconsistent("the action effects' final models are not one per action")
    for a, model in enumerate(final):
        _hgb(model, HistGradientBoostingRegressor, width, 1, f"the action effects' final model {a + 1}")


# ------------------------------------------------------------------------------ both, as a bundle


def check(objects: object, manifest: dict, name: str) -> tuple[object, object]:
    """The segmenter and the model, refused in one line unless each is consistent with the manifest."""
    try:
        if not isinstance(objects, dict) or sorted(set(objects) - {"effects"}) != ["model", "segmenter"]:
            raise Inconsistent("the model file does not hold exactly a segmenter and a model")
        if ("effects" in objects) != ("effects" in manifest):
            raise Inconsistent("the model file and its manifest disagree on holding learned action effects")
        if "effects" in objects:
            check_effects(objects["effects"], manifest["effects"])
        model, segments = manifest["model"], manifest["segments"]
        if model["kind"] not in MODEL_LABELS:
            raise Inconsistent(f"the manifest names a model kind this app never trains ({model['kind'][:40]!r})")
        check_segmenter(objects["segmenter"], segments["features"], len(segments["names"]))
        check_model(objects["model"], model["kind"], model["numeric"], model["categorical"])
    except Inconsistent as problem:
        raise RecoveryError(f"{name} is not a model this app wrote: {problem}. It is not loaded; use the file "
                            "as saved, or train the model again.") from None
    except RecoveryError:
        raise
    except Exception:  # an attribute of an unexpected kind deep in an object: the same verdict
        raise RecoveryError(f"{name} holds a model whose parts are not the kinds this app writes: it is not "
                            "loaded. Use the file as saved, or train the model again.") from None
    return objects["segmenter"], objects["model"]


# ------------------------------------------------------------------------------ a first prediction


PROBE_NUMBERS = (0.0, 1.0, -1e9, 1e12, float("nan"))
PROBE_TEXTS = ("(a value never seen)", "", "0", None)


def probe_rows(bundle: Bundle):
    """A few made-up borrowers: training's edge values, zero, huge, negative and missing ones."""
    import pandas as pd

    from core.data import RATIOS

    m = bundle.manifest
    categorical = set(m["model"]["categorical"])
    groups = m["explain"]["groups"]
    fields = list(dict.fromkeys(bundle.columns + m["segments"]["features"] + [g["field"] for g in groups]
                                + [f for g in groups for r in g["ratios"] for f in RATIOS[r]]))
    profiles = m["profile"]["fields"]
    columns = {}
    for field in fields:
        known = profiles.get(field, {})
        if field in categorical:
            seen = list(known.get("values", []))[:3] if known.get("kind") == "category" else []
            columns[field] = pd.Series(seen + list(PROBE_TEXTS), dtype=object)
        else:
            edges = list(known.get("edges", [])) if known.get("kind") == "numeric" else []
            picks = [edges[0], edges[len(edges) // 2], edges[-1]] if edges else []
            columns[field] = pd.Series(picks + list(PROBE_NUMBERS), dtype="float64")
    rows = max(len(c) for c in columns.values())
    return pd.DataFrame({k: c.reindex(range(rows)) for k, c in columns.items()})


def probe(bundle: Bundle, name: str) -> None:
    """Segment, score and explain made-up borrowers as score_rows does; refuse what fails or is not a score."""
    from threadpoolctl import threadpool_limits

    from core.model import assign_segments, explain, risk

    m = bundle.manifest
    seg, ex = m["segments"], m["explain"]
    try:
        rows = probe_rows(bundle)
        ids = assign_segments(bundle.segmenter, np.array(seg["relabel"]), rows, tuple(seg["features"]))
        groups = [explain.FieldGroup(g["field"], tuple(g["columns"]), tuple(g["ratios"])) for g in ex["groups"]]
        typical = [np.nan if ex["typical"][g.field] is None else ex["typical"][g.field] for g in groups]
        with threadpool_limits(limits=1):
            scores = risk.probability(bundle.model, bundle.calibration, rows[bundle.columns], m["model"]["calibrated"])
            base, drops = explain.Explainer(bundle.model, bundle.columns).changes(rows, groups, typical)
    except Exception:
        raise RecoveryError(f"{name} holds a model that fails when it scores test borrowers: it is not loaded. "
                            "Use the file as saved, or train the model again.") from None
    scores, ids = np.asarray(scores, dtype="float64"), np.asarray(ids)
    good = (ids.shape == scores.shape == (len(rows),) and np.isin(ids, np.arange(len(seg["names"]))).all()
            and np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
            and np.isfinite(np.asarray(base, dtype="float64")).all()
            and np.isfinite(np.asarray(drops, dtype="float64")).all())
    if not good:
        raise RecoveryError(f"{name} holds a model that gives no valid score or segment for test borrowers: it is "
                            "not loaded. Use the file as saved, or train the model again.")
