from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Optional, Union

from .adjust_stock import AdjustStock
from .base_client import GqlBaseClient
from .base_model import UNSET, UnsetType
from .branches import Branches
from .counter_login import CounterLogin
from .counters import Counters
from .day_close import DayClose
from .enums import OrderStatus, SaleStatus
from .export_progress import ExportProgress
from .input_types import (
    AdjustStockInput,
    CounterLoginInput,
    ExportReportInput,
    LoginInput,
    ReportPeriodInput,
    SalesReportInput,
)
from .login import Login
from .low_stock import LowStock
from .me import Me
from .order_events import OrderEvents
from .orders import Orders
from .returns import Returns
from .sales import Sales
from .sales_report import SalesReport
from .start_export import StartExport
from .stock_changed import StockChanged
from .stock_levels import StockLevels
from .stock_movements import StockMovements
from .stock_value_report import StockValueReport
from .sync_status import SyncStatus
from .sync_status_changed import SyncStatusChanged
from .variant_stock import VariantStock
from .variants import Variants


def gql(q: str) -> str:
    return q


class GeneratedClient(GqlBaseClient):
    async def login(self, input: LoginInput, **kwargs: Any) -> Login:
        query = gql("""
            mutation Login($input: LoginInput!) {
              login(input: $input) {
                token
                expiresAt
                staff {
                  ...StaffSummary
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment StaffSummary on Staff {
              id
              name
              role
            }

            fragment UserErrorFields on UserError {
              field
              message
              code
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="Login", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Login.model_validate(data)

    async def counter_login(
        self, input: CounterLoginInput, **kwargs: Any
    ) -> CounterLogin:
        query = gql("""
            mutation CounterLogin($input: CounterLoginInput!) {
              counterLogin(input: $input) {
                token
                expiresAt
                staff {
                  ...StaffSummary
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment StaffSummary on Staff {
              id
              name
              role
            }

            fragment UserErrorFields on UserError {
              field
              message
              code
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CounterLogin", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CounterLogin.model_validate(data)

    async def me(self, **kwargs: Any) -> Me:
        query = gql("""
            query Me {
              me {
                ...StaffSummary
                branches {
                  ...BranchSummary
                }
              }
            }

            fragment BranchSummary on Branch {
              id
              code
              name
              timezone
            }

            fragment StaffSummary on Staff {
              id
              name
              role
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Me", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Me.model_validate(data)

    async def variants(
        self,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        search: Union[Optional[str], UnsetType] = UNSET,
        sku: Union[Optional[str], UnsetType] = UNSET,
        barcode: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Variants:
        query = gql("""
            query Variants($first: Int!, $after: String, $search: String, $sku: String, $barcode: String) {
              variants(
                first: $first
                after: $after
                search: $search
                sku: $sku
                barcode: $barcode
              ) {
                edges {
                  node {
                    ...VariantFields
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }

            fragment VariantFields on Variant {
              id
              sku
              barcode
              title
              size
              colour
              price {
                ...MoneyFields
              }
              taxRate
              product {
                id
                title
                vendor
                productType
              }
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "search": search,
            "sku": sku,
            "barcode": barcode,
        }
        response = await self.execute(
            query=query, operation_name="Variants", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Variants.model_validate(data)

    async def variant_stock(
        self,
        variant_id: str,
        in_stock: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> VariantStock:
        query = gql("""
            query VariantStock($variantId: ID!, $inStock: Boolean = false) {
              node(id: $variantId) {
                __typename
                ... on Variant {
                  ...VariantFields
                  stock(inStock: $inStock) {
                    ...StockLevelFields
                  }
                }
              }
            }

            fragment BranchSummary on Branch {
              id
              code
              name
              timezone
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment StockLevelFields on StockLevel {
              id
              branch {
                ...BranchSummary
              }
              variant {
                id
                sku
              }
              onHand
              reserved
              available
              inTransit
              damaged
              reorderPoint
              updatedAt
            }

            fragment VariantFields on Variant {
              id
              sku
              barcode
              title
              size
              colour
              price {
                ...MoneyFields
              }
              taxRate
              product {
                id
                title
                vendor
                productType
              }
            }
            """)
        variables: dict[str, object] = {"variantId": variant_id, "inStock": in_stock}
        response = await self.execute(
            query=query, operation_name="VariantStock", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return VariantStock.model_validate(data)

    async def branches(
        self, first: int, after: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> Branches:
        query = gql("""
            query Branches($first: Int!, $after: String) {
              branches(first: $first, after: $after) {
                edges {
                  node {
                    ...BranchSummary
                    routingPriority
                    shopifyLocationId
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment BranchSummary on Branch {
              id
              code
              name
              timezone
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {"first": first, "after": after}
        response = await self.execute(
            query=query, operation_name="Branches", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Branches.model_validate(data)

    async def counters(
        self,
        branch_id: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        active: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Counters:
        query = gql("""
            query Counters($branchId: ID!, $first: Int!, $after: String, $active: Boolean) {
              counters(branchId: $branchId, first: $first, after: $after, active: $active) {
                edges {
                  node {
                    id
                    code
                    name
                    active
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "branchId": branch_id,
            "first": first,
            "after": after,
            "active": active,
        }
        response = await self.execute(
            query=query, operation_name="Counters", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Counters.model_validate(data)

    async def stock_changed(
        self,
        branch_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        variant_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[StockChanged]:
        query = gql("""
            subscription StockChanged($branchIds: [ID!], $variantIds: [ID!]) {
              stockChanged(branchIds: $branchIds, variantIds: $variantIds) {
                ...StockChangeFields
              }
            }

            fragment StockChangeFields on StockChange {
              branchId
              variantId
              movementId
              sku
              bucket
              delta
              reason
              sequence
              onHand
              reserved
              available
              inTransit
              damaged
              occurredAt
            }
            """)
        variables: dict[str, object] = {
            "branchIds": branch_ids,
            "variantIds": variant_ids,
        }
        async for data in self.execute_ws(
            query=query, operation_name="StockChanged", variables=variables, **kwargs
        ):
            yield StockChanged.model_validate(data)

    async def low_stock(
        self,
        branch_ids: list[str],
        variant_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[LowStock]:
        query = gql("""
            subscription LowStock($branchIds: [ID!]!, $variantIds: [ID!]) {
              lowStock(branchIds: $branchIds, variantIds: $variantIds) {
                crossing
                sku
                available
                reorderPoint
                reorderQuantity
                sequence
                occurredAt
                branch {
                  id
                  code
                }
                variant {
                  id
                }
              }
            }
            """)
        variables: dict[str, object] = {
            "branchIds": branch_ids,
            "variantIds": variant_ids,
        }
        async for data in self.execute_ws(
            query=query, operation_name="LowStock", variables=variables, **kwargs
        ):
            yield LowStock.model_validate(data)

    async def order_events(
        self, branch_ids: list[str], **kwargs: Any
    ) -> AsyncIterator[OrderEvents]:
        query = gql("""
            subscription OrderEvents($branchIds: [ID!]!) {
              orderEvents(branchIds: $branchIds) {
                kind
                shopifyOrderId
                name
                status
                codStatus
                exceptionCode
                occurredAt
                branch {
                  id
                  code
                }
              }
            }
            """)
        variables: dict[str, object] = {"branchIds": branch_ids}
        async for data in self.execute_ws(
            query=query, operation_name="OrderEvents", variables=variables, **kwargs
        ):
            yield OrderEvents.model_validate(data)

    async def sync_status_changed(
        self, **kwargs: Any
    ) -> AsyncIterator[SyncStatusChanged]:
        query = gql("""
            subscription SyncStatusChanged {
              syncStatusChanged {
                pending
                parked
                lastPushedAt
                lagSeconds
                needsAttention
              }
            }
            """)
        variables: dict[str, object] = {}
        async for data in self.execute_ws(
            query=query,
            operation_name="SyncStatusChanged",
            variables=variables,
            **kwargs,
        ):
            yield SyncStatusChanged.model_validate(data)

    async def orders(
        self,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        branch_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        status: Union[Optional[OrderStatus], UnsetType] = UNSET,
        with_exception: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Orders:
        query = gql("""
            query Orders($first: Int!, $after: String, $branchIds: [ID!], $status: OrderStatus, $withException: Boolean) {
              orders(
                first: $first
                after: $after
                branchIds: $branchIds
                status: $status
                withException: $withException
              ) {
                edges {
                  node {
                    ...OrderFields
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment OrderFields on Order {
              id
              shopifyOrderId
              name
              status
              codStatus
              isCod
              financialStatus
              total {
                ...MoneyFields
              }
              customerName
              customerPhone
              courier
              trackingNumber
              exceptionCode
              exceptionMessage
              createdAt
              updatedAt
              cancelledAt
              branch {
                id
                code
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "branchIds": branch_ids,
            "status": status,
            "withException": with_exception,
        }
        response = await self.execute(
            query=query, operation_name="Orders", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Orders.model_validate(data)

    async def sales_report(
        self, filter_: SalesReportInput, **kwargs: Any
    ) -> SalesReport:
        query = gql("""
            query SalesReport($filter: SalesReportInput!) {
              salesReport(filter: $filter) {
                rows {
                  ...SalesReportRowFields
                }
                totals {
                  ...SalesReportRowFields
                }
              }
            }

            fragment BranchSummary on Branch {
              id
              code
              name
              timezone
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment SalesReportRowFields on SalesReportRow {
              day
              week
              month
              tenderType
              productType
              gross {
                ...MoneyFields
              }
              discounts {
                ...MoneyFields
              }
              net {
                ...MoneyFields
              }
              tax {
                ...MoneyFields
              }
              total {
                ...MoneyFields
              }
              units
              salesCount
              averageBasket {
                ...MoneyFields
              }
              returnsCount
              returnedUnits
              refunds {
                ...MoneyFields
              }
              refundedNet {
                ...MoneyFields
              }
              totalAfterRefunds {
                ...MoneyFields
              }
              costOfGoods {
                ...MoneyFields
              }
              margin {
                ...MoneyFields
              }
              uncostedUnits
              branch {
                ...BranchSummary
              }
              counter {
                id
                code
              }
              cashier {
                id
                name
              }
              salesperson {
                id
                name
              }
              product {
                id
                title
              }
              variant {
                id
                sku
              }
            }
            """)
        variables: dict[str, object] = {"filter": filter_}
        response = await self.execute(
            query=query, operation_name="SalesReport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SalesReport.model_validate(data)

    async def day_close(self, period: ReportPeriodInput, **kwargs: Any) -> DayClose:
        query = gql("""
            query DayClose($period: ReportPeriodInput!) {
              dayClose(period: $period) {
                salesTotal {
                  ...MoneyFields
                }
                refundedTotal {
                  ...MoneyFields
                }
                overShort {
                  ...MoneyFields
                }
                cashToBank {
                  ...MoneyFields
                }
                registers {
                  final
                  openedAt
                  openedByName
                  closedAt
                  closedByName
                  openingFloat {
                    ...MoneyFields
                  }
                  salesCount
                  grossSales {
                    ...MoneyFields
                  }
                  discounts {
                    ...MoneyFields
                  }
                  tax {
                    ...MoneyFields
                  }
                  salesTotal {
                    ...MoneyFields
                  }
                  voidedCount
                  voidedTotal {
                    ...MoneyFields
                  }
                  returnsCount
                  refundedTotal {
                    ...MoneyFields
                  }
                  salesByTender {
                    ...TenderTotalsFields
                  }
                  refundsByTender {
                    ...TenderTotalsFields
                  }
                  cashSales {
                    ...MoneyFields
                  }
                  cashRefunds {
                    ...MoneyFields
                  }
                  cashIn {
                    ...MoneyFields
                  }
                  cashOut {
                    ...MoneyFields
                  }
                  expectedCash {
                    ...MoneyFields
                  }
                  countedCash {
                    ...MoneyFields
                  }
                  overShort {
                    ...MoneyFields
                  }
                  counter {
                    id
                    code
                  }
                  branch {
                    id
                    code
                  }
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment TenderTotalsFields on TenderTotals {
              cash {
                ...MoneyFields
              }
              card {
                ...MoneyFields
              }
              bank {
                ...MoneyFields
              }
              loyalty {
                ...MoneyFields
              }
            }
            """)
        variables: dict[str, object] = {"period": period}
        response = await self.execute(
            query=query, operation_name="DayClose", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DayClose.model_validate(data)

    async def stock_value_report(
        self,
        branch_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        as_of: Union[Optional[date], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> StockValueReport:
        query = gql("""
            query StockValueReport($branchIds: [ID!], $asOf: Date) {
              stockValueReport(branchIds: $branchIds, asOf: $asOf) {
                productType
                units
                value {
                  ...MoneyFields
                }
                uncostedUnits
                branch {
                  id
                  code
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }
            """)
        variables: dict[str, object] = {"branchIds": branch_ids, "asOf": as_of}
        response = await self.execute(
            query=query,
            operation_name="StockValueReport",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return StockValueReport.model_validate(data)

    async def start_export(
        self, input: ExportReportInput, **kwargs: Any
    ) -> StartExport:
        query = gql("""
            mutation StartExport($input: ExportReportInput!) {
              exportReport(input: $input) {
                export {
                  ...ReportExportFields
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment ReportExportFields on ReportExport {
              id
              report
              format
              status
              rowsWritten
              createdAt
              finishedAt
              expiresAt
              error
              downloadUrl
            }

            fragment UserErrorFields on UserError {
              field
              message
              code
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="StartExport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return StartExport.model_validate(data)

    async def export_progress(self, id: str, **kwargs: Any) -> ExportProgress:
        query = gql("""
            query ExportProgress($id: ID!) {
              exportProgress(id: $id) {
                ...ReportExportFields
              }
            }

            fragment ReportExportFields on ReportExport {
              id
              report
              format
              status
              rowsWritten
              createdAt
              finishedAt
              expiresAt
              error
              downloadUrl
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="ExportProgress", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ExportProgress.model_validate(data)

    async def sales(
        self,
        branch_id: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        from_: Union[Optional[date], UnsetType] = UNSET,
        to: Union[Optional[date], UnsetType] = UNSET,
        counter_id: Union[Optional[str], UnsetType] = UNSET,
        status: Union[Optional[SaleStatus], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Sales:
        query = gql("""
            query Sales($branchId: ID!, $first: Int!, $after: String, $from: Date, $to: Date, $counterId: ID, $status: SaleStatus) {
              sales(
                branchId: $branchId
                first: $first
                after: $after
                from: $from
                to: $to
                counterId: $counterId
                status: $status
              ) {
                edges {
                  node {
                    id
                    number
                    status
                    isQuote
                    occurredAt
                    placedAt
                    customerName
                    customerPhone
                    subtotal {
                      ...MoneyFields
                    }
                    discountTotal {
                      ...MoneyFields
                    }
                    taxTotal {
                      ...MoneyFields
                    }
                    total {
                      ...MoneyFields
                    }
                    refundedTotal {
                      ...MoneyFields
                    }
                    counter {
                      id
                      code
                    }
                    lines {
                      lineNo
                      sku
                      description
                      quantity
                      returnedQuantity
                      unitPrice {
                        ...MoneyFields
                      }
                      taxRate
                      net {
                        ...MoneyFields
                      }
                      tax {
                        ...MoneyFields
                      }
                      total {
                        ...MoneyFields
                      }
                    }
                    tenders {
                      type
                      amount {
                        ...MoneyFields
                      }
                    }
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "branchId": branch_id,
            "first": first,
            "after": after,
            "from": from_,
            "to": to,
            "counterId": counter_id,
            "status": status,
        }
        response = await self.execute(
            query=query, operation_name="Sales", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Sales.model_validate(data)

    async def returns(
        self,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        branch_id: Union[Optional[str], UnsetType] = UNSET,
        from_: Union[Optional[date], UnsetType] = UNSET,
        to: Union[Optional[date], UnsetType] = UNSET,
        sale_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Returns:
        query = gql("""
            query Returns($first: Int!, $after: String, $branchId: ID, $from: Date, $to: Date, $saleId: ID) {
              returns(
                first: $first
                after: $after
                branchId: $branchId
                from: $from
                to: $to
                saleId: $saleId
              ) {
                edges {
                  node {
                    id
                    number
                    reason
                    createdAt
                    net {
                      ...MoneyFields
                    }
                    tax {
                      ...MoneyFields
                    }
                    total {
                      ...MoneyFields
                    }
                    cashPaidOut {
                      ...MoneyFields
                    }
                    sale {
                      id
                      number
                    }
                    branch {
                      id
                      code
                    }
                    lines {
                      lineNo
                      sku
                      quantity
                      restock
                      total {
                        ...MoneyFields
                      }
                    }
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment MoneyFields on Money {
              amount
              currency
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "branchId": branch_id,
            "from": from_,
            "to": to,
            "saleId": sale_id,
        }
        response = await self.execute(
            query=query, operation_name="Returns", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Returns.model_validate(data)

    async def stock_levels(
        self,
        branch_id: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        variant_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        low_stock: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> StockLevels:
        query = gql("""
            query StockLevels($branchId: ID!, $first: Int!, $after: String, $variantIds: [ID!], $lowStock: Boolean = false) {
              stockLevels(
                branchId: $branchId
                first: $first
                after: $after
                variantIds: $variantIds
                lowStock: $lowStock
              ) {
                edges {
                  node {
                    ...StockLevelFields
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment BranchSummary on Branch {
              id
              code
              name
              timezone
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }

            fragment StockLevelFields on StockLevel {
              id
              branch {
                ...BranchSummary
              }
              variant {
                id
                sku
              }
              onHand
              reserved
              available
              inTransit
              damaged
              reorderPoint
              updatedAt
            }
            """)
        variables: dict[str, object] = {
            "branchId": branch_id,
            "first": first,
            "after": after,
            "variantIds": variant_ids,
            "lowStock": low_stock,
        }
        response = await self.execute(
            query=query, operation_name="StockLevels", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return StockLevels.model_validate(data)

    async def stock_movements(
        self,
        branch_id: str,
        first: int,
        after: Union[Optional[str], UnsetType] = UNSET,
        variant_ids: Union[Optional[list[str]], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> StockMovements:
        query = gql("""
            query StockMovements($branchId: ID!, $first: Int!, $after: String, $variantIds: [ID!]) {
              stockMovements(
                branchId: $branchId
                first: $first
                after: $after
                variantIds: $variantIds
              ) {
                edges {
                  node {
                    ...MovementFields
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment MovementFields on StockMovement {
              id
              sequence
              bucket
              delta
              reason
              onHand
              reserved
              available
              inTransit
              damaged
              occurredAt
              note
              branch {
                id
              }
              variant {
                id
                sku
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "branchId": branch_id,
            "first": first,
            "after": after,
            "variantIds": variant_ids,
        }
        response = await self.execute(
            query=query, operation_name="StockMovements", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return StockMovements.model_validate(data)

    async def adjust_stock(self, input: AdjustStockInput, **kwargs: Any) -> AdjustStock:
        query = gql("""
            mutation AdjustStock($input: AdjustStockInput!) {
              adjustStock(input: $input) {
                movements {
                  ...MovementFields
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment MovementFields on StockMovement {
              id
              sequence
              bucket
              delta
              reason
              onHand
              reserved
              available
              inTransit
              damaged
              occurredAt
              note
              branch {
                id
              }
              variant {
                id
                sku
              }
            }

            fragment UserErrorFields on UserError {
              field
              message
              code
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="AdjustStock", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AdjustStock.model_validate(data)

    async def sync_status(self, **kwargs: Any) -> SyncStatus:
        query = gql("""
            query SyncStatus {
              syncStatus {
                connection {
                  shopDomain
                  connected
                  connectedAt
                }
                pending
                parked
                lastPushedAt
                lagSeconds
                needsAttention
                orderActions {
                  pending
                  parked
                  lastDoneAt
                }
                webhooks {
                  pending
                  exceptions
                  parked
                  lagSeconds
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="SyncStatus", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SyncStatus.model_validate(data)
