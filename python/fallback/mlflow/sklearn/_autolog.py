"""scikit-learn autologging: wraps ``fit`` of every estimator class.

Only the outermost ``fit`` of a call chain logs (a Pipeline or a search
fitting inner estimators logs once). What it logs follows MLflow: every
``get_params(deep=True)`` value as a param; ``training_score`` and the
metrics of the estimator's kind (classifier: accuracy, precision, recall,
F1, log loss and ROC AUC when it has ``predict_proba``; regressor: MSE,
RMSE, MAE, R2), all prefixed ``training_``; tags ``estimator_name`` and
``estimator_class``; and the fitted model under ``model``.
"""

import functools
import math
import sys
import threading
import warnings

_settings = {"disable": True}
_patched = False
_state = threading.local()


def configure(**settings):
    global _patched
    _settings.clear()
    _settings.update(settings)
    if not settings.get("disable") and not _patched:
        _patch_estimators()
        _patched = True


def _patch_estimators():
    from sklearn.utils import all_estimators
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimators = all_estimators()
    # `fit` may be inherited from a base class all_estimators() does not list
    # (SVC's from BaseLibSVM): wrap it where it is defined.
    for _, estimator in estimators:
        for cls in estimator.__mro__:
            fit = cls.__dict__.get("fit")
            if fit is not None and not getattr(fit, "_amlc_autolog", False):
                setattr(cls, "fit", _wrap(fit))


def _wrap(fit):
    @functools.wraps(fit)
    def patched(self, *args, **kwargs):
        if _settings.get("disable") or getattr(_state, "depth", 0) > 0:
            return fit(self, *args, **kwargs)
        # Fits made by this fit, or by the metrics computed after it (which
        # fit label encoders), are inner ones and log nothing.
        _state.depth = 1
        try:
            result = fit(self, *args, **kwargs)
            try:
                _log_fit(self, args, kwargs)
            except Exception as error:  # logging must never break training
                if not _settings.get("silent"):
                    sys.stderr.write("mlflow autolog: could not log the fit of %s: %s\n"
                                     % (type(self).__name__, error))
        finally:
            _state.depth = 0
        return result
    patched._amlc_autolog = True
    return patched


def _fit_data(args, kwargs):
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    weight = kwargs.get("sample_weight")
    return X, y, weight


def _training_metrics(estimator, X, y, weight):
    from sklearn import base, metrics
    if y is None:
        return {}
    values = {}
    if hasattr(estimator, "score"):
        values["training_score"] = estimator.score(X, y, sample_weight=weight) if weight is not None \
            else estimator.score(X, y)
    if base.is_classifier(estimator):
        predicted = estimator.predict(X)
        values["training_accuracy_score"] = metrics.accuracy_score(y, predicted, sample_weight=weight)
        for name, fn in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                         ("f1", metrics.f1_score)):
            values["training_%s_score" % name] = fn(y, predicted, average="weighted",
                                                     sample_weight=weight, zero_division=0)
        if hasattr(estimator, "predict_proba"):
            try:
                proba = estimator.predict_proba(X)
                values["training_log_loss"] = metrics.log_loss(y, proba, sample_weight=weight)
                if proba.shape[1] == 2:
                    values["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1], sample_weight=weight)
                else:
                    values["training_roc_auc"] = metrics.roc_auc_score(
                        y, proba, average="weighted", multi_class="ovo", sample_weight=weight)
            except Exception:  # e.g. SVC(probability=False) has the method but refuses
                pass
    elif base.is_regressor(estimator):
        predicted = estimator.predict(X)
        mse = metrics.mean_squared_error(y, predicted, sample_weight=weight)
        values["training_mean_squared_error"] = mse
        values["training_root_mean_squared_error"] = math.sqrt(mse)
        values["training_mean_absolute_error"] = metrics.mean_absolute_error(y, predicted, sample_weight=weight)
        values["training_r2_score"] = metrics.r2_score(y, predicted, sample_weight=weight)
    return values


def _log_fit(estimator, args, kwargs):
    import mlflow
    from mlflow import _fluent
    _fluent._current()  # attach to the script's run before logging
    params = estimator.get_params(deep=True)
    mlflow.log_params({k: v for k, v in params.items() if len(str(v)) <= _fluent._MAX_PARAM_CHARS})
    X, y, weight = _fit_data(args, kwargs)
    mlflow.log_metrics(_training_metrics(estimator, X, y, weight))
    cls = type(estimator)
    tags = {"estimator_name": cls.__name__, "estimator_class": cls.__module__ + "." + cls.__qualname__}
    tags.update(_settings.get("extra_tags") or {})
    mlflow.set_tags(tags)
    if _settings.get("log_models", True):
        from mlflow import sklearn as flavor
        from mlflow.models.signature import infer_signature
        signature = None
        if _settings.get("log_model_signatures", True) and X is not None and hasattr(estimator, "predict"):
            try:
                sample = X[:5] if not hasattr(X, "iloc") else X.iloc[:5]
                signature = infer_signature(sample, estimator.predict(sample))
            except Exception:
                signature = None
        flavor.log_model(estimator, "model", signature=signature,
                         serialization_format=_settings.get("serialization_format", "cloudpickle"),
                         registered_model_name=_settings.get("registered_model_name"))
