"""Errors a runner can read. The CLI catches FormcheckError once and prints its message."""


class FormcheckError(Exception):
    """Base class: the message is one plain line meant for the person at the keyboard."""

    exit_code = 2


class InputError(FormcheckError):
    """Bad input: missing, unreadable or empty video, unknown drill, bad option."""


class CameraError(FormcheckError):
    """A camera that does not exist, gives no frames, or was lost mid-session."""

    exit_code = 3


class ModelError(FormcheckError):
    """A pose model that is missing or cannot be loaded."""

    exit_code = 4


class NoPersonError(FormcheckError):
    """No person was found in any frame of the input."""

    exit_code = 5
