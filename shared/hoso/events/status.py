"""Public status codes of the national one-stop systems (DESIGN.md section 4)."""

from __future__ import annotations

from enum import IntEnum


class PublicStatus(IntEnum):
    NEW = 1
    RECEIVED = 2
    NOT_RECEIVED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    AWAITING_FEE = 6
    WITHDRAWAL_REQUESTED = 7
    STOPPED = 8
    PROCESSED = 9
    RESULT_RETURNED = 10


STATUS_LABELS: dict[PublicStatus, tuple[str, str]] = {
    PublicStatus.NEW: ("Mới đăng ký", "Submitted online"),
    PublicStatus.RECEIVED: ("Đã tiếp nhận", "Received"),
    PublicStatus.NOT_RECEIVED: ("Không được tiếp nhận", "Not received"),
    PublicStatus.PROCESSING: ("Đang xử lý", "Processing"),
    PublicStatus.SUPPLEMENT_REQUESTED: ("Yêu cầu bổ sung", "Supplement requested"),
    PublicStatus.AWAITING_FEE: ("Chờ thực hiện nghĩa vụ tài chính", "Awaiting fee"),
    PublicStatus.WITHDRAWAL_REQUESTED: ("Công dân yêu cầu rút hồ sơ", "Withdrawal requested"),
    PublicStatus.STOPPED: ("Dừng xử lý", "Processing stopped"),
    PublicStatus.PROCESSED: ("Đã xử lý xong", "Processed"),
    PublicStatus.RESULT_RETURNED: ("Đã trả kết quả", "Result returned"),
}


def status_label(code: PublicStatus, language: str = "vi") -> str:
    vi, en = STATUS_LABELS[code]
    return en if language == "en" else vi
