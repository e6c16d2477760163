"""``lmms-eval compare``: run vs run, run vs golden file, run vs published numbers.

* :mod:`.runs` loads a run folder, a ``results.json`` or a golden file into one shape;
* :mod:`.pairing` pairs the samples two runs share and picks and runs the significance test;
* :mod:`.verdict` applies the tolerances and decides what is a regression;
* :mod:`.configdiff` says where two runs were not run alike;
* :mod:`.golden` writes and reads golden (expected-results) files;
* :mod:`.reference` checks a run against a paper's reported numbers;
* :mod:`.render` prints any of these as a terminal table, markdown or JSON.
"""

from lmms_eval.compare.golden import golden_from_run
from lmms_eval.compare.reference import check_reference
from lmms_eval.compare.runs import RunData, load_side
from lmms_eval.compare.verdict import Tolerances, compare_runs

__all__ = ["RunData", "Tolerances", "check_reference", "compare_runs", "golden_from_run", "load_side"]
