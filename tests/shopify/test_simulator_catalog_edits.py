"""The simulator's catalog and customer writes validate like Shopify, apply all or nothing, fire products/update
and record what they applied (shopify/simulator/catalog_edits.py)."""

import orjson

from shopify import documents

BULK = documents.UPDATE_VARIANTS
CREATE = documents.CREATE_CUSTOMER


def first_product(sim_shop):
    product = next(p for p in sim_shop.products.values() if len(p.variant_ids) >= 2)
    return product, [sim_shop.variants[v] for v in product.variant_ids[:2]]


async def test_an_unknown_variant_refuses_the_whole_update(sim, sim_shop):
    product, (one, _) = first_product(sim_shop)
    other = next(v for v in sim_shop.variants.values() if v.product_id != product.id)
    variants = [
        {"id": one.gid, "price": "1.00"},
        {"id": "gid://shopify/ProductVariant/1", "price": "2.00"},
        {"id": other.gid, "price": "3.00"},  # of another product
    ]
    result = (await sim.data(BULK, {"product": product.gid, "variants": variants}))["productVariantsBulkUpdate"]
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["variants", "1", "id"], "PRODUCT_VARIANT_DOES_NOT_EXIST"),
        (["variants", "2", "id"], "PRODUCT_VARIANT_DOES_NOT_EXIST"),
    ]
    assert one.price != "1.00" and sim_shop.applied == []
    missing = await sim.data(BULK, {"product": "gid://shopify/Product/1", "variants": variants[:1]})
    assert missing["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"


async def test_an_update_applies_fields_options_and_sku_and_fires_products_update(sim, sim_shop, webhook_receiver):
    sim_shop.subscribe("products/update", webhook_receiver.url)
    product, (one, two) = first_product(sim_shop)
    names = product.option_names
    variants = [
        {
            "id": one.gid,
            "price": "2590",
            "compareAtPrice": "2990.5",
            "barcode": "8960000000007",
            "inventoryItem": {"sku": "EID-1"},
            "optionValues": [{"optionName": names[0], "name": "Teal"}],
        },
        {"id": two.gid, "compareAtPrice": None},
    ]
    result = (await sim.data(BULK, {"product": product.gid, "variants": variants}))["productVariantsBulkUpdate"]
    assert result["userErrors"] == [] and [v["id"] for v in result["productVariants"]] == [one.gid, two.gid]
    assert (one.price, one.compare_at_price, one.barcode, one.sku) == ("2590.00", "2990.50", "8960000000007", "EID-1")
    assert sim_shop.items[one.inventory_item_id].sku == "EID-1" and one.title.startswith("Teal")
    assert [a["id"] for a in sim_shop.applied] == [one.gid, two.gid]
    await sim_shop.webhooks.drain(5)
    [hook] = webhook_receiver.topic("products/update")
    body = orjson.loads(hook.body)
    sent = next(v for v in body["variants"] if v["admin_graphql_api_id"] == one.gid)
    assert (sent["price"], sent["compare_at_price"], sent["sku"]) == ("2590.00", "2990.50", "EID-1")

    bad = [{"id": one.gid, "price": "-1", "optionValues": [{"optionName": "Fabric", "name": "Silk"}]}]
    refused = (await sim.data(BULK, {"product": product.gid, "variants": bad}))["productVariantsBulkUpdate"]
    assert {e["code"] for e in refused["userErrors"]} == {"GREATER_THAN_OR_EQUAL_TO", "OPTION_DOES_NOT_EXIST"}
    assert one.price == "2590.00"


async def test_customer_create_refuses_a_taken_phone_or_email(sim, sim_shop):
    sim_shop.add_customer("Bilal", "Ahmed", email="bilal@example.pk", phone="+923331112222")
    made = (await sim.data(CREATE, {"input": {"firstName": "Sana", "phone": "+923217654321"}}))["customerCreate"]
    assert made["userErrors"] == [] and made["customer"]["id"].startswith("gid://shopify/Customer/")
    taken = {"input": {"firstName": "B", "phone": "+923331112222", "email": "BILAL@example.pk"}}
    errors = (await sim.data(CREATE, taken))["customerCreate"]["userErrors"]
    assert {(tuple(e["field"]), e["message"]) for e in errors} == {
        (("phone",), "Phone has already been taken"),
        (("email",), "Email has already been taken"),
    }
    bad = (await sim.data(CREATE, {"input": {"phone": "0300"}}))["customerCreate"]["userErrors"]
    assert bad == [{"field": ["phone"], "message": "Phone is invalid"}]
    assert [a["mutation"] for a in sim_shop.applied] == ["customerCreate"]
