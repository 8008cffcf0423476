"""Shared test settings.

Hypothesis profiles: ``ci`` (the default) keeps the whole suite within a few minutes on two
cores and is derandomized so CI is reproducible; ``thorough`` explores far more examples.
Choose with ``HYPOTHESIS_PROFILE=thorough pytest``. The suite's rules (comparing floats in
units of float resolution, files only in ``tmp_path``, no timings) are in ``tests/README.md``.
"""

import atexit
import os
import shutil
import tempfile

# numba's on-disk cache of compiled kernels (mixture._compiled) goes to a folder of this
# session's own, removed at exit, rather than the installed package's __pycache__.
if "NUMBA_CACHE_DIR" not in os.environ:
    _numba_cache = tempfile.mkdtemp(prefix="mixture-tests-numba-")
    os.environ["NUMBA_CACHE_DIR"] = _numba_cache
    atexit.register(shutil.rmtree, _numba_cache, ignore_errors=True)

# scikit-learn's estimator checks include an array-API check that runs only when SciPy's
# array API support is on; it must be set before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
