"""Errors a user can act on, by type: the CLI prints their message as one ``error:`` line (exit 2), never a
traceback, and the web answers each type with its own status (400, 404, 409, 403)."""


class VerbatimsError(Exception):
    """Something the user can fix; the message says what."""


class InputError(VerbatimsError, ValueError):
    """The input (file, column, codebook, option, request) is not usable; the message says what to fix."""


class NotFoundError(InputError):
    """The input names a run, theme, unit, model or job that does not exist."""


class ConflictError(InputError):
    """The request is valid but clashes with the current state (for example, a view older than a change)."""


class TooLargeError(InputError):
    """The input is over a size limit (an upload, an answer)."""


class UnavailableError(VerbatimsError):
    """The review store cannot be used for now (locked by another process, read-only, unreachable): trying again
    later may work; the message names the store, never a query or its values."""


class ForbiddenError(VerbatimsError):
    """The user's role does not allow this."""
