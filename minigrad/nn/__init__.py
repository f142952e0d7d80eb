"""Neural-network building blocks: ``functional`` (ops) and, on top of it, modules."""

from minigrad.nn import functional
