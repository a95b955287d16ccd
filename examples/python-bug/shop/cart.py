"""A shopping cart: line items, bulk pricing, discount codes and the total in cents."""
from __future__ import annotations

from dataclasses import dataclass, field

# Ten or more of one item: 10% off that line.
BULK_QUANTITY = 10
BULK_PERCENT = 10
# Discount codes: percent off the whole order, after bulk pricing.
CODES = {"WELCOME5": 5, "SPRING20": 20}


@dataclass
class Line:
    sku: str
    unit_cents: int
    quantity: int

    def cents(self) -> int:
        total = self.unit_cents * self.quantity
        if self.quantity > BULK_QUANTITY:
            total -= total * BULK_PERCENT // 100
        return total


@dataclass
class Cart:
    lines: dict[str, Line] = field(default_factory=dict)
    code: str | None = None

    def add(self, sku: str, unit_cents: int, quantity: int = 1) -> None:
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        if unit_cents < 0:
            raise ValueError("a price cannot be negative")
        line = self.lines.get(sku)
        if line is None:
            self.lines[sku] = Line(sku, unit_cents, quantity)
        else:
            line.quantity += quantity

    def remove(self, sku: str) -> None:
        self.lines.pop(sku, None)

    def apply_code(self, code: str) -> None:
        if code.upper() not in CODES:
            raise KeyError(f"unknown discount code {code!r}")
        self.code = code.upper()

    def subtotal_cents(self) -> int:
        return sum(line.cents() for line in self.lines.values())

    def total_cents(self) -> int:
        subtotal = self.subtotal_cents()
        if self.code is None:
            return subtotal
        return subtotal - CODES[self.code]
