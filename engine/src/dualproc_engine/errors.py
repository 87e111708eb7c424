"""Exceptions that end a job with a specific protocol error code.

A `UserError` is a mistake the person can fix (a bad value, a missing file or model): the worker reports its
one-line message and no traceback. Anything else that escapes a job is an engine bug and is reported as
`internal`, with the traceback on stderr.
"""


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
