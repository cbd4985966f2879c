"""``palette eval``: the evaluation harness (``palette.recipes.evaluation``) on the command line.
The harness owns its flags and actions; this module only registers them with ``palette``."""

from palette.recipes.evaluation.evaluate import HELP, add_arguments, run

__all__ = ["HELP", "add_arguments", "run"]
