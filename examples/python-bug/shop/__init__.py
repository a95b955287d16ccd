"""A tiny shop: carts with quantity pricing and discount codes."""
