"""Exceptions that end a job with a specific protocol error code.

A `UserError` is a mistake the person can fix (a bad value, a missing file or model): the worker reports its
one-line message and no traceback. Anything else that escapes a job is an engine bug and is reported as
`internal`, with the traceback on stderr.
"""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(given: str, names: Iterable[str]) -> str:
    """The text " (did you mean 'x'?)" when one of `names` is close enough to `given` to be a typo, else
    the empty string: to follow the name in an error message."""
    import difflib

    near = difflib.get_close_matches(given, list(names), n=1, cutoff=0.8)
    return f" (did you mean {near[0]!r}?)" if near else ""


class UserError(Exception):
    """A mistake in the input: reported as one line, code `invalid_input` unless another is given."""

    code = "invalid_input"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class ModelMissingError(UserError):
    """Weights that are not on this machine; the message says how to get them."""

    code = "model_missing"


class JobCancelled(Exception):
    """Raised at the job's next safe point after the app asked to cancel it."""
