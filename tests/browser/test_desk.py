"""The officers' desk in the browser: each officer signed in at Keycloak with their own role and agency, acting on
a dossier through the actions its workflow offers them, with the applicant answering in a browser of their own."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from hoso_dev.walkthrough import Walkthrough
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from hoso.deadlines import VIETNAM
from tests.browser.conftest import Visitor, _visitor
from tests.browser.test_applicant import pdf_file, start_draft
from tests.platform import Platform

Browsers = Callable[[str], Visitor]


@pytest.fixture
def browsers(chromium: Browser, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Browsers]:
    """A browser of its own for each person of the test, by name."""
    opened: list[Iterator[Visitor]] = []

    def open_one(name: str) -> Visitor:
        made = _visitor(chromium, platform, request, name)
        opened.append(made)
        return next(made)

    yield open_one
    for made in opened:
        next(made, None)


def at_desk(visitor: Visitor, username: str, path: str = "/can-bo") -> Page:
    page = visitor.go(path)
    if "/realms/" in page.url:
        visitor.sign_in(username)
    page.wait_for_url(re.compile(re.escape(visitor.base) + re.escape(path.split("?")[0]) + r".*"))
    return page


def open_action(page: Page, label: str) -> None:
    details = page.locator("details.panel", has=page.locator("summary", has_text=re.compile(f"^{re.escape(label)}")))
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def act(page: Page, label: str) -> None:
    open_action(page, label)
    page.locator("details.panel[open] button[type=submit]", has_text=re.compile(f"^{re.escape(label)}")).click()


def form_pdf(visitor: Visitor, code: str, form: str) -> str:
    answer = visitor.page.request.get(f"{visitor.base}/can-bo/ho-so/{code}/bieu-mau/{form}.pdf")
    assert answer.status == 200, answer.text()[:300]
    assert answer.headers["content-type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)


def submit_in_browser(applicant: Visitor, project: str) -> str:
    """The company prepares and submits an EIA dossier in its browser; returns the dossier's code."""
    page = start_draft(applicant)
    page.fill("#f-field-project_name", project)
    page.fill("#f-field-project_location", "Phường Cẩm Phả, tỉnh Quảng Ninh")
    page.fill("#f-field-total_investment_vnd", "85.000.000.000")
    page.select_option("#f-field-project_group", label="Dự án nhóm I (khoản 3 Điều 28)")
    page.select_option("#f-field-project_type", label="Dự án công nghiệp")
    for component, name in (
        ("request_letter", "van-ban-de-nghi.pdf"),
        ("eia_report", "bao-cao-dtm.pdf"),
        ("feasibility_study", "nghien-cuu-kha-thi.pdf"),
    ):
        page.set_input_files(f"#f-file-{component}", pdf_file(name, f"{name} của {project}"))
        expect(page.locator(f"#component-{component} .files")).to_contain_text(name)
    page.click("button:has-text('Lưu và tiếp tục')")
    page.wait_for_url(re.compile(r".*/kiem-tra$"))
    page.click("form[action$='/nop'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/da-nop$"))
    return page.locator(".reference").inner_text().strip()


def test_a_dossier_goes_from_reception_to_result_at_the_desk(browsers: Browsers, desk: Walkthrough) -> None:
    project = f"Nhà máy nhiệt điện Cẩm Phả {uuid.uuid4().hex[:6]}"
    applicant = browsers("applicant")
    code = submit_in_browser(applicant, project)
    desk.wait_review(code, "awaiting_reception")

    # Reception: the dossier waits in the reception queue; found by its code, read whole, received.
    reception = browsers("reception")
    page = at_desk(reception, "tiepnhan.bnnmt")
    expect(page.locator(".tabs li.current")).to_contain_text("Tiếp nhận và trả kết quả")
    expect(page.locator(".desk-table")).to_contain_text(code)
    reception.look("queue-reception")
    page.fill("#f-tim", code)
    page.click("button:has-text('Lọc')")
    expect(page.locator(".desk-table tbody tr")).to_have_count(1)
    expect(page.locator(".desk-table")).to_contain_text("Công ty Cổ phần Xi măng Sông Đà")
    expect(page.locator(".desk-table")).to_contain_text("Chờ tiếp nhận")
    page.click(f"a:has-text('{code}')")
    expect(page.locator("h1")).to_contain_text(code)
    main = page.locator("main")
    expect(main).to_contain_text(project)
    expect(main).to_contain_text("0101234567")  # the company's tax code, as the identity provider vouched for it
    expect(main).to_contain_text("Báo cáo đánh giá tác động môi trường")
    expect(main).to_contain_text("SHA-256")
    expect(main).not_to_contain_text("eia_report")
    reception.look("dossier-at-reception")

    # A document is missing: the reception officer asks for it before receiving (Form 02); no clock yet.
    open_action(page, "Yêu cầu bổ sung hồ sơ (chưa tiếp nhận)")
    page.fill("#f-request_supplement-items", "Bản đồ vị trí dự án tỷ lệ 1:10.000")
    page.fill("#f-request_supplement-reason", "Hồ sơ thiếu bản đồ vị trí")
    reception.look("supplement-form")
    act(page, "Yêu cầu bổ sung hồ sơ (chưa tiếp nhận)")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi yêu cầu bổ sung")
    desk.wait_status(code, 5)

    # The applicant answers it in their browser; the dossier is back in the reception queue.
    page = applicant.go(f"/ho-so/{code}")
    page.select_option("#f-component-0", "eia_report")
    page.set_input_files("#f-item-0", pdf_file("ban-do-vi-tri.pdf", "Bản đồ vị trí dự án"))
    page.click("button:has-text('Gửi hồ sơ bổ sung')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi hồ sơ bổ sung")
    desk.wait_review(code, "awaiting_reception")

    page = reception.go(f"/can-bo/ho-so/{code}")
    expect(page.locator("main")).to_contain_text("ban-do-vi-tri.pdf")
    act(page, "Tiếp nhận hồ sơ")
    expect(page.locator(".notice.success")).to_contain_text("Đã tiếp nhận hồ sơ")
    expect(page.locator(".notice.success .pin")).to_have_text(re.compile(r"^\d{8}$"))
    reception.look("received")
    desk.wait_timeline(code, "dossier.received")
    page.reload()
    expect(page.locator("main")).to_contain_text("Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)")
    receipt = " ".join(form_pdf(reception, code, "01").split())
    assert code in receipt
    assert "Trần Thị Bình Chuyên viên Bộ phận Một cửa" in receipt  # signed by name and position
    # The applicant's address, as the identity provider vouched for it.
    assert "Địa chỉ: Số 5 đường Hòa Bình, phường Hòa Bình, tỉnh Phú Thọ" in receipt

    # The leader assigns a specialist, chosen by name.
    leader = browsers("leader")
    page = at_desk(leader, "lanhdao.bnnmt", "/can-bo?vai=leader")
    expect(page.locator(".desk-table")).to_contain_text(code)
    leader.look("queue-leader")
    page = leader.go(f"/can-bo/ho-so/{code}")
    open_action(page, "Phân công chuyên viên")
    act(page, "Phân công chuyên viên")
    expect(page.locator(".error-summary")).to_contain_text("Chưa có “Chuyên viên được phân công”")
    expect(page.locator("#f-assign-assignee_id-error")).to_be_visible()
    leader.look("assign-refused")
    page.select_option("#f-assign-assignee_id", label="Lê Văn Cường")
    act(page, "Phân công chuyên viên")
    expect(page.locator(".notice.success")).to_contain_text("Đã phân công")
    expect(page.locator("#tom-tat")).to_contain_text("Lê Văn Cường")

    # The leader establishes the appraisal council: six members are too few, the seventh makes it.
    members = desk.council()
    open_action(page, "Thành lập hội đồng thẩm định")
    page.fill("#f-establish_council-decision_number", "88/QĐ-BNNMT")
    for n, member in enumerate(members[:6]):
        page.fill(f"#f-establish_council-members-{n}-name", member["name"])
        page.select_option(f"#f-establish_council-members-{n}-role", member["role"])
        page.fill(f"#f-establish_council-members-{n}-affiliation", member["affiliation"])
        if member.get("account_id"):  # chosen among the council members' accounts of the directory
            page.select_option(f"#f-establish_council-members-{n}-account_id", member["account_id"])
    act(page, "Thành lập hội đồng thẩm định")
    expect(page.locator(".error-summary")).to_contain_text("Hội đồng phải có ít nhất 7 thành viên; mới có 6")
    expect(page.locator("#f-establish_council-members-5-name")).to_have_value(members[5]["name"])
    leader.look("council-too-small")
    page.fill("#f-establish_council-members-6-name", members[6]["name"])
    page.select_option("#f-establish_council-members-6-role", label="Ủy viên")
    act(page, "Thành lập hội đồng thẩm định")
    expect(page.locator(".notice.success")).to_contain_text("Đã ghi quyết định thành lập hội đồng")
    council = page.locator("#hoi-dong")
    expect(council).to_contain_text("Quyết định số 88/QĐ-BNNMT")
    expect(council).to_contain_text("Ủy viên phản biện")
    leader.look("council-established")

    # A council member reviews through their own account at the desk: their councils' dossiers, the report to read,
    # their review; not the agency's record, forms or messages.
    member = browsers("council")
    page = at_desk(member, "hoidong.bnnmt")
    expect(page.locator("h1")).to_have_text("Hồ sơ của hội đồng thẩm định")
    expect(page.locator("nav.main-nav")).not_to_contain_text("Thống kê")
    expect(page.locator("nav.main-nav")).to_contain_text("Hội đồng thẩm định")
    member.look("councils")
    page.click(f".council-queue a:has-text('{code}')")
    page.wait_for_url(re.compile(rf".*/can-bo/ho-so/{code}$"))
    expect(page.locator("#hoi-dong")).to_contain_text("Quyết định số 88/QĐ-BNNMT")
    report = page.locator("a:has-text('bao-cao-dtm.pdf')").first
    download = page.request.get(member.base + (report.get_attribute("href") or ""))
    assert download.status == 200
    assert download.body().startswith(b"%PDF")
    expect(page.locator("#trao-doi")).to_have_count(0)  # the messages are the applicant's and the agency's
    expect(page.locator("main")).not_to_contain_text("Giấy tờ của cơ quan")
    expect(page.locator("main")).not_to_contain_text("congty.demo@example.vn")
    open_action(page, "Gửi bản nhận xét")
    act(page, "Gửi bản nhận xét")
    expect(page.locator(".error-summary")).to_be_visible()  # the opinion and the review are required
    page.select_option("#f-submit_review-conclusion", label="Thông qua với điều kiện chỉnh sửa, bổ sung")
    page.fill("#f-submit_review-reason", "Cần tính lại tải lượng bụi ở chương 3")
    act(page, "Gửi bản nhận xét")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi bản nhận xét")
    expect(page.locator("#hoi-dong")).to_contain_text("Cần tính lại tải lượng bụi ở chương 3")
    member.look("review-submitted")
    # The agency's forms are not theirs.
    assert member.page.request.get(f"{member.base}/can-bo/ho-so/{code}/bieu-mau/01.pdf").status in (403, 404)

    # The specialist records the meeting and its conclusion.
    specialist = browsers("specialist")
    page = at_desk(specialist, "chuyenvien.bnnmt", "/can-bo?vai=specialist")
    expect(page.locator(".desk-table")).to_contain_text(code)
    page = specialist.go(f"/can-bo/ho-so/{code}")
    expect(page.locator("#hoi-dong")).to_contain_text(f"{desk.council_member.name} (Ủy viên phản biện)")
    # The views asked of the agencies concerned, kept with the council.
    consult = "Ghi nhận ý kiến của cơ quan, tổ chức, chuyên gia được lấy ý kiến"
    open_action(page, consult)
    page.fill("#f-record_consultation-reason", "Sở Xây dựng Phú Thọ: thống nhất vị trí bãi thải")
    act(page, consult)
    expect(page.locator(".notice.success")).to_contain_text("Đã ghi nhận ý kiến được lấy")
    expect(page.locator("#hoi-dong")).to_contain_text("Sở Xây dựng Phú Thọ: thống nhất vị trí bãi thải")
    specialist.look("consultation-recorded")
    open_action(page, "Ghi nhận phiên họp và kết luận của hội đồng")
    page.select_option("#f-record_meeting-conclusion", label="Thông qua với điều kiện chỉnh sửa, bổ sung")
    page.fill("#f-record_meeting-reason", "7/7 thành viên có mặt; thông qua với điều kiện chỉnh sửa chương 3")
    page.check("#f-record_meeting-confirm")
    act(page, "Ghi nhận phiên họp và kết luận của hội đồng")
    expect(page.locator("#council-conclusion")).to_contain_text("Thông qua với điều kiện chỉnh sửa, bổ sung")

    # The specialist asks for the revision; the clock stops while the owner revises.
    open_action(page, "Thông báo chỉnh sửa, bổ sung báo cáo")
    page.fill("#f-request_revision-items", "Chương 3: tính lại tải lượng bụi")
    page.fill("#f-request_revision-reason", "Theo kết luận của hội đồng thẩm định")
    act(page, "Thông báo chỉnh sửa, bổ sung báo cáo")
    expect(page.locator(".notice.success")).to_contain_text("Đã thông báo chủ dự án chỉnh sửa")
    # The desk says whom the agency waits for, not the applicant's "waiting for you".
    expect(page.locator("#tom-tat .clock")).to_contain_text("chờ chủ dự án nộp báo cáo đã chỉnh sửa, bổ sung")
    expect(page.locator("#tom-tat .clock")).not_to_contain_text("chờ bạn")
    specialist.look("revision-asked")
    desk.wait_status(code, 5)
    desk.send_revised_report(code)
    desk.wait_review(code, "revised")

    # The specialist proposes approval.
    page = specialist.go(f"/can-bo/ho-so/{code}")
    expect(page.locator("main")).to_contain_text("bao-cao-dtm-chinh-sua.docx")
    expect(page.locator("h3", has_text="Báo cáo đã chỉnh sửa, bổ sung, nộp lúc")).to_have_count(1)
    expect(page.locator(".timeline")).to_contain_text("Chủ dự án nộp báo cáo đã chỉnh sửa, bổ sung")
    open_action(page, "Trình lãnh đạo")
    page.select_option("#f-propose_decision-proposal", label="Đề nghị phê duyệt")
    page.fill("#f-propose_decision-reason", "Báo cáo đạt yêu cầu sau khi chỉnh sửa")
    act(page, "Trình lãnh đạo")
    expect(page.locator(".notice.success")).to_contain_text("Đã trình lãnh đạo")

    # Only the Prime Minister's decision extends an EIA appraisal (Law 72/2020 Art. 34(6)(d)): the leader records it,
    # with no apology (no Form 04); then approves after confirming.
    page = leader.go(f"/can-bo/ho-so/{code}")
    expect(page.locator("main")).to_contain_text("Đề nghị phê duyệt")
    current_due = datetime.fromisoformat(desk.review_view(code)["due_at"])  # type: ignore[index]
    new_due = (current_due + timedelta(days=10)).astimezone(VIETNAM).replace(hour=16, minute=30, tzinfo=None)
    extend = "Gia hạn thời hạn thẩm định theo quyết định của Thủ tướng Chính phủ"
    open_action(page, extend)
    expect(page.locator("#action-extend_deadline")).to_contain_text("Chỉ Thủ tướng Chính phủ được kéo dài thời hạn")
    page.fill("#f-extend_deadline-reason", "Cần thêm thời gian lấy ý kiến cơ quan liên quan")
    page.fill("#f-extend_deadline-new_due_at", new_due.strftime("%Y-%m-%dT%H:%M"))
    page.check("#f-extend_deadline-confirm")
    act(page, extend)
    expect(page.locator("#f-extend_deadline-decision_number-error")).to_be_visible()
    expect(page.locator(".error-summary a[href='#f-extend_deadline-decision_number']")).to_be_visible()
    expect(page.locator("label[for='f-extend_deadline-decision_number']")).to_contain_text("Số quyết định gia hạn")
    leader.look("extension-needs-decision")
    page.fill("#f-extend_deadline-decision_number", "1520/QĐ-TTg")
    page.check("#f-extend_deadline-confirm")
    act(page, extend)
    expect(page.locator(".notice.success")).to_contain_text("Đã ghi nhận quyết định gia hạn")
    expect(page.locator("#tom-tat")).to_contain_text(new_due.strftime("%d/%m/%Y"))
    desk.wait_timeline(code, "dossier.deadline_extended")
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("Gia hạn thời hạn theo quyết định của cơ quan có thẩm quyền")
    expect(page.locator(".timeline")).to_contain_text("1520/QĐ-TTg")
    expect(page.locator("#tom-tat")).to_contain_text("theo Quyết định số 1520/QĐ-TTg của Thủ tướng Chính phủ")
    expect(page.locator("main")).not_to_contain_text("Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)")
    leader.look("extended-by-decision")
    open_action(page, "Phê duyệt kết quả thẩm định")
    page.fill("#f-approve-decision_number", "123/QĐ-BNNMT")
    act(page, "Phê duyệt kết quả thẩm định")
    expect(page.locator("#f-approve-confirm-error")).to_contain_text("Đánh dấu ô xác nhận")
    expect(page.locator("#f-approve-decision_number")).to_have_value("123/QĐ-BNNMT")
    leader.look("approve-needs-confirmation")
    page.check("#f-approve-confirm")
    act(page, "Phê duyệt kết quả thẩm định")
    expect(page.locator(".notice.success")).to_contain_text("Đã phê duyệt")
    leader.look("approved")

    # Reception returns the result; the history names who did what.
    page = reception.go(f"/can-bo/ho-so/{code}")
    open_action(page, "Trả kết quả")
    page.check("#f-return_result-confirm")
    act(page, "Trả kết quả")
    expect(page.locator(".notice.success")).to_contain_text("Đã trả kết quả")
    history = page.locator(".timeline")
    for step in ("Yêu cầu bổ sung", "Người nộp bổ sung hồ sơ", "Tiếp nhận hồ sơ", "Phân công chuyên viên",
                 "Thành lập hội đồng thẩm định", "Bản nhận xét của thành viên hội đồng",
                 "Lấy ý kiến cơ quan, tổ chức, chuyên gia", "Họp hội đồng thẩm định",
                 "Thông báo chỉnh sửa, bổ sung báo cáo", "Trình lãnh đạo",
                 "Gia hạn thời hạn theo quyết định của cơ quan có thẩm quyền", "Phê duyệt",
                 "Trả kết quả"):  # fmt: skip
        expect(history).to_contain_text(step)
    expect(history).to_contain_text("Trần Thị Bình")
    expect(history).to_contain_text("Lê Văn Cường")
    expect(page.locator("main")).to_contain_text("Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05)")
    reception.look("result-returned")
    desk.wait_status(code, 10)
    desk.wait_timeline(code, "dossier.result_returned")
    control = " ".join(form_pdf(reception, code, "05").split())
    for actor in (
        "Trần Thị Bình, Chuyên viên Bộ phận Một cửa",
        "Chuyên viên: Lê Văn Cường",
        "Đã nhận hồ sơ bổ sung",
        "Thành lập hội đồng thẩm định",
        "Họp hội đồng thẩm định",
        "Thông báo chỉnh sửa, bổ sung báo cáo",
    ):
        assert actor in control, actor

    # The applicant reads the result and rates the service (a choice is needed; a rating is given once).
    page = applicant.go(f"/ho-so/{code}")
    expect(page.locator(".result")).to_contain_text("123/QĐ-BNNMT")
    page.click("button:has-text('Gửi đánh giá')")
    expect(page.locator("#f-score-error")).to_contain_text("Chọn một mức hài lòng")
    page.check("input[name=score][value='4']")
    page.fill("#f-comment", "Cán bộ hướng dẫn rõ ràng")
    page.click("button:has-text('Gửi đánh giá')")
    expect(page.locator("#danh-gia")).to_contain_text("Cảm ơn bạn đã đánh giá")
    expect(page.locator("#danh-gia")).to_contain_text("Hài lòng (4/5)")
    applicant.look("rated")

    # The leader's dashboard counts it, with the same figures as the records API for the same query.
    today = datetime.now(VIETNAM).date().isoformat()
    page = leader.go(f"/can-bo/thong-ke?tu={today}&den={today}&thu_tuc=MT-DTM-BO")
    api = desk.call(
        "GET", "/api/v1/records/stats", desk.leader, params={"from": today, "to": today, "procedure": "MT-DTM-BO"}
    )["total"]
    total = page.locator(".stats-table tfoot tr")
    for column in ("carried_over", "received", "received_online", "to_process", "resolved_early", "resolved_on_time",
                   "resolved_late", "ratings"):  # fmt: skip
        expect(total.locator(f"td[data-column={column}]")).to_have_text(str(api[column]))
    expect(page.locator("#stats-method")).to_contain_text("trạng thái 9")
    # Decision 766's indices Hoso computes, each with its formula and the API's value.
    indices = page.locator(".indices-table")
    for index in ("on_time_rate", "online_rate", "digitised_rate"):
        shown = indices.locator(f"tr[data-index={index}] td[data-column=value]")
        expect(shown).to_have_text(re.compile(r"^\d+(,\d)?%$"))
        if api[index] == 1.0:
            expect(shown).to_have_text("100%")
    expect(indices).to_contain_text("Tiếp nhận trực tuyến / Tiếp nhận")
    expect(indices.locator("tr[data-index=transparency]")).to_contain_text("Không tính trên hệ thống")
    assert api["ratings"] >= 1
    assert api["resolved_early"] + api["resolved_on_time"] + api["resolved_late"] >= 1
    charts = page.locator("figure.chart img")
    assert charts.count() >= 2
    assert all((charts.nth(i).get_attribute("src") or "").startswith("data:image/svg+xml") for i in range(2))
    leader.look("dashboard")
    for kind, starts in (("csv", b"agency_code,procedure_code"), ("xlsx", b"PK")):
        export = page.request.get(f"{leader.base}/can-bo/thong-ke.{kind}?tu={today}&den={today}&thu_tuc=MT-DTM-BO")
        assert export.status == 200
        assert export.body().startswith(starts)
    # The months of the charts as CSV: this month's total is the period's (a period of one day).
    by_month = page.request.get(
        f"{leader.base}/can-bo/thong-ke.csv?tu={today}&den={today}&thu_tuc=MT-DTM-BO&theo=thang"
    )
    assert by_month.status == 200
    [month] = list(csv.DictReader(io.StringIO(by_month.text())))
    assert (month["month"], month["period_from"], int(month["received"])) == (today[:7], today, api["received"])
    page = leader.go(f"/can-bo/thong-ke?tu={today}&den=2020-01-01")
    expect(page.locator("#f-den-error")).to_contain_text("sau ngày bắt đầu")

    # The public performance page shows the procedure's figures without signing in.
    public = browsers("public")
    page = public.go("/hieu-qua")
    row = page.locator("tr[data-procedure='MT-DTM-BO']")
    expect(row.locator("td[data-column=rating_average]")).to_contain_text("/5")
    expect(row.locator("td[data-column=median_working_days]")).to_contain_text("ngày làm việc")
    public.look("performance")


def test_two_officers_acting_at_once_the_second_is_told_it_changed(browsers: Browsers, desk: Walkthrough) -> None:
    code = desk.submit_eia(f"Cảng biển Lạch Huyện {uuid.uuid4().hex[:6]}")
    desk.wait_review(code, "awaiting_reception")
    desk.act(desk.reception, code, "receive")
    leader = browsers("leader")
    first = at_desk(leader, "lanhdao.bnnmt", f"/can-bo/ho-so/{code}")
    second = leader.context.new_page()
    second.goto(f"{leader.base}/can-bo/ho-so/{code}")
    for page in (first, second):
        open_action(page, "Phân công chuyên viên")
        page.select_option("#f-assign-assignee_id", label="Lê Văn Cường")
    act(first, "Phân công chuyên viên")
    expect(first.locator(".notice.success")).to_contain_text("Đã phân công")
    # The second tab still shows the dossier as it was: its action is refused, and the fresh state is shown.
    act(second, "Phân công chuyên viên")
    expect(second.locator("#da-thay-doi")).to_contain_text("cán bộ khác thay đổi")
    expect(second.locator("#tom-tat")).to_contain_text("Lê Văn Cường")
    leader.page = second
    leader.look("changed-meanwhile")
    assigned = [h for h in desk.review_view(code)["history"] if h["name"] == "assign"]  # type: ignore[index]
    assert len(assigned) == 1


def test_an_officer_of_another_agency_sees_none_of_it_and_an_applicant_has_no_desk(
    browsers: Browsers, desk: Walkthrough
) -> None:
    code = desk.submit_eia(f"Khu đô thị Tây Hồ {uuid.uuid4().hex[:6]}")
    desk.wait_review(code, "awaiting_reception")
    other = browsers("hanoi")
    page = at_desk(other, "tiepnhan.hn")
    expect(page.locator(".tabs")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(code)
    page.fill("#f-tim", code)
    page.click("button:has-text('Lọc')")
    expect(page.locator("main")).to_contain_text("Không có hồ sơ nào")
    other.look("queue-other-agency")
    answer = page.goto(f"{other.base}/can-bo/ho-so/{code}")
    assert answer is not None
    assert answer.status == 404
    assert page.request.get(f"{other.base}/can-bo/ho-so/{code}/bieu-mau/05.pdf").status == 404

    applicant = browsers("applicant")
    page = applicant.go("/can-bo")
    applicant.sign_in("congty.demo")
    expect(page.locator("main")).to_contain_text("dành cho cán bộ")
    applicant.look("desk-refused-to-applicant")
    assert page.request.get(f"{applicant.base}/can-bo").status == 403


def test_a_paper_dossier_sent_by_post_is_registered_at_the_desk_and_follows_the_same_path(
    browsers: Browsers, desk: Walkthrough
) -> None:
    project = f"Trại chăn nuôi Hòa Bình {uuid.uuid4().hex[:6]}"
    today = datetime.now(VIETNAM).date().isoformat()
    before = desk.call("GET", "/api/v1/records/stats", desk.leader, params={"from": today, "to": today})["total"]
    reception = browsers("reception")
    page = at_desk(reception, "tiepnhan.bnnmt")
    page.click("a:has-text('Tiếp nhận hồ sơ giấy')")
    page.select_option("#f-thu_tuc", "MT-DTM-BO")
    page.click("button:has-text('Tiếp tục')")
    reception.look("register-form")
    # Wrong and missing details are named beside their fields; what was typed and scanned is kept.
    page.check("input[name=channel][value=post]")
    page.fill("#f-applicant-name", "Nguyễn Văn Bình")
    page.fill("#f-applicant-personal_id", "12345")
    page.fill("#f-applicant-address", "Xóm")
    page.fill("#f-field-project_name", project)
    page.fill("#f-field-project_location", "Xã Lạc Thủy, tỉnh Phú Thọ")
    page.fill("#f-field-total_investment_vnd", "40.000.000.000")
    page.select_option("#f-field-project_group", label="Dự án nhóm I (khoản 3 Điều 28)")
    page.select_option("#f-field-project_type", label="Dự án công nghiệp")
    page.set_input_files("#f-file-request_letter", pdf_file("don-de-nghi-scan.pdf", "Văn bản đề nghị (bản quét)"))
    page.click("button:has-text('Đăng ký hồ sơ')")
    expect(page.locator("#f-applicant-personal_id-error")).to_contain_text("12 chữ số")
    expect(page.locator(".error-summary")).to_contain_text("12 chữ số")
    expect(page.locator("#f-applicant-address-error")).to_contain_text("ít nhất 5 ký tự")
    expect(page.locator("#component-request_letter")).to_contain_text("don-de-nghi-scan.pdf")
    expect(page.locator("#f-field-project_name")).to_have_value(project)
    reception.look("register-refused")
    page.fill("#f-applicant-personal_id", "001085099887")
    page.fill("#f-applicant-address", "Thôn Đồng Tâm, xã Lạc Thủy, tỉnh Phú Thọ")
    page.click("button:has-text('Đăng ký hồ sơ')")
    # The report and the study are required: intake names them, and the letter sent before is still kept.
    expect(page.locator("#component-eia_report .field-error")).to_be_visible()
    expect(page.locator("#component-request_letter")).to_contain_text("don-de-nghi-scan.pdf")
    page.set_input_files("#f-file-eia_report", pdf_file("bao-cao-dtm-scan.pdf", "Báo cáo ĐTM (bản quét)"))
    page.set_input_files("#f-file-feasibility_study", pdf_file("nckt-scan.pdf", "Nghiên cứu khả thi (bản quét)"))
    page.click("button:has-text('Đăng ký hồ sơ')")
    # Until review has opened it (a moment), the page says so and looks again by itself.
    expect(page.locator(".notice.success")).to_contain_text("Đã đăng ký hồ sơ", timeout=30_000)
    code = page.locator("h1").inner_text().split()[-1]
    expect(page.locator("#tom-tat")).to_contain_text("Qua dịch vụ bưu chính")
    expect(page.locator("main")).to_contain_text("001085099887")
    expect(page.locator("main")).to_contain_text("Thôn Đồng Tâm, xã Lạc Thủy, tỉnh Phú Thọ")
    reception.look("registered")
    act(page, "Tiếp nhận hồ sơ")
    expect(page.locator(".notice.success .pin")).to_have_text(re.compile(r"^\d{8}$"))
    desk.wait_timeline(code, "dossier.received")
    registered = " ".join(form_pdf(reception, code, "01").split())
    assert "Qua dịch vụ bưu chính" in registered
    assert "Địa chỉ: Thôn Đồng Tâm, xã Lạc Thủy, tỉnh Phú Thọ" in registered

    # On the queue it is shown with how it came, and the channel filter finds it.
    page = reception.go("/can-bo?vai=leader&kenh=post")
    expect(page.locator(".desk-table")).to_contain_text(code)
    expect(page.locator(".desk-table")).to_contain_text("Qua dịch vụ bưu chính")
    page = reception.go(f"/can-bo?vai=leader&kenh=online&tim={code}")
    expect(page.locator("main")).to_contain_text("Không có hồ sơ nào")

    # The same path as an online dossier, to the result.
    desk.act(desk.leader, code, "assign", assignee_id=desk.specialist.subject)
    desk.through_council(code, conclusion="approve")
    desk.act(desk.specialist, code, "propose_decision", proposal="approve", reason="Đạt yêu cầu")
    desk.act(desk.leader, code, "approve", decision_number="45/QĐ-BNNMT")
    page = reception.go(f"/can-bo/ho-so/{code}")
    act(page, "Trả kết quả")
    expect(page.locator("#f-return_result-confirm-error")).to_be_visible()
    page.check("#f-return_result-confirm")
    act(page, "Trả kết quả")
    expect(page.locator(".notice.success")).to_contain_text("Đã trả kết quả")
    desk.wait_timeline(code, "dossier.result_returned")
    after = desk.call("GET", "/api/v1/records/stats", desk.leader, params={"from": today, "to": today})["total"]
    assert after["received_post"] == before["received_post"] + 1
    assert after["received"] == before["received"] + 1


def test_a_message_each_way_shows_as_read_on_the_other_side(browsers: Browsers, desk: Walkthrough) -> None:
    code = desk.submit_eia(f"Nhà máy nước Sông Hồng {uuid.uuid4().hex[:6]}")
    desk.wait_review(code, "awaiting_reception")
    applicant = browsers("applicant")
    page = applicant.go(f"/ho-so/{code}")
    applicant.sign_in("congty.demo")
    page.wait_for_url(re.compile(rf".*/ho-so/{code}$"))
    page.click("button:has-text('Gửi tin nhắn')")
    expect(page.locator("#f-message-error")).to_contain_text("Nhập nội dung tin nhắn")
    page.fill("#f-message", "Xin hỏi thời gian tham vấn cộng đồng?")
    page.set_input_files("#f-message_files", pdf_file("cau-hoi.pdf", "Câu hỏi về tham vấn"))
    page.click("button:has-text('Gửi tin nhắn')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi tin nhắn")
    mine = page.locator(".message.mine")
    expect(mine).to_contain_text("Xin hỏi thời gian tham vấn cộng đồng?")
    expect(mine.locator(".read-receipt")).to_have_text("Chưa xem")
    applicant.look("message-sent")

    officer = browsers("specialist")
    page = at_desk(officer, "chuyenvien.bnnmt", f"/can-bo/ho-so/{code}")
    theirs = page.locator(".message.from-applicant")
    expect(theirs).to_contain_text("Xin hỏi thời gian tham vấn cộng đồng?")
    expect(theirs).to_contain_text("cau-hoi.pdf")
    download = page.request.get(officer.base + (theirs.locator("a").first.get_attribute("href") or ""))
    assert download.status == 200
    assert download.body().startswith(b"%PDF")
    page.fill("#f-message", "Tham vấn trong 15 ngày kể từ khi đăng tải.")
    page.click("button:has-text('Gửi tin nhắn')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi tin nhắn cho người nộp")
    officer.look("message-answered")

    # Back on the applicant's page: their message was read by the agency, and the answer is there.
    page = applicant.go(f"/ho-so/{code}")
    expect(page.locator(".message.mine .read-receipt")).to_contain_text("Đã xem lúc")
    expect(page.locator(".message.from-agency")).to_contain_text("Tham vấn trong 15 ngày")
    applicant.look("message-read")
    # And the agency sees that the applicant read its answer.
    page = officer.go(f"/can-bo/ho-so/{code}")
    expect(page.locator(".message.mine .read-receipt")).to_contain_text("Đã xem lúc")
    timeline = desk.wait_timeline(code, "dossier.message_read")
    assert sum(e["event_type"] == "vn.gov.hoso.dossier.message_sent.v1" for e in timeline) == 2
