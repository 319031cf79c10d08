"""Domain errors: one base class with a stable machine code and a message for people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refused command. ``code`` is stable for programs; ``message`` is for people."""

    code = "error"
    status = 400
    default_message = _("La demande ne peut pas être traitée.")

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.message = str(message or self.default_message)
        self.params = params
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        """The error as the API returns it."""
        return {
            "code": self.code,
            "message": self.message,
            **({"params": self.params} if self.params else {}),
        }


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Introuvable.")
