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


def _codes():
    """Bin codes as CrossingModel fits on them: whole numbers 0..62 with NaN."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 63, (700, 5)).astype(float)
    X[:, 1] = rng.integers(3, 9, 700)  # few codes, not starting at 0
    X[:, 2] = 4.0  # one code
    X[rng.random(X.shape) < 0.15] = np.nan
    y = rng.random(700) < 0.4
    return X, y, rng.random(700) + 0.05


@pytest.mark.parametrize("make", [HistGradientBoostingClassifier, HistGradientBoostingRegressor])
def test_code_lookup_identical_to_scikit_learn(make):
    """Bin codes take the lookup-table path (_small_codes): same bins and model as
    scikit-learn's own binning."""
    X, y, w = _codes()
    assert M._small_codes(X) is not None
    a = make(max_iter=5, max_bins=63, early_stopping=False, random_state=0)
    a.fit(X, y, sample_weight=w)
    b = M._fit(make(max_iter=5, max_bins=63, early_stopping=False, random_state=0), X, y, w)
    for ta, tb in zip(a._bin_mapper.bin_thresholds_, b._bin_mapper.bin_thresholds_, strict=True):
        assert np.array_equal(ta, tb)
    binned = M._transform_codes(b._bin_mapper, X, M._small_codes(X))
    assert binned.flags.f_contiguous and binned.dtype == np.uint8
    assert np.array_equal(binned, a._bin_mapper.transform(X))
    assert np.array_equal(a.predict(X), b.predict(X))


def test_small_codes_only_for_whole_numbers():
    assert M._small_codes(np.array([[0.0, np.nan], [255.0, 3.0]])) is not None
    assert M._small_codes(np.array([[0.5, 1.0]])) is None
    assert M._small_codes(np.array([[256.0, 1.0]])) is None
    assert M._small_codes(np.array([[-1.0, 1.0]])) is None


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("max_bins", [4, 63, 255])
def test_bin_thresholds_matrix_same_as_per_column(weighted, max_bins):
    """Ties (weights summed in row order), NaN, signed zeros, constant and empty columns."""
    rng = np.random.default_rng(2)
    for n in (1, 7, 300):
        X = rng.normal(size=(n, 6)) * 10
        X[:, 1] = np.round(X[:, 1])  # many ties
        X[:, 2] = np.where(rng.random(n) < 0.5, -0.0, 0.0) + np.round(X[:, 2] / 8)
        X[:, 3] = 2.5
        X[:, 4] = np.nan
        X[rng.random(X.shape) < 0.2] = np.nan
        w = rng.random(n) + 0.01 if weighted else None
        got = M.bin_thresholds_matrix(X, w, max_bins)
        want = [M.bin_thresholds(c, w, max_bins) for c in X.T]
        for g, e in zip(got, want, strict=True):
            assert np.array_equal(g, e) and np.array_equal(np.signbit(g), np.signbit(e))
    # zero weights or infinities: the per-column rule
    X = np.array([[1.0, np.inf], [2.0, 3.0], [3.0, 4.0]])
    w = np.array([0.0, 1.0, 1.0])
    assert all(
        np.array_equal(g, e)
        for g, e in zip(
            M.bin_thresholds_matrix(X, w, 2),
            [M.bin_thresholds(c, w, 2) for c in X.T],
            strict=True,
        )
    )


def test_apply_bins_fortran_codes():
    X = np.array([[0.5, np.nan], [2.0, 7.0], [np.nan, 1.0]])
    out = M.apply_bins(X, [np.array([1.0, 2.0]), np.array([3.0])])
    assert out.flags.f_contiguous
    np.testing.assert_array_equal(out, [[0.0, np.nan], [1.0, 1.0], [np.nan, 0.0]])
