"""Errors a user can act on: the CLI prints their message as one line, never a traceback."""


class InputError(ValueError):
    """The input (file, column, codebook, option) is not usable; the message says what to fix."""
