"""What the package raises. Every error is a ProducerError; the kernel's own answer (status,
reason, error code) is kept on the exception when there was one."""

from __future__ import annotations

from typing import Mapping, Optional

__all__ = ["ProducerError", "RegistrationRefused", "ApprovalTimeout", "NoTokenIssued", "SubjectRefused", "Stopped"]


class ProducerError(Exception):
    """Base class of the package's errors."""

    def __init__(self, message: str, answer: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.answer: dict[str, str] = dict(answer or {})


class RegistrationRefused(ProducerError):
    """A final answer to the registration: `denied`, `invalid_cert` or `invalid_sig`
    (docs/onboarding.md, "Registration")."""


class ApprovalTimeout(ProducerError):
    """No admin approved the key within the `approval_timeout` given to onboard()."""


class NoTokenIssued(ProducerError):
    """The certificate exchange went unanswered: the kernel refuses silently (key not approved,
    producer disabled, rate limited; docs/onboarding.md, "Token exchange")."""


class SubjectRefused(ProducerError):
    """The subject registration was answered with an error (`invalid_payload`, `register_failed`, …)."""


class Stopped(ProducerError):
    """The `stop` event given to the producer was set while it waited."""
