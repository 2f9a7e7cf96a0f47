"""Dagster resources: where the warehouse and landing zone live, and how to open them."""

from orders_platform.resources.landing import LandingZoneResource
from orders_platform.resources.warehouse import WarehouseResource, connect_warehouse

__all__ = ["LandingZoneResource", "WarehouseResource", "connect_warehouse"]
