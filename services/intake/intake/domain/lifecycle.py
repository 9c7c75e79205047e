"""What an applicant may do with a dossier in each public status."""

from __future__ import annotations

from enum import StrEnum

from hoso.events import PublicStatus


class ApplicantAction(StrEnum):
    SUPPLEMENT = "supplement"
    WITHDRAW = "withdraw"
    PAY_FEE = "pay_fee"


_ALLOWED: dict[ApplicantAction, frozenset[PublicStatus]] = {
    ApplicantAction.SUPPLEMENT: frozenset({PublicStatus.SUPPLEMENT_REQUESTED}),
    # Withdrawal is possible until a decision: not after refusal, stop, decision or return of the result.
    ApplicantAction.WITHDRAW: frozenset(
        {
            PublicStatus.NEW,
            PublicStatus.RECEIVED,
            PublicStatus.PROCESSING,
            PublicStatus.SUPPLEMENT_REQUESTED,
            PublicStatus.AWAITING_FEE,
        }
    ),
    ApplicantAction.PAY_FEE: frozenset({PublicStatus.AWAITING_FEE}),
}


def allowed_actions(status: PublicStatus) -> list[ApplicantAction]:
    return [action for action, statuses in _ALLOWED.items() if status in statuses]


def may(action: ApplicantAction, status: PublicStatus) -> bool:
    return status in _ALLOWED[action]
