"""Products and their sellable variants (the unit stock is counted in)."""

from tortoise import fields
from tortoise.models import Model

from models.constraints import checks_for


class Product(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=255)
    vendor = fields.CharField(max_length=120, default="")
    product_type = fields.CharField(max_length=120, default="")
    shopify_product_id = fields.CharField(max_length=80, null=True, unique=True)
    # Set while the product is archived: none of it can be sold, its history stays
    # (operations/directory/catalog_edits.py).
    archived_at = fields.DatetimeField(null=True)
    # Shopify's `updatedAt` of the product as Branchline last knew it (our edit's answer, or a webhook taken
    # in): an older or equal `products/update` is an echo or stale (operations/sync/webhook_handlers.py).
    shopify_updated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    variants: fields.ReverseRelation["Variant"]

    class Meta:
        table = "product"
        ordering = ["id"]


class Variant(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="variants", on_delete=fields.RESTRICT
    )
    sku = fields.CharField(max_length=64, unique=True)
    # NULL, not "", when a variant has no barcode: several NULLs may coexist under UNIQUE.
    barcode = fields.CharField(max_length=64, null=True, unique=True)
    title = fields.CharField(max_length=255, default="")
    size = fields.CharField(max_length=40, null=True)
    colour = fields.CharField(max_length=40, null=True)
    price = fields.DecimalField(max_digits=14, decimal_places=2)
    # The "was" price a shop shows struck through; NULL when there is none.
    compare_at_price = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    # Whether stock is counted for it (Shopify's inventory tracking); kept as the catalog says.
    tracked = fields.BooleanField(default=True)
    # Percent, e.g. 18.00 for Pakistan's standard sales tax.
    tax_rate = fields.DecimalField(max_digits=5, decimal_places=2, default=0)
    # Pakistan Customs Tariff code: FBR wants it on each fiscal invoice line.
    pct_code = fields.CharField(max_length=16, null=True)
    shopify_variant_id = fields.CharField(max_length=80, null=True, unique=True)
    shopify_inventory_item_id = fields.CharField(max_length=80, null=True, unique=True)
    # Weighted average unit cost (PKR, 4 decimals) from goods received: what stock is valued at.
    # NULL until the first receipt. Written by operations/purchasing/receiving.py, and as an opening cost
    # before any receipt by operations/directory/catalog_import.py and by the Shopify import's unit cost
    # (operations/sync/catalog_upsert.py).
    average_cost = fields.DecimalField(max_digits=14, decimal_places=4, null=True)
    # As on Product: Shopify's `updatedAt` of this variant as Branchline last knew it.
    shopify_updated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "variant"
        constraints = checks_for("Variant")
        ordering = ["id"]
