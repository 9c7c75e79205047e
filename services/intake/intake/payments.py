"""Fees: the signed payment link for the applicant and the provider's signed callback (emits `dossier.fee_paid`)."""

from __future__ import annotations

from decimal import Decimal

from hoso.auth import Principal
from hoso.events import EventType, PublicStatus, new_event
from hoso.events.catalog import DossierFeePaid
from hoso.logs import get_logger
from hoso.mongo import bson_now
from hoso.outbox import OutboxRelay
from hoso.problems import Problem
from hoso.topics import DOSSIER_EVENTS
from intake.domain.lifecycle import ApplicantAction, fee_due, may
from intake.domain.payment import Callback, CallbackRefused, PaymentRequest, payment_request, read_callback
from intake.handlers import SERVICE, WrongState, own_dossier, pending_request
from intake.repository import DossierRepository
from intake.settings import IntakeSettings

log = get_logger(__name__)


class PaymentsUnavailable(Problem):
    def __init__(self) -> None:
        super().__init__(503, "Payments unavailable", "no payment provider is configured (INTAKE_PAYMENT_SECRET)")


class CallbackProblem(Problem):
    def __init__(self, status: int, code: str, reason: str) -> None:
        # RspCode and Message follow the gateway's IPN convention so its operators read the refusal as usual.
        super().__init__(status, "Payment callback refused", reason, RspCode=code, Message=reason)


def _secret(settings: IntakeSettings) -> str:
    if settings.payment_secret is None:
        raise PaymentsUnavailable()
    return settings.payment_secret.get_secret_value()


async def payment_link(
    repo: DossierRepository, settings: IntakeSettings, *, applicant: Principal, code: str, client_ip: str
) -> PaymentRequest:
    doc = await own_dossier(repo, code, applicant)
    status = PublicStatus(doc["status_code"])
    if not may(ApplicantAction.PAY_FEE, status, fee_unpaid=fee_due(doc)) or not doc.get("fee"):
        raise WrongState(ApplicantAction.PAY_FEE, status)
    fee = doc["fee"]
    return payment_request(
        gateway_url=settings.payment_gateway_url,
        merchant_code=settings.payment_merchant_code,
        secret=_secret(settings),
        reference=fee["reference"],
        amount_vnd=fee["amount_vnd"],
        description=f"Thanh toan phi ho so {doc['code']}",
        return_url=settings.payment_return_url,
        client_ip=client_ip,
        now=bson_now(),
    )


async def confirm_payment(
    repo: DossierRepository, relay: OutboxRelay, settings: IntakeSettings, *, params: dict[str, str]
) -> str:
    """Verify a provider callback and record the payment once; returns the gateway's answer message."""
    try:
        callback = read_callback(params, _secret(settings))
    except CallbackRefused as exc:
        log.warning("payment.callback_refused", code=exc.code, reason=exc.reason, reference=params.get("vnp_TxnRef"))
        raise CallbackProblem(400, exc.code, exc.reason) from exc
    doc = await repo.by_fee_reference(callback.reference)
    if doc is None:
        log.warning("payment.callback_refused", code="01", reason="unknown reference", reference=callback.reference)
        raise CallbackProblem(404, "01", "order not found")
    fee = doc["fee"]
    if callback.amount_vnd != fee["amount_vnd"]:
        log.warning(
            "payment.callback_refused",
            code="04",
            reason="amount differs",
            reference=callback.reference,
            expected=fee["amount_vnd"],
            received=callback.amount_vnd,
        )
        raise CallbackProblem(400, "04", "invalid amount")
    if fee.get("paid_at") is not None:
        return "Order already confirmed"
    if not callback.succeeded:
        log.info("payment.failed_at_provider", reference=callback.reference)
        return "Confirm Success"
    await _record_paid(repo, relay, doc, callback)
    return "Confirm Success"


async def _record_paid(repo: DossierRepository, relay: OutboxRelay, doc: dict[str, object], callback: Callback) -> None:
    now = bson_now()
    data = DossierFeePaid(
        dossier_id=str(doc["_id"]),
        dossier_code=str(doc["code"]),
        procedure_code=str(doc["procedure_code"]),
        agency_code=str(doc["agency_code"]),
        status_code=PublicStatus.PROCESSING,
        amount=Decimal(callback.amount_vnd),
        payment_reference=callback.transaction_no or callback.reference,
    )
    event = new_event(EventType.DOSSIER_FEE_PAID, data, service=SERVICE, time=now)
    update = {
        "$set": {
            "fee.paid_at": now,
            "fee.transaction_no": callback.transaction_no,
            "status_code": int(PublicStatus.PROCESSING),
            "status_updated_at": now,
            "clock_paused": False,
            "pending_request": pending_request(ApplicantAction.PAY_FEE, event),
        }
    }
    recorded = await repo.act(
        str(doc["_id"]),
        allowed_statuses=[int(s) for s in PublicStatus if may(ApplicantAction.PAY_FEE, s, fee_unpaid=True)],
        update=update,
        events=[(DOSSIER_EVENTS, event)],
        where={"fee.paid_at": None, "fee.reference": callback.reference},
    )
    if recorded:
        relay.wake(doc["_id"])
        log.info("payment.recorded", reference=callback.reference, amount=callback.amount_vnd)
