"""An actor label recorded with a change names its staff member, or nobody (the system acted)."""

from operations.kernel.access import SYSTEM, Actor, staff_id_of


def test_a_staff_label_names_its_staff_member():
    assert staff_id_of(Actor(name="Ayesha Khan", staff_id=12).label) == 12
    assert staff_id_of("staff:7 (Someone With Spaces)") == 7


def test_the_system_shopify_and_damaged_labels_name_nobody():
    assert staff_id_of(SYSTEM.label) is None
    assert staff_id_of("shopify") is None
    assert staff_id_of(None) is None
    assert staff_id_of("") is None
    assert staff_id_of("staff:x (Nobody)") is None
