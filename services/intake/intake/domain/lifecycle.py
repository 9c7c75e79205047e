"""What an applicant may do with a dossier in each public status."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

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


# A fee asked for while the appraisal goes on (an appraisal through a council: the clock does not wait for it) is
# paid in these statuses too, as long as it is unpaid.
FEE_BESIDE_THE_CLOCK = frozenset({PublicStatus.RECEIVED, PublicStatus.PROCESSING})


def fee_due(doc: Mapping[str, Any]) -> bool:
    """Whether the dossier has a fee asked for and not paid yet."""
    fee: Mapping[str, Any] | None = doc.get("fee")
    return fee is not None and bool(fee) and fee.get("paid_at") is None


def allowed_actions(status: PublicStatus, *, fee_unpaid: bool = False) -> list[ApplicantAction]:
    return [action for action in _ALLOWED if may(action, status, fee_unpaid=fee_unpaid)]


def may(action: ApplicantAction, status: PublicStatus, *, fee_unpaid: bool = False) -> bool:
    if action is ApplicantAction.PAY_FEE and fee_unpaid and status in FEE_BESIDE_THE_CLOCK:
        return True
    return status in _ALLOWED[action]
