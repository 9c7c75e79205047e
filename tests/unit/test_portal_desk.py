"""The desk reads an officer's action by the kinds of field its workflow gives it: every bad answer is named beside
its field before anything is sent, and what is sent is what review's API takes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from portal.desk.actions import read_action
from portal.i18n import Translator
from review.domain.definition import ActionName, definition_for, load_definitions

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEFINITION = definition_for(load_definitions(), "MT-DTM-BO", "2019")  # the generic workflow
T = Translator("vi")


def spec(name: ActionName) -> dict[str, Any]:
    assert DEFINITION is not None
    return DEFINITION.action_form(name)


def read(name: ActionName, **typed: str) -> tuple[dict[str, Any], dict[str, str]]:
    given = read_action(spec(name), FormData(list(typed.items())), T, VN)
    return given.body, given.errors.by_field


def test_an_extension_is_sent_with_its_date_in_vietnam_time_and_the_version_seen() -> None:
    body, errors = read(
        ActionName.EXTEND_DEADLINE,
        expected_version="7",
        **{"extend_deadline.reason": "  Cần lấy thêm ý kiến  ", "extend_deadline.new_due_at": "2027-02-15T16:30"},
    )
    assert errors == {}
    assert body == {
        "action": "extend_deadline",
        "expected_version": 7,
        "reason": "Cần lấy thêm ý kiến",
        "new_due_at": "2027-02-15T16:30:00+07:00",
    }


def test_what_an_action_needs_and_what_cannot_be_read_are_named_beside_their_fields() -> None:
    _, errors = read(ActionName.EXTEND_DEADLINE, **{"extend_deadline.new_due_at": "15/02/2027"})
    assert errors == {
        "extend_deadline.reason": "Chưa có “Lý do xin lỗi và hẹn lại (ghi trên Mẫu 04)”",
        "extend_deadline.new_due_at": "Nhập ngày và giờ, ví dụ 20/12/2026 17:00",
    }
    _, errors = read(ActionName.REQUEST_FEE, **{"request_fee.amount_vnd": "tám triệu"})
    assert errors == {"request_fee.amount_vnd": "Nhập số tiền bằng chữ số, lớn hơn 0"}
    _, errors = read(ActionName.PROPOSE_DECISION, **{"propose_decision.proposal": "maybe"})
    assert errors["propose_decision.proposal"] == "Chọn một trong các phương án"


def test_amounts_take_separators_and_supplement_items_are_one_per_line() -> None:
    body, errors = read(ActionName.REQUEST_FEE, **{"request_fee.amount_vnd": "8.000.000"})
    assert errors == {}
    assert body["amount_vnd"] == 8_000_000
    body, errors = read(
        ActionName.REQUEST_SUPPLEMENT,
        **{"request_supplement.items": "Bản đồ vị trí\n\n  Phụ lục 2  \n", "request_supplement.reason": "Thiếu"},
    )
    assert errors == {}
    assert body["items"] == ["Bản đồ vị trí", "Phụ lục 2"]
    assert "new_due_at" not in body  # left empty: the procedure's own supplement deadline


def test_an_irreversible_action_needs_its_confirmation() -> None:
    _, errors = read(ActionName.APPROVE, **{"approve.decision_number": "123/QĐ-BNNMT"})
    assert errors == {"approve.confirm": "Đánh dấu ô xác nhận để thực hiện thao tác này"}
    body, errors = read(ActionName.APPROVE, **{"approve.decision_number": "123/QĐ-BNNMT", "approve.confirm": "yes"})
    assert errors == {}
    assert body == {"action": "approve", "decision_number": "123/QĐ-BNNMT"}


def test_a_council_is_read_from_the_rows_filled_and_a_half_filled_row_is_named() -> None:
    eia = definition_for(load_definitions(), "MT-DTM-TINH", "2022")
    assert eia is not None
    form = eia.action_form(ActionName.ESTABLISH_COUNCIL)
    [members] = [f for f in form["fields"] if f["name"] == "members"]
    assert (members["kind"], members["min_items"]) == ("council", 7)
    typed = {
        "establish_council.decision_number": "12/QĐ-UBND",
        "establish_council.members.0.name": " Nguyễn Văn Chủ ",
        "establish_council.members.0.role": "chair",
        "establish_council.members.2.name": "GS. Trần Bình",
        "establish_council.members.2.role": "reviewer",
        "establish_council.members.2.account_id": "expert-1",
        "establish_council.members.2.affiliation": "Đại học Đà Nẵng",
    }
    given = read_action(form, FormData(list(typed.items())), T, VN)
    assert given.errors.by_field == {}
    assert given.body["members"] == [
        {"name": "Nguyễn Văn Chủ", "role": "chair"},
        {"name": "GS. Trần Bình", "role": "reviewer", "affiliation": "Đại học Đà Nẵng", "account_id": "expert-1"},
    ]
    typed = {"establish_council.members.3.affiliation": "Sở", "establish_council.members.4.name": "X"}
    given = read_action(form, FormData(list(typed.items())), T, VN)
    assert given.errors.by_field == {
        "establish_council.decision_number": "Chưa có “Số quyết định thành lập hội đồng”",
        "establish_council.members.3": "Dòng 4: cần họ tên và vai trò",
        "establish_council.members.4": "Dòng 5: cần họ tên và vai trò",
    }
    given = read_action(form, FormData([]), T, VN)
    assert given.errors.by_field["establish_council.members"] == ("Chưa có “Thành viên hội đồng”")


def test_the_apis_council_messages_read_as_sentences() -> None:
    from portal.problems import readable

    said = "a council has at least 7 members (Law 72/2020/QH14 Art. 34(3)(a)); 6 given"
    assert readable(said, T) == "Hội đồng phải có ít nhất 7 thành viên; mới có 6"
    assert (
        readable("a council has exactly one secretary; 2 given", T) == "Hội đồng có đúng một Ủy viên thư ký; đang có 2"
    )
    assert (
        readable("a council has at least 1 reviewer(s); 0 given", T)
        == "Hội đồng cần ít nhất 1 Ủy viên phản biện; đang có 0"
    )
    assert readable("the appraisal fee of 8000000 VND is not paid yet", T) == (
        "Chủ dự án chưa nộp phí thẩm định 8.000.000 đồng: hội đồng chưa thể họp."
    )
