import pytest

from shop.cart import Cart


def test_empty_cart_costs_nothing():
    assert Cart().total_cents() == 0


def test_lines_add_up_and_repeat_adds_merge():
    cart = Cart()
    cart.add("pen", 150, 2)
    cart.add("pad", 400)
    cart.add("pen", 150)
    assert cart.lines["pen"].quantity == 3
    assert cart.total_cents() == 850


def test_bulk_pricing_starts_at_ten():
    cart = Cart()
    cart.add("pen", 100, 10)
    assert cart.total_cents() == 900
    cart.add("pad", 100, 9)
    assert cart.total_cents() == 900 + 900


def test_discount_code_is_a_percentage_of_the_order():
    cart = Cart()
    cart.add("lamp", 5000)
    cart.apply_code("spring20")
    assert cart.total_cents() == 4000


def test_discount_applies_after_bulk_pricing():
    cart = Cart()
    cart.add("pen", 200, 12)  # 2400, bulk -> 2160
    cart.apply_code("WELCOME5")
    assert cart.total_cents() == 2052


def test_bad_input_is_refused():
    cart = Cart()
    with pytest.raises(ValueError):
        cart.add("pen", 100, 0)
    with pytest.raises(ValueError):
        cart.add("pen", -1)
    with pytest.raises(KeyError):
        cart.apply_code("FREE")
    cart.add("pen", 100)
    cart.remove("pen")
    cart.remove("pen")
    assert cart.total_cents() == 0
