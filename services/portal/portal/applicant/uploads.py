"""Files chosen in a form, streamed on to intake one by one (from Starlette's spooled temporary files: a large
report goes to disk as it arrives, never into memory whole), with intake's refusal shown beside the field."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from portal.api_client import ApiProblem
from portal.web import Page, problem_message, translate_problem, uploads


async def upload_all(
    page: Page, token: str, form: FormData, names: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Upload the files of each form field in `names`; returns what intake kept and, per field, why it refused."""
    kept: dict[str, list[dict[str, Any]]] = {}
    refused: dict[str, str] = {}
    for name in names:
        for upload in uploads(form, name):
            try:
                stored = await page.portal.api.upload(
                    token,
                    name=upload.filename or "file",
                    content_type=upload.content_type or "application/octet-stream",
                    data=upload.file,
                )
            except ApiProblem as problem:
                refused.setdefault(name, refusal(page, problem, upload.filename))
                continue
            finally:
                await upload.close()
            kept.setdefault(name, []).append(stored)
    return kept, refused


def refusal(page: Page, problem: ApiProblem, filename: str | None) -> str:
    """Why intake refused a file, in the person's language, naming the file."""
    reason = translate_problem(problem.errors[0], page.t) if problem.errors else problem_message(problem, page.t)
    return page.t("upload.refused", name=filename or "", reason=reason)
