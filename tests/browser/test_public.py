"""The public's pages, without signing in: the procedures in force, a procedure and its fee calculator."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Visitor


def test_a_visitor_finds_the_eia_procedure_by_words_without_accents(visitor: Visitor) -> None:
    page = visitor.go("/")
    visitor.look("home")
    page.fill("#f-q", "danh gia tac dong")
    page.click("button:has-text('Tìm kiếm')")
    page.wait_for_url(re.compile(r".*/thu-tuc\?q=danh"))
    results = page.locator(".procedure-list")
    expect(results).to_contain_text("Thẩm định báo cáo đánh giá tác động môi trường")
    expect(results).not_to_contain_text("Cấp giấy phép môi trường")
    visitor.look("procedures-found")


def test_the_procedure_page_tells_what_to_upload_the_time_limit_and_the_legal_basis(visitor: Visitor) -> None:
    page = visitor.go("/thu-tuc/MT-DTM-BO")
    visitor.look("procedure")
    expect(page.locator("h1")).to_contain_text("đánh giá tác động môi trường")
    components = page.locator("table")
    expect(components).to_contain_text("Văn bản đề nghị thẩm định")
    expect(components).to_contain_text("Báo cáo đánh giá tác động môi trường")
    expect(components).to_contain_text("100 MB")
    expect(components).to_contain_text("PDF, Word (DOCX)")
    limits = page.locator(".summary-list .deadline-by li")
    expect(limits).to_have_text(
        ["Dự án nhóm I (khoản 3 Điều 28): 45 ngày", "Dự án nhóm II (các điểm c, d, đ, e khoản 4 Điều 28): 30 ngày"]
    )
    expect(page.locator(".summary-list")).to_contain_text("kể từ khi nhận đủ hồ sơ hợp lệ, tùy theo nhóm dự án")
    expect(page.locator(".summary-list")).to_contain_text("Bộ Nông nghiệp và Môi trường")
    expect(page.locator(".summary-list")).to_contain_text("Luật Bảo vệ môi trường số 72/2020/QH14, Điều 34")
    expect(page.locator(".summary-list")).to_contain_text("Nghị định số 08/2022/NĐ-CP")
    expect(page.locator("main")).to_contain_text("Căn cứ: Thông tư số 38/2023/TT-BTC")
    expect(page.locator("main")).to_contain_text("Phê duyệt kết quả thẩm định trong 20 ngày")
    for english in ("Law on", "Decree", "Circular", "Approval within"):  # no English on the Vietnamese page
        expect(page.locator("main")).not_to_contain_text(english)


def test_the_fee_calculator_uses_the_catalog_rule_and_names_a_wrong_field(visitor: Visitor) -> None:
    page = visitor.go("/thu-tuc/MT-DTM-BO")
    page.fill("#f-total_investment_vnd", "150.000.000.000")
    page.select_option("#f-project_type", label="Dự án công nghiệp")
    page.click("button:has-text('Tính phí')")
    expect(page.locator("#fee-result")).to_contain_text("47.000.000 đồng")  # its own tier, 100-200 billion
    visitor.look("fee-computed")
    page.fill("#f-total_investment_vnd", "9.000.000.000")
    page.select_option("#f-project_type", label="Dự án xử lý chất thải và các dự án khác")
    page.click("button:has-text('Tính phí')")
    expect(page.locator("#fee-result")).to_contain_text("6.000.000 đồng")
    page.fill("#f-total_investment_vnd", "một trăm tỷ")
    page.click("button:has-text('Tính phí')")
    expect(page.locator("#fee-result .field-error")).to_contain_text("Nhập một số nguyên không âm")
    visitor.look("fee-refused")


def test_the_permit_page_lists_its_fee_by_the_case_of_the_project(visitor: Visitor) -> None:
    page = visitor.go("/thu-tuc/MT-GPMT-BO")
    visitor.look("permit-procedure")
    fees = page.locator("#fee ~ .table-wrap table")
    expect(fees.locator("tbody tr")).to_have_count(9)
    expect(fees.locator("tbody tr").first).to_have_text(re.compile(r"Dự án, cơ sở nhóm I .*50\.000\.000 đồng"))
    expect(fees).to_contain_text("từ 11 thiết bị xử lý trở lên: dự án")
    expect(fees).to_contain_text("70.000.000 đồng")
    expect(fees.locator("tbody tr").last).to_contain_text("Cơ quan giải quyết thông báo khi yêu cầu nộp phí")
    expect(page.locator("main")).to_contain_text("Căn cứ: Thông tư số 02/2022/TT-BTC")
    expect(page.locator("main")).not_to_contain_text("Circular")
    expect(page.locator("#f-total_investment_vnd")).to_have_count(0)  # no calculator: the table is the answer


def test_the_fee_calculator_works_without_javascript(visitor: Visitor) -> None:
    page = visitor.go("/thu-tuc/MT-DTM-BO?total_investment_vnd=15.000.000.000&project_type=4")
    expect(page.locator("#fee-result")).to_contain_text("14.000.000 đồng")


def test_the_pages_fit_a_phone_screen(phone_user: Visitor) -> None:
    for path, name in (("/", "home"), ("/thu-tuc/MT-DTM-BO", "procedure"), ("/tra-cuu", "tracking")):
        page = phone_user.go(path)
        phone_user.look(f"phone-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"


def test_searching_and_tracking_work_without_javascript(no_script_user: Visitor) -> None:
    page = no_script_user.go("/thu-tuc")
    page.fill("#f-q", "giay phep moi truong")
    page.click("button:has-text('Tìm kiếm')")
    expect(page.locator(".procedure-list")).to_contain_text("Cấp giấy phép môi trường")
    expect(page.locator(".procedure-list")).not_to_contain_text("đánh giá tác động")
    no_script_user.look("search-without-javascript")
    page = no_script_user.go("/tra-cuu")
    page.fill("#f-code", "không phải mã")
    page.click("button:has-text('Tra cứu')")
    expect(page.locator(".error-summary")).to_contain_text("Nhập mã hồ sơ đúng dạng")
    expect(page.locator("#f-code-error")).to_be_visible()
    no_script_user.look("tracking-refused-without-javascript")


def test_the_portal_speaks_english_on_request(visitor: Visitor) -> None:
    page = visitor.go("/thu-tuc/MT-DTM-BO")
    page.click("a:has-text('English')")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("environmental impact assessment")
    expect(page.locator("table")).to_contain_text("EIA report")
    expect(page.locator(".summary-list")).to_contain_text("Law on Environmental Protection 72/2020/QH14 Art. 34")
    expect(page.locator("main")).to_contain_text("Approval within 20 days after the revised report")
    visitor.look("procedure-en")
    page.click("a:has-text('Tiếng Việt')")
    expect(page.locator("html")).to_have_attribute("lang", "vi")


def test_pages_send_a_content_security_policy(visitor: Visitor) -> None:
    answer = visitor.page.request.get(visitor.base + "/")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
