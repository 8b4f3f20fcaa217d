"""scikit-learn's own estimator checks on pixclust.KMeans.

It passes every check that scikit-learn's KMeans passes. Like scikit-learn's, it is expected to fail
check_sample_weight_equivalence_on_dense_data: the check shuffles the weighted rows, and k-means++
draws along the rows (in their order, with scikit-learn's random numbers, which is what makes the same
seed give scikit-learn's clustering), so a shuffled data set gets other seeds. Weights are otherwise
exact: a weighted fit equals the fit on the repeated rows laid out in place (tests/test_kmeans.py).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from pixclust import KMeans

_EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "k-means++ draws along the rows in their order, as scikit-learn's does; the check shuffles them"
    )
}


# Defaults (n_clusters=8) on the checks' tiny data sets find fewer distinct clusters than asked and say
# so with scikit-learn's ConvergenceWarning, as scikit-learn's KMeans does.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5), KMeans()], expected_failed_checks=lambda est: _EXPECTED
)
def test_sklearn_estimator_checks(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)
