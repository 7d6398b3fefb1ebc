"""formcheck: a camera-based form checker for runners' ankle drills."""

import os

# Pose inference is the one cost that cannot be hidden, and on a 2-core laptop every other
# library's worker threads only compete with it. OpenBLAS starts a spinning thread per core
# at numpy's import although formcheck's arrays are far too small to gain from them
# (measured: ~1 ms of CPU a frame taken from the model's core). It reads this once, at
# import, so it is set before anything imports numpy; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
