"""CLI commands, one module each; each module adds its command(s) to formcheck.cli.app.

Add a new command module to the import list below. The order is the order `formcheck --help`
lists the commands in, so it is kept by hand.
"""

# ruff: noqa: I001
from formcheck.commands import drills_cmd  # noqa: F401
from formcheck.commands import pose_cmd  # noqa: F401
from formcheck.commands import models_cmd  # noqa: F401
from formcheck.commands import doctor_cmd  # noqa: F401
from formcheck.commands import analyze_cmd  # noqa: F401
from formcheck.commands import history_cmd  # noqa: F401
from formcheck.commands import live_cmd  # noqa: F401
from formcheck.commands import routine_cmd  # noqa: F401
from formcheck.commands import synth_cmd  # noqa: F401
