"""An applicant's journeys in the browser: sign in at Keycloak, prepare a draft, come back, submit, follow the
dossier, answer a supplement request, withdraw, read the inbox; an expired session loses nothing typed."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hoso_dev.walkthrough import DOCX, PDF, Walkthrough, docx_bytes, pdf_bytes
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from intake.domain.payment import sign
from tests.browser.conftest import Visitor
from tests.platform import PAYMENT_SECRET


def pdf_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": PDF, "buffer": pdf_bytes(text)}


def my_dossier_count(desk: Walkthrough) -> int:
    answer: dict[str, Any] = desk.call("GET", "/api/v1/dossiers", desk.applicant, params={"limit": 1})
    return int(answer["total"])


def start_draft(visitor: Visitor) -> Page:
    page = visitor.go("/thu-tuc/MT-DTM-BO")
    page.click("button:has-text('Nộp hồ sơ trực tuyến')")
    if "/realms/" in page.url:
        visitor.sign_in("congty.demo")
        page.click("button:has-text('Nộp hồ sơ trực tuyến')")
    page.wait_for_url(re.compile(r".*/ban-nhap/[0-9a-f]{32}$"))
    return page


PERCENTS_SEEN = """() => {
    window.percentsSeen = [];
    const observer = new MutationObserver(() => {
        for (const e of document.querySelectorAll(".upload-percent")) {
            if (e.textContent) { window.percentsSeen.push(e.textContent); }
        }
    });
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def uploads_sent_at_once(visitor: Visitor, project: str) -> None:
    """With JavaScript a file is sent as soon as it is chosen, with its progress, and intake's rules apply to it
    there and then: the refusal is shown beside the component, the rest of the form is left as typed."""
    page = visitor.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/tep/" in r.url else None)
    page.evaluate(PERCENTS_SEEN)
    # Larger than the request letter's 20 MB: refused in the browser, nothing is sent.
    page.set_input_files(
        "#f-file-request_letter", {"name": "qua-lon.pdf", "mimeType": PDF, "buffer": b"%PDF-1.7" + b"0" * 21 * 2**20}
    )
    expect(page.locator("#component-request_letter .field-error")).to_contain_text("qua-lon.pdf")
    expect(page.locator("#component-request_letter .field-error")).to_contain_text("20 MB")
    assert sent == []
    # Not documents: sent together, and each refused by intake with its reason, beside the field.
    page.set_input_files(
        "#f-file-eia_report",
        [
            {"name": "ghi-chu.txt", "mimeType": "text/plain", "buffer": b"notes"},
            {"name": "danh-sach.txt", "mimeType": "text/plain", "buffer": b"list"},
        ],
    )
    expect(page.locator("#f-file-eia_report-error")).to_contain_text("ghi-chu.txt")
    expect(page.locator("#f-file-eia_report-error")).to_contain_text("danh-sach.txt")
    assert len(sent) == 1
    visitor.look("upload-refused-at-once")
    # A report: sent at once, its progress shown, and listed with its size and digest before the form is saved.
    page.set_input_files("#f-file-eia_report", {"name": "bao-cao-dtm.docx", "mimeType": DOCX, "buffer": docx_bytes()})
    expect(page.locator("#component-eia_report .files")).to_contain_text("bao-cao-dtm.docx")
    expect(page.locator("#component-eia_report .field-added")).to_contain_text("bao-cao-dtm.docx")
    expect(page.locator("#component-eia_report .field-error")).to_have_count(0)
    assert "100%" in page.evaluate("window.percentsSeen")
    expect(page.locator("#f-field-project_name")).to_have_value(project)
    expect(page.locator("#f-field-total_investment_vnd")).to_have_value("một trăm hai mươi tỷ")
    visitor.look("upload-added-at-once")


def test_a_company_saves_a_draft_signs_out_comes_back_and_submits_it(visitor: Visitor, desk: Walkthrough) -> None:
    project = f"Nhà máy xi măng Sông Đà {uuid.uuid4().hex[:6]}"
    before = my_dossier_count(desk)
    page = start_draft(visitor)
    draft_path = page.url.removeprefix(visitor.base)
    visitor.look("draft-new")
    page.fill("#f-field-project_name", project)
    page.click("button:has-text('Lưu nháp')")
    expect(page.locator(".notice.success")).to_contain_text("Đã lưu bản nháp")
    visitor.look("draft-saved")
    page.reload()
    expect(page.locator(".notice.success")).to_have_count(0)

    page.click("button:has-text('Đăng xuất')")
    page.wait_for_url(visitor.base + "/")
    # Signing out ended the provider's session too: the dossiers ask for the password again.
    visitor.go("/ho-so")
    visitor.sign_in("congty.demo")
    page.wait_for_url(re.compile(r".*/ho-so$"))
    expect(page.locator(".draft-list")).to_contain_text("Thẩm định báo cáo đánh giá tác động môi trường")
    visitor.look("my-dossiers-with-draft")
    page.click(f"a[href='{draft_path}']")
    expect(page.locator("#f-field-project_name")).to_have_value(project)

    page.fill("#f-field-total_investment_vnd", "một trăm hai mươi tỷ")
    uploads_sent_at_once(visitor, project)
    page.click("button:has-text('Lưu và tiếp tục')")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Nhập một số nguyên")
    expect(page.locator("#f-field-total_investment_vnd-error")).to_contain_text("Nhập một số nguyên")
    # Nothing typed is lost when a request is refused.
    expect(page.locator("#f-field-total_investment_vnd")).to_have_value("một trăm hai mươi tỷ")
    expect(page.locator("#f-field-project_name")).to_have_value(project)
    visitor.look("draft-refused")

    page.fill("#f-field-total_investment_vnd", "120.000.000.000")
    page.fill("#f-field-project_location", "Xã Tân Lập, tỉnh Phú Thọ")
    page.select_option("#f-field-project_group", label="Dự án nhóm I (khoản 3 Điều 28)")
    page.select_option("#f-field-project_type", label="Dự án công nghiệp")
    page.set_input_files("#f-file-request_letter", pdf_file("van-ban-de-nghi.pdf", "Văn bản đề nghị thẩm định"))
    page.set_input_files("#f-file-feasibility_study", pdf_file("nghien-cuu-kha-thi.pdf", "Báo cáo khả thi"))
    page.click("button:has-text('Lưu và tiếp tục')")
    page.wait_for_url(re.compile(r".*/kiem-tra$"))
    expect(page.locator("main")).to_contain_text(project)
    expect(page.locator("main")).to_contain_text("bao-cao-dtm.docx")
    expect(page.locator("main")).to_contain_text("47.000.000 đồng")  # 120 billion: the 100-200 billion tier
    expect(page.locator("main")).to_contain_text("Dự án công nghiệp")
    visitor.look("check-answers")

    # Two submissions of the same draft at once (a double click without JavaScript) make one dossier.
    outcomes = page.evaluate(
        """async () => {
            const form = document.querySelector("form[action$='/nop']");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)}).then(r => r.url);
            return Promise.all([send(), send()]);
        }"""
    )
    codes = {m.group(1) for url in outcomes if (m := re.search(r"/ho-so/([^/]+)/da-nop", url))}
    assert len(codes) >= 1, outcomes
    assert my_dossier_count(desk) == before + 1
    code = codes.pop()
    visitor.go(f"/ho-so/{code}/da-nop")
    expect(page.locator(".reference")).to_have_text(code)
    visitor.look("confirmation")
    page.click("a:has-text('Theo dõi hồ sơ')")
    expect(page.locator("h1")).to_contain_text(code)
    expect(page.locator(".summary-list")).to_contain_text("Thời hạn bắt đầu tính khi cơ quan tiếp nhận hồ sơ")
    visitor.look("dossier-submitted")
    visitor.go("/ho-so")
    expect(page.locator(".dossier-table")).to_contain_text(code)
    expect(page.locator(".draft-list")).to_have_count(0)


def received_dossier(desk: Walkthrough, project: str) -> tuple[str, dict[str, Any]]:
    code = desk.submit_eia(project)
    desk.wait_review(code, "awaiting_reception")
    received = desk.act(desk.reception, code, "receive")
    desk.wait_status(code, 2)
    return code, received


def test_the_company_answers_a_supplement_request_item_by_item(visitor: Visitor, desk: Walkthrough) -> None:
    code = desk.submit_eia(f"Khu công nghiệp Bắc Sơn {uuid.uuid4().hex[:6]}")
    desk.wait_review(code, "awaiting_reception")
    # The reception officer finds the dossier incomplete before receiving it.
    desk.act(
        desk.reception,
        code,
        "request_supplement",
        items=["Bản đồ vị trí dự án tỷ lệ 1:10.000", "Báo cáo đánh giá tác động môi trường đã chỉnh sửa"],
        reason="Hồ sơ thiếu bản đồ vị trí",
    )
    desk.wait_status(code, 5)

    page = visitor.go(f"/ho-so/{code}")
    visitor.sign_in("congty.demo")
    panel = page.locator("#supplement")
    expect(panel).to_contain_text("Hồ sơ thiếu bản đồ vị trí")
    expect(panel).to_contain_text("Bản đồ vị trí dự án tỷ lệ 1:10.000")
    # Not received yet: the clock starts from the complete dossier.
    expect(page.locator(".clock")).to_contain_text("Thời hạn bắt đầu tính khi cơ quan tiếp nhận hồ sơ")
    expect(page.locator("main")).to_contain_text("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)")
    # The second item names the report: the component it belongs to is chosen for the applicant.
    expect(page.locator("#f-component-1")).to_have_value("eia_report")
    visitor.look("supplement-requested")

    page.click("button:has-text('Gửi hồ sơ bổ sung')")
    expect(page.locator(".error-summary")).to_contain_text("Chọn ít nhất một tệp")
    visitor.look("supplement-refused")

    # A file for the map, but no part of the dossier chosen for it: refused, and the file is kept.
    expect(page.locator("#f-component-0")).to_have_value("")
    page.set_input_files("#f-item-0", pdf_file("ban-do-vi-tri.pdf", "Bản đồ vị trí dự án tỷ lệ 1:10.000"))
    page.fill("#f-note", "Gửi bản đồ vị trí")
    page.click("button:has-text('Gửi hồ sơ bổ sung')")
    expect(page.locator("#f-component-0-error")).to_contain_text("Chọn thành phần hồ sơ")
    expect(page.locator("#supplement")).to_contain_text("Đã tải lên: ban-do-vi-tri.pdf")
    expect(page.locator("#f-note")).to_have_value("Gửi bản đồ vị trí")
    visitor.look("supplement-component-missing")
    page.select_option("#f-component-0", "eia_report")
    page.set_input_files("#f-item-1", pdf_file("bao-cao-sua.pdf", "Báo cáo đã chỉnh sửa"))
    page.click("button:has-text('Gửi hồ sơ bổ sung')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi hồ sơ bổ sung")
    expect(page.locator("h3:has-text('Hồ sơ bổ sung, nộp lúc') + ul.files")).to_contain_text("bao-cao-sua.pdf")
    assert "da=" not in page.url  # told once, from the session, not from the address
    visitor.look("supplement-sent")
    page.reload()
    expect(page.locator(".notice.success")).to_have_count(0)  # a reload does not say it again
    desk.wait_review(code, "awaiting_reception")  # back in the reception queue, complete
    desk.wait_status(code, 1)


def test_public_tracking_with_the_receipt_pin_and_withdrawal(
    visitor: Visitor, passer_by: Visitor, desk: Walkthrough
) -> None:
    code, received = received_dossier(desk, f"Cảng cạn Hòa Bình {uuid.uuid4().hex[:6]}")
    page = visitor.go(f"/ho-so/{code}")
    visitor.sign_in("congty.demo")
    expect(page.locator("main")).to_contain_text("Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)")
    visitor.look("dossier-received")
    receipt = page.request.get(f"{visitor.base}/ho-so/{code}/bieu-mau/01.pdf")
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.body())).pages)
    assert code in text
    # The PIN of the receipt, as the applicant reads it on their dossier's page.
    pin = page.locator(".pin").inner_text()
    assert pin == str(received["tracking_pin"])

    tracking = passer_by.go("/tra-cuu")
    passer_by.look("tracking")
    tracking.fill("#f-code", code)
    tracking.fill("#f-pin", "00000000" if pin != "00000000" else "11111111")
    tracking.click("button:has-text('Tra cứu')")
    not_found = tracking.locator(".error-summary")
    expect(not_found).to_contain_text("Không tìm thấy hồ sơ")
    passer_by.look("tracking-wrong-pin")
    tracking.fill("#f-code", code[:-4] + ("9999" if not code.endswith("9999") else "9998"))
    tracking.fill("#f-pin", pin)
    tracking.click("button:has-text('Tra cứu')")
    expect(tracking.locator(".error-summary")).to_have_text(not_found.inner_text())
    tracking.fill("#f-code", code)
    tracking.fill("#f-pin", pin)
    tracking.click("button:has-text('Tra cứu')")
    result = tracking.locator(".panel")
    expect(result).to_contain_text("Đã tiếp nhận")
    expect(result).to_contain_text("Thẩm định báo cáo đánh giá tác động môi trường")
    # No personal data: not the company's name, not its e-mail.
    expect(tracking.locator("main")).not_to_contain_text(desk.applicant.name)
    expect(tracking.locator("main")).not_to_contain_text(str(desk.applicant.email))
    passer_by.look("tracking-found")

    page.click("summary:has-text('Rút hồ sơ')")
    page.fill("#f-reason", "Chủ dự án điều chỉnh quy mô")
    page.click("button:has-text('Gửi yêu cầu rút hồ sơ')")
    expect(page.locator(".error-summary")).to_contain_text("Đánh dấu xác nhận")
    expect(page.locator("#f-reason")).to_have_value("Chủ dự án điều chỉnh quy mô")
    visitor.look("withdraw-refused")
    page.check("#f-confirm")
    page.click("button:has-text('Gửi yêu cầu rút hồ sơ')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi yêu cầu rút hồ sơ")
    expect(page.locator(".summary-list")).to_contain_text("yêu cầu rút hồ sơ")
    expect(page.locator(".summary-list")).to_contain_text("Lý do: Chủ dự án điều chỉnh quy mô")
    visitor.look("withdrawal-requested")
    # Review takes the request (dossier.withdrawal_accepted): the page says so once it has heard.
    for _ in range(40):
        page.reload()
        if "Cơ quan đã nhận yêu cầu lúc" in page.locator(".summary-list").inner_text():
            break
        page.wait_for_timeout(500)
    expect(page.locator(".summary-list")).to_contain_text("Cơ quan đã nhận yêu cầu lúc")
    visitor.look("withdrawal-accepted")


def test_without_javascript_a_draft_is_saved_with_its_upload_and_checked(no_script_user: Visitor) -> None:
    page = start_draft(no_script_user)
    page.fill("#f-field-project_name", "Trạm xử lý nước thải Phú Mỹ")
    page.set_input_files("#f-file-request_letter", pdf_file("de-nghi.pdf", "Văn bản đề nghị thẩm định"))
    page.click("button:has-text('Lưu và tiếp tục')")
    page.wait_for_url(re.compile(r".*/kiem-tra$"))
    expect(page.locator("main")).to_contain_text("de-nghi.pdf")
    expect(page.locator(".error-summary")).to_contain_text("Chưa đính kèm: Báo cáo đánh giá tác động môi trường")
    expect(page.locator(".error-summary")).to_contain_text("Chưa nhập: Địa điểm thực hiện dự án")
    no_script_user.look("check-answers-without-javascript")


def come_back_after_the_session_ends(visitor: Visitor) -> None:
    page = start_draft(visitor)
    draft_path = page.url.removeprefix(visitor.base)
    page.fill("#f-field-project_name", "Dự án điện mặt trời Tây Ninh")
    page.fill("#f-field-project_location", "Huyện Tân Châu, tỉnh Tây Ninh")
    # The portal's session ends (idle too long) while the person is typing; the provider's session lives on.
    old = next(c["value"] for c in visitor.context.cookies() if c["name"] == "hoso_session")
    visitor.context.clear_cookies(name="hoso_session")
    with page.expect_navigation(url=re.compile(re.escape(draft_path) + "$")):
        page.click("button:has-text('Lưu nháp')")
    # A new page, not the one typed on: the values below came back from the server.
    new = next(c["value"] for c in visitor.context.cookies() if c["name"] == "hoso_session")
    assert new != old
    expect(page.locator("#f-field-project_name")).to_have_value("Dự án điện mặt trời Tây Ninh")
    expect(page.locator("#f-field-project_location")).to_have_value("Huyện Tân Châu, tỉnh Tây Ninh")
    visitor.look("back-after-sign-in")


def test_an_ended_session_brings_the_person_back_with_what_they_typed(visitor: Visitor) -> None:
    come_back_after_the_session_ends(visitor)


def test_an_ended_session_brings_the_person_back_with_what_they_typed_without_javascript(
    no_script_user: Visitor,
) -> None:
    come_back_after_the_session_ends(no_script_user)


def test_the_inbox_shows_the_notifications_and_preferences_are_kept(visitor: Visitor, desk: Walkthrough) -> None:
    code, _ = received_dossier(desk, f"Nhà máy nước Sông Hồng {uuid.uuid4().hex[:6]}")
    page = visitor.go("/thong-bao")
    visitor.sign_in("congty.demo")
    desk.wait(
        "the receipt in the applicant's inbox",
        lambda: any(
            i["dossier_code"] == code for i in desk.call("GET", "/api/v1/notifications", desk.applicant)["items"]
        ),
    )
    page.reload()
    item = page.locator(".inbox li.unread", has_text=f"Hồ sơ {code} đã được tiếp nhận")
    expect(item).to_be_visible()
    visitor.look("inbox")
    item.locator("button:has-text('Đánh dấu đã đọc')").click()
    expect(page.locator(".inbox li.read", has_text=f"Hồ sơ {code} đã được tiếp nhận")).to_be_visible()
    page.click("a:has-text('Cài đặt nhận thông báo')")
    page.check("input[name='language'][value='en']")
    page.uncheck("input[name='channel.sms']")
    page.click("button:has-text('Lưu cài đặt')")
    expect(page.locator(".notice.success")).to_contain_text("Đã lưu cài đặt")
    visitor.look("preferences-saved")
    saved = desk.call("GET", "/api/v1/notify/preferences", desk.applicant)
    assert saved["language"] == "en"
    assert saved["channels"]["sms"] is False
    desk.call("PUT", "/api/v1/notify/preferences", desk.applicant, json={"language": "vi"})


def test_the_fee_is_paid_through_the_payment_link_and_the_result_is_shown_when_returned(
    visitor: Visitor, desk: Walkthrough
) -> None:
    code, _ = received_dossier(desk, f"Nhà máy gạch Tuynel {uuid.uuid4().hex[:6]}")
    desk.act(desk.leader, code, "assign", assignee_id=desk.specialist.subject)
    desk.act(desk.specialist, code, "request_fee", amount_vnd=96_000_000)
    desk.wait("the fee for the applicant", lambda: desk.applicant_view(code).get("fee"))
    page = visitor.go(f"/ho-so/{code}")
    visitor.sign_in("congty.demo")
    expect(page.locator("#fee")).to_contain_text("96.000.000 đồng")
    # The appraisal goes on while the fee is awaited: the clock runs.
    expect(page.locator(".clock")).not_to_contain_text("Tạm dừng")
    visitor.look("fee-requested")
    # The link leads to the payment provider (outside this machine): where it points, signed, with the amount.
    answer = page.request.get(f"{visitor.base}/ho-so/{code}/thanh-toan", max_redirects=0)
    assert answer.status == 303
    target = answer.headers["location"]
    assert target.startswith("https://sandbox.vnpayment.vn/")
    query = dict(parse_qsl(urlsplit(target).query))
    assert query["vnp_Amount"] == "9600000000"
    # The provider confirms the payment (its signed callback), as after the applicant paid there.
    params = {
        "vnp_Amount": "9600000000", "vnp_TxnRef": query["vnp_TxnRef"], "vnp_ResponseCode": "00",
        "vnp_TransactionStatus": "00", "vnp_TransactionNo": "14123457", "vnp_TmnCode": query["vnp_TmnCode"],
    }  # fmt: skip
    paid = desk.call(
        "GET", "/api/v1/payments/callbacks/vnpay", params={**params, "vnp_SecureHash": sign(params, PAYMENT_SECRET)}
    )
    assert paid["RspCode"] == "00"
    desk.wait("the fee paid for review", lambda: (desk.review_view(code) or {}).get("fee_paid_at"))

    # The council asks for the report's revision: the applicant sends the revised report from the same page.
    desk.through_council(code)
    desk.act(
        desk.specialist, code, "request_revision", items=["Chương 3: tính lại tải lượng bụi"], reason="Theo kết luận"
    )
    desk.wait_status(code, 5)
    page.reload()
    panel = page.locator("#supplement")
    expect(panel.locator("h2")).to_have_text("Yêu cầu chỉnh sửa, bổ sung báo cáo")
    expect(panel).to_contain_text("Chương 3: tính lại tải lượng bụi")
    expect(page.locator(".clock")).to_contain_text("Tạm dừng")
    visitor.look("revision-requested")
    page.select_option("#f-component-0", "eia_report")
    page.set_input_files("#f-item-0", pdf_file("bao-cao-dtm-chinh-sua.pdf", "Báo cáo ĐTM đã chỉnh sửa"))
    page.click("button:has-text('Gửi báo cáo đã chỉnh sửa, bổ sung')")
    expect(page.locator(".notice.success")).to_contain_text("Đã gửi báo cáo đã chỉnh sửa, bổ sung")
    sent = page.locator("h3", has_text="Báo cáo đã chỉnh sửa, bổ sung, nộp lúc")
    expect(sent).to_have_count(1)  # what the owner sent stays on their page, with its file
    expect(page.locator("h3:has-text('nộp lúc') + ul.files")).to_contain_text("bao-cao-dtm-chinh-sua.pdf")
    desk.wait_review(code, "revised")

    # The timeline names the revised report as one, not as a supplement.
    def revised_on_timeline() -> bool:
        page.reload()
        return page.locator(".timeline").get_by_text("Nộp báo cáo đã chỉnh sửa, bổ sung").count() == 1

    desk.wait("the revised report on the timeline", revised_on_timeline)
    desk.act(desk.specialist, code, "propose_decision", proposal="approve", reason="Báo cáo đạt yêu cầu")
    desk.act(desk.leader, code, "approve", decision_number="123/QĐ-BNNMT")
    desk.act(desk.reception, code, "return_result")
    desk.wait_status(code, 10)
    page.reload()
    result = page.locator(".panel.result")
    expect(result).to_contain_text("Đã phê duyệt")
    expect(result).to_contain_text("Quyết định số 123/QĐ-BNNMT")
    expect(result).to_contain_text("Đã trả kết quả lúc")
    expect(page.locator(".clock")).to_contain_text("Đã kết thúc")
    visitor.look("result-returned")
