"""Messages between an applicant and the agency on a dossier, the same on both sides of the portal: the thread
(opening it marks the other side's messages read) and sending one with its attachments."""

from __future__ import annotations

from typing import Any

from portal.api_client import ApiProblem
from portal.applicant.uploads import upload_all
from portal.web import FormErrors, Page, problem_errors

MAX_TEXT = 4000


async def open_thread(page: Page, token: str, code: str) -> dict[str, Any]:
    """The thread as the person sees it now; an empty one when intake does not answer it (the page still shows)."""
    try:
        return await page.portal.api.open_messages(token, code)
    except ApiProblem as problem:
        if problem.status in (404, 409):
            return {"items": [], "unread": 0}
        raise


async def send(page: Page, token: str, code: str) -> tuple[FormErrors, dict[str, str]]:
    """Send the form's message and its files; what is wrong, beside the field, and what was typed."""
    form = await page.form()
    text = str(form.get("message") or "").strip()
    typed = {"message": text}
    errors = FormErrors()
    if not text:
        errors.add("message", page.t("messages.text_needed"))
    elif len(text) > MAX_TEXT:
        errors.add("message", page.t("messages.too_long", n=MAX_TEXT))
    if errors:
        return errors, typed
    uploaded, refused = await upload_all(page, token, form, ["message_files"])
    if refused:
        errors.by_field.update(refused)
        return errors, typed
    body = {"text": text, "file_ids": [f["id"] for f in uploaded.get("message_files", [])]}
    try:
        await page.portal.api.send_message(token, code, body)
    except ApiProblem as problem:
        found = problem_errors(problem, page.t)
        # Intake names the text or an attachment; the form has one field for the text and one for the files.
        for name, message in found.by_field.items():
            errors.add("message_files" if name.startswith("file_ids") else "message", message)
        errors.general.extend(found.general)
        return errors, typed
    return FormErrors(), typed
