"""A delivery's message: its template rendered with the dossier's facts, and the form it carries (e-mail)."""

from __future__ import annotations

from dataclasses import dataclass

from hoso_forms import FormDossier, form_for_event, render_form

from hoso.documents import Document
from hoso.events import Envelope
from hoso.pins import unseal_pin
from notify.channels.email import Attachment
from notify.domain.catalog import Channel, NotifyCatalog, RecipientRole
from notify.domain.messages import DossierFacts, RecipientFacts, Rendered, render


@dataclass(frozen=True)
class Renderer:
    catalog: NotifyCatalog
    seal_key: str | None = None
    """Unseals the tracking PIN a `dossier.received` carries, for the applicant's e-mail and SMS (never the inbox)."""

    def _pin(self, event: Envelope) -> str | None:
        sealed = getattr(event.payload(), "tracking_pin_sealed", None)
        return unseal_pin(sealed, self.seal_key) if sealed and self.seal_key else None

    def message(self, doc: Document, event: Envelope) -> Rendered:
        """The delivery's subject and body, in the recipient's language."""
        pin = self._pin(event) if doc["channel"] != Channel.IN_APP.value else None
        facts = DossierFacts(**{**doc["facts"], "tracking_pin": pin})
        event_name, role, channel = doc["template"].split("/")
        template = self.catalog.template(event_name, RecipientRole(role), Channel(channel))
        recipient = RecipientFacts(name=doc.get("recipient_name", ""))
        return render(template, doc["language"], event.payload(), facts, recipient)

    def attachments(self, doc: Document, event: Envelope) -> tuple[Attachment, ...]:
        """The form the rule attaches (an e-mail's PDF), if the event gives one."""
        if not doc.get("form"):
            return ()
        dossier = FormDossier.model_validate(doc["form_dossier"])
        form = form_for_event(event.payload(), issued_at=event.time, dossier=dossier, tracking_pin=self._pin(event))
        if form is None:
            return ()
        return (Attachment(filename=f"Mau-{form.form.value}-{doc['dossier_code']}.pdf", content=render_form(form)),)
