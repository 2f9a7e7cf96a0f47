"""Dagster resources: where the warehouse and landing zone live, how to open them, and the
kind of resource a re-merge announces its revisions through."""

from orders_platform.resources.landing import LandingZoneResource
from orders_platform.resources.warehouse import WarehouseResource, connect_warehouse

__all__ = ["LandingZoneResource", "WarehouseResource", "connect_warehouse"]
