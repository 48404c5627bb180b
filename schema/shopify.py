"""GraphQL types for the Shopify connection, its locations and catalog imports."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import shopify as models
from operations.sync import WEBHOOK_TOPICS, ImportKind, ImportOutcome
from operations.sync import ImportPhase as Phase
from schema.enums import mirrored
from schema.errors import UserError
from schema.inputs import KEY_DESCRIPTION
from schema.types import Branch

ImportStatus = mirrored(models.ImportStatus, "ImportStatus")
ImportPhase = mirrored(
    Phase,
    "ImportPhase",
    (
        "Where an import is, in the order a run goes: QUEUED, STARTING, EXPORTING and DOWNLOADING (from "
        "Shopify), CHECKING (every line read before anything is written), then LOCATIONS, PRODUCTS, VARIANTS, "
        "INVENTORY, CUSTOMERS; COMPLETED or FAILED."
    ),
)
ImportSource = strawberry.enum(
    Enum("ImportSource", {"SHOPIFY": "shopify", "FILE": "file"}),
    description="SHOPIFY: bulk exports from the connected shop. FILE: a bulk-export file (branchline import --file).",
)
ImportObjectKind = mirrored(ImportKind, "ImportObjectKind", "What an import counts.")
ImportCountOutcome = mirrored(
    ImportOutcome,
    "ImportCountOutcome",
    (
        "What happened to them. LINKED_BY_SKU: taken as the Branchline variant with the same SKU. "
        "IGNORED_LOCATION: stock at a location left out (mapLocation ignore). OPENING_STOCK: opening stock movements "
        "written. ALREADY_PRESENT: levels that had their opening stock already."
    ),
)
ShopifyWebhookTopic = strawberry.enum(
    Enum("ShopifyWebhookTopic", {t: t for t in WEBHOOK_TOPICS}), description="Shopify's webhook topics the sync uses."
)


@strawberry.type(description="The Shopify shop this Branchline serves. Tokens are never returned.")
class ShopifyConnection:
    shop_domain: str
    shop_name: str
    currency: str
    api_version: str
    connected: bool
    connected_at: datetime
    disconnected_at: datetime | None
    webhook_topics: list[ShopifyWebhookTopic] = strawberry.field(  # type: ignore[valid-type]
        description="Webhook subscriptions registered with Shopify."
    )

    @classmethod
    def from_model(cls, c: models.ShopifyConnection) -> "ShopifyConnection":
        return cls(
            shop_domain=c.shop_domain,
            shop_name=c.shop_name,
            currency=c.currency,
            api_version=c.api_version,
            connected=c.status == models.ConnectionStatus.CONNECTED,
            connected_at=c.connected_at,
            disconnected_at=c.disconnected_at,
            webhook_topics=[ShopifyWebhookTopic(t) for t in sorted(c.webhook_subscriptions or {})],
        )


@strawberry.type(description="A Shopify location and the branch its stock belongs to.")
class ShopifyLocation:
    shopify_location_id: strawberry.ID = strawberry.field(description="Shopify's GID, gid://shopify/Location/…")
    name: str
    active: bool
    ignored: bool = strawberry.field(description="The owner chose not to bring this location's stock in.")

    @classmethod
    def from_model(cls, row: models.ShopifyLocation) -> "ShopifyLocation":
        return cls(
            shopify_location_id=strawberry.ID(row.shopify_location_id),
            name=row.name,
            active=row.active,
            ignored=row.ignored,
        )

    @strawberry.field(description="The branch this location is; null while it is not mapped (or is ignored).")
    async def branch(self, info: Info) -> Branch | None:
        row = await info.context.loaders.branch_of_shopify_location.load(str(self.shopify_location_id))
        return Branch.from_model(row) if row is not None else None


@strawberry.type(description="Objects handled per kind, e.g. variants: created 120, updated 3, unchanged 40.")
class ImportCount:
    kind: ImportObjectKind  # type: ignore[valid-type]
    outcome: ImportCountOutcome  # type: ignore[valid-type]
    count: int


@strawberry.type(description="Something the import did that the owner should know (a SKU renamed, a line skipped).")
class ImportWarning:
    message: str


@strawberry.type(description="One run of the catalog import from Shopify (or from a bulk-export file).")
class ImportJob:
    id: strawberry.ID
    source: ImportSource  # type: ignore[valid-type]
    status: ImportStatus  # type: ignore[valid-type]
    phase: ImportPhase  # type: ignore[valid-type]
    objects_done: int
    objects_total: int | None
    rate: float = strawberry.field(description="Objects per second so far.")
    counts: list[ImportCount]
    warnings: list[ImportWarning]
    error_code: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_model(cls, j: models.ImportJob) -> "ImportJob":
        return cls(
            id=relay.to_base64("ImportJob", j.id),
            source=ImportSource(j.source),
            status=ImportStatus(j.status.value if hasattr(j.status, "value") else j.status),
            phase=ImportPhase(j.phase),
            objects_done=j.objects_done,
            objects_total=j.objects_total,
            rate=j.rate,
            counts=[
                ImportCount(kind=ImportObjectKind(kind), outcome=ImportCountOutcome(outcome), count=n)
                for kind, outcomes in sorted((j.counts or {}).items())
                for outcome, n in sorted(outcomes.items())
            ],
            warnings=[ImportWarning(message=w["message"]) for w in (j.warnings or [])],
            error_code=j.error_code,
            error=j.error,
            created_at=j.created_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
        )


@strawberry.type(description="Where an import stands: pushed by importProgress as it runs.")
class ImportProgress:
    job_pk: strawberry.Private[int]
    status: ImportStatus  # type: ignore[valid-type]
    phase: ImportPhase  # type: ignore[valid-type]
    objects_done: int
    objects_total: int | None
    rate: float
    error_code: str | None
    error: str | None

    @strawberry.field(description="The job, read afresh with each update (its counts and warnings included).")
    async def job(self, info: Info) -> ImportJob:
        return ImportJob.from_model(await info.context.loaders.import_job.load(self.job_pk))


@strawberry.input
class ConnectShopifyInput:
    shop_domain: str = strawberry.field(description="The permanent domain, e.g. zari.myshopify.com")
    access_token: str = strawberry.field(description="Admin API access token (stored encrypted).")
    client_secret: str = strawberry.field(description="The app's client secret: verifies webhooks (stored encrypted).")
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input(description="Stop talking to Shopify: its webhooks are removed and the tokens forgotten.")
class DisconnectShopifyInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)


@strawberry.input
class StartShopifyImportInput:
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    create_branches: bool = strawberry.field(
        default=True,
        description="Make a branch for each Shopify location not mapped yet. False: refuse until every location "
        "with stock is mapped (mapLocation) or ignored.",
    )


@strawberry.input
class MapLocationInput:
    shopify_location_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY_DESCRIPTION)
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="The branch this location is.")
    ignore: bool = strawberry.field(default=False, description="Do not import this location's stock.")


@strawberry.type
class ConnectShopifyPayload:
    connection: ShopifyConnection | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DisconnectShopifyPayload:
    connection: ShopifyConnection | None = strawberry.field(default=None, description="As it was disconnected.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StartShopifyImportPayload:
    job: ImportJob | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MapLocationPayload:
    location: ShopifyLocation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
