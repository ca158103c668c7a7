"""The InMail report (R80, R81): a row per recruiter and the total."""

from datetime import date

import strawberry

from ...domain import report as dr
from ...domain.model import ReportMetric
from .common import FailureCode


@strawberry.type
class FailureCount:
    code: FailureCode  # type: ignore[valid-type]
    count: int


@strawberry.type
class InMailReportRow:
    recruiter_id: strawberry.ID | None = strawberry.field(description="null on the total row.")
    in_mails_sent: int
    follow_ups_scheduled: int
    follow_ups_sent: int
    follow_ups_cancelled: int
    follow_ups_deleted: int
    follow_ups_failed: list[FailureCount]
    replies: int
    replies_before_follow_up: int
    replies_after_follow_up: int
    response_rate: float = strawberry.field(description="replies / inMailsSent; 0 when none were sent.")
    credits_charged: int
    credits_refunded: int

    @staticmethod
    def from_domain(row: dr.ReportRow) -> "InMailReportRow":
        return InMailReportRow(
            recruiter_id=strawberry.ID(row.recruiter_id) if row.recruiter_id is not None else None,
            in_mails_sent=row[ReportMetric.INMAILS_SENT],
            follow_ups_scheduled=row[ReportMetric.FOLLOW_UPS_SCHEDULED],
            follow_ups_sent=row[ReportMetric.FOLLOW_UPS_SENT],
            follow_ups_cancelled=row[ReportMetric.FOLLOW_UPS_CANCELLED],
            follow_ups_deleted=row[ReportMetric.FOLLOW_UPS_DELETED],
            follow_ups_failed=[FailureCount(code=code, count=n) for code, n in row.failed_by_code],
            replies=row.replies,
            replies_before_follow_up=row[ReportMetric.REPLIES_BEFORE_FOLLOW_UP],
            replies_after_follow_up=row[ReportMetric.REPLIES_AFTER_FOLLOW_UP],
            response_rate=row.response_rate,
            credits_charged=row[ReportMetric.CREDITS_CHARGED],
            credits_refunded=row[ReportMetric.CREDITS_REFUNDED],
        )


@strawberry.type
class InMailReport:
    from_: date = strawberry.field(name="from")
    to: date
    rows: list[InMailReportRow]
    total: InMailReportRow

    @staticmethod
    def from_domain(report: dr.InMailReport) -> "InMailReport":
        return InMailReport(
            from_=report.first_day,
            to=report.last_day,
            rows=[InMailReportRow.from_domain(r) for r in report.rows],
            total=InMailReportRow.from_domain(report.total),
        )
