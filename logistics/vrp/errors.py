"""Errors raised by the routing core, each with a stable machine-readable ``code``."""

from __future__ import annotations


class VrpError(Exception):
    """Base of every routing-core error: ``code`` is stable English, the message is for people."""

    code = "vrp_error"

    def __init__(self, message: str, *, code: str | None = None, culprit: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.culprit = culprit
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InvalidProblem(VrpError):
    """The problem given to the solver is malformed; ``culprit`` names the faulty object."""

    code = "invalid_problem"


class ProviderError(VrpError):
    """A distance/time provider could not produce its matrices."""

    code = "provider_error"
