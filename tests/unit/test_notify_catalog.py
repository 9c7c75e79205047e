"""Rules and templates: the real ones load; each kind of mistake is refused at start-up, naming it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from hoso.events.catalog import EVENT_MODELS, DossierDeadlineExtended, DossierReceived
from hoso.runtime import ProcessRole
from notify.bootstrap import build_app
from notify.domain.catalog import (
    RULES_FILE,
    TEMPLATES_DIR,
    CatalogError,
    Channel,
    RecipientRole,
    environment,
    event_type_named,
    load_catalog,
    template_problems,
)
from notify.domain.messages import SAMPLE_DOSSIER, SAMPLE_RECIPIENT, render, sample_payload
from notify.settings import NotifySettings


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules.yaml"
    shutil.copy(RULES_FILE, rules)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    return rules, templates


def test_the_shipped_rules_and_templates_load_and_every_template_renders_its_sample_in_each_language() -> None:
    catalog = load_catalog()
    assert len(catalog.rules) == 19
    for template in catalog:
        event_type = event_type_named(template.key.event)
        assert event_type is not None
        payload = sample_payload(EVENT_MODELS[event_type])
        for language in ("vi", "en"):
            rendered = render(template, language, payload, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
            assert rendered.language == language
            assert rendered.body.strip()
            assert "<" not in rendered.subject


def test_a_rule_whose_template_is_missing_is_refused(copy: tuple[Path, Path]) -> None:
    rules, templates = copy
    (templates / "dossier.refused.yaml").write_text(
        (templates / "dossier.refused.yaml").read_text(encoding="utf-8").split("  sms:")[0], encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=r"dossier\.refused/applicant/sms has no template"):
        load_catalog(rules, templates)


def test_a_template_reading_a_field_the_event_schema_lacks_is_refused(copy: tuple[Path, Path]) -> None:
    rules, templates = copy
    path = templates / "dossier.received.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{{ event.receipt_number }}", "{{ event.receipt_no }}", 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"DossierReceived schema has no field 'receipt_no'"):
        load_catalog(rules, templates)


def test_a_rule_for_an_event_that_does_not_exist_is_refused(copy: tuple[Path, Path]) -> None:
    rules, templates = copy
    rules.write_text(
        rules.read_text(encoding="utf-8")
        + "  - event: dossier.teleported\n    notify: [{recipient: applicant, channels: [email]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"no event type 'dossier\.teleported'"):
        load_catalog(rules, templates)


def test_a_form_without_an_email_is_refused(copy: tuple[Path, Path]) -> None:
    rules, templates = copy
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            '{recipient: applicant, channels: [email, sms, in_app], form: "03"}',
            '{recipient: applicant, channels: [sms, in_app], form: "03"}',
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"attaches form 03 without an e-mail"):
        load_catalog(rules, templates)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ event.applicant }}", "schema has no field 'applicant'"),
        ("{{ event.due_at.year }}", ""),
        ("{{ event.attachment.sha256 }}", ""),
        ("{{ event.attachment.checksum }}", "schema has no field 'attachment.checksum'"),
        ("{{ event['receipt_number'] }}", ""),
        ("{{ dossier.secret }}", "dossier has no field 'secret'"),
        ("{{ recipient.email }}", "recipient has no field 'email'"),
        ("{{ settings.smtp_password }}", "unknown name 'settings'"),
        ("{{ event.__class__ }}", "schema has no field '__class__'"),
        ("{% for x in event.items %}{{ x }}{% endfor %}", "schema has no field 'items'"),
        ("{{ event.receipt_number ", "syntax error"),
    ],
)
def test_template_problems_name_what_is_wrong(source: str, problem: str) -> None:
    problems = template_problems(source, DossierReceived)
    if problem:
        assert any(problem in p for p in problems), problems
    else:
        assert problems == []


def test_templates_run_in_a_sandbox() -> None:
    env = environment("vi")
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ items.append(1) }}").render(items=[])


def test_the_language_falls_back_to_vietnamese_and_dates_are_in_vietnam_time() -> None:
    catalog = load_catalog()
    template = catalog.template("dossier.received", RecipientRole.APPLICANT, Channel.IN_APP)
    payload = sample_payload(DossierReceived)
    vi = render(template, "vi", payload, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert vi.body == "Số biên nhận BNNMT-261127-0001/TN; hẹn trả kết quả 10 giờ 05 phút, ngày 27/11/2026.\n"
    assert render(template, "fr", payload, SAMPLE_DOSSIER, SAMPLE_RECIPIENT).language == "vi"
    en = render(template, "en", payload, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert en.subject == "Dossier BNNMT-261127-0001 received"


def test_the_service_does_not_start_with_a_template_reading_a_missing_field(copy: tuple[Path, Path]) -> None:
    rules, templates = copy
    path = templates / "dossier.refused.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{{ event.reason }}", "{{ event.motive }}"), "utf-8")
    settings = NotifySettings(rules_file=rules, templates_dir=templates)
    with pytest.raises(CatalogError, match=r"DossierRefused schema has no field 'motive'"):
        build_app(ProcessRole.API, settings)


def test_an_extension_the_law_grants_names_its_decision_and_apologises_only_when_the_agency_extends() -> None:
    catalog = load_catalog()
    email = catalog.template("dossier.deadline_extended", RecipientRole.APPLICANT, Channel.EMAIL)
    apology = sample_payload(DossierDeadlineExtended)
    assert isinstance(apology, DossierDeadlineExtended)
    granted = apology.model_copy(update={"granted_by": "Thủ tướng Chính phủ", "decision_number": "1520/QĐ-TTg"})
    said = render(email, "vi", granted, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert "theo Quyết định số 1520/QĐ-TTg của Thủ tướng Chính phủ" in said.body
    assert "xin lỗi" not in (said.subject + said.body).lower()
    assert "Mẫu 04" not in said.body
    sorry = render(email, "vi", apology, SAMPLE_DOSSIER, SAMPLE_RECIPIENT)
    assert sorry.subject.startswith("Thư xin lỗi")
    assert "Mẫu 04" in sorry.body


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("{stage: [meeting_held]}", "dossier.appraisal_recorded has no field 'stage' for its rule's 'when'"),
        ("{step: [meeting]}", "dossier.appraisal_recorded's step is never 'meeting'"),
    ],
)
def test_a_rule_heard_only_when_a_field_has_a_value_names_a_field_and_values_the_event_has(
    copy: tuple[Path, Path], when: str, problem: str
) -> None:
    rules, templates = copy
    text = rules.read_text(encoding="utf-8")
    assert "when: {step: [meeting_held]}" in text
    rules.write_text(text.replace("when: {step: [meeting_held]}", f"when: {when}"), encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(problem)):
        load_catalog(rules, templates)
