"""The bin mapper fitted by forecast.model.crossing._fit (private scikit-learn API, guarded)."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

import forecast.model.crossing as M


def _data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (600, 6)).astype(float)
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 2] = np.round(X[:, 2] / 60)
    X[:, 3] = rng.normal(size=600)  # many distinct values: scikit-learn's own thresholds
    X[:, 4] = 1.0  # constant
    y = rng.random(600) < 0.5
    w = rng.random(600)
    w[:20] = 0
    return X, y, w


@pytest.mark.parametrize("make", [HistGradientBoostingClassifier, HistGradientBoostingRegressor])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_bins_identical(make, weighted):
    X, y, w = _data()
    sw = w if weighted else None
    a = make(max_iter=5, early_stopping=False, random_state=0).fit(X, y, sample_weight=sw)
    b = M._fit(make(max_iter=5, early_stopping=False, random_state=0), X, y, sample_weight=sw)
    assert type(b) is make and "_bin_data" not in vars(b)
    for ta, tb in zip(a._bin_mapper.bin_thresholds_, b._bin_mapper.bin_thresholds_, strict=True):
        assert ta.dtype == tb.dtype and np.array_equal(ta, tb)
    assert np.array_equal(a._bin_mapper.n_bins_non_missing_, b._bin_mapper.n_bins_non_missing_)
    assert np.array_equal(a.predict(X), b.predict(X))


def test_falls_back_without_private_api(monkeypatch):
    X, y, w = _data()
    ref = HistGradientBoostingClassifier(max_iter=5, early_stopping=False, random_state=0)
    ref.fit(X, y, sample_weight=w)
    monkeypatch.setattr(M, "_BinMapper", None)
    est = HistGradientBoostingClassifier(max_iter=5, early_stopping=False, random_state=0)
    out = M._fit(est, X, y, sample_weight=w)
    assert np.array_equal(out.predict_proba(X), ref.predict_proba(X))
    assert M._fast_bin_fit(object(), X, None) is False

    class NoHook:
        def fit(self, X, y, sample_weight=None):
            self.fitted_ = True
            return self

    assert M._fit(NoHook(), X, y).fitted_
