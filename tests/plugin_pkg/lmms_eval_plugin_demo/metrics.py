"""A metric only this plugin provides."""

from lmms_eval.api.metric import Metric


def _palindrome_match(prediction, reference, **_):
    """1 if the prediction equals the reference read backwards."""
    return float(str(prediction) == str(reference)[::-1])


PALINDROME_MATCH = Metric(name="palindrome_match", compute=_palindrome_match)
