import os

import numpy as np
import pytest

try:
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, max_examples=30)
    settings.register_profile("dev", deadline=None, max_examples=60)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # hypothesis is optional for the tests that do not use it
    pass


@pytest.fixture
def rng():
    """A seeded generator; FASTRNN_SEED=n (or 'any') sweeps seeds as sklearn does."""
    seed = os.environ.get("FASTRNN_SEED", "0")
    if seed == "any":
        seed = np.random.SeedSequence().entropy % 100
    return np.random.default_rng(int(seed))


from tolerances import ATOL, RTOL  # noqa: E402,F401  (re-exported for older imports)
