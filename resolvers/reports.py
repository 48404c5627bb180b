"""Reports: read-only queries over every context's figures (operations/reports/)."""

from strawberry.types import Info

from operations.kernel import OperationError
from operations.reports import SalesFilter, SalesGroup, sales_report
from resolvers.days import query_id
from schema.errors import BadRequest
from schema.reports import SalesReport, SalesReportInput, SalesReportRow


def sales_filter(filter: SalesReportInput) -> SalesFilter:
    branch_ids = None
    if filter.branch_ids is not None:
        branch_ids = tuple(query_id(b, "Branch", "branchIds") for b in filter.branch_ids)
    return SalesFilter(filter.from_, filter.to, branch_ids, tuple(SalesGroup(g.value) for g in filter.group_by))


async def sales_report_query(info: Info, filter: SalesReportInput) -> SalesReport:
    """Sales and returns over some local days, grouped as asked, with their totals."""
    f = sales_filter(filter)
    try:
        rows = await sales_report(info.context.actor, f)
        [totals] = (
            rows
            if not f.group_by
            else await sales_report(info.context.actor, SalesFilter(f.first, f.last, f.branch_ids))
        )
    except OperationError as error:
        problem = error.problems[0]
        raise BadRequest(problem.message, code=problem.code.value, field=problem.field) from None
    return SalesReport(rows=[SalesReportRow.from_row(r) for r in rows], totals=SalesReportRow.from_row(totals))
