"""orders_platform: late-arriving order events to trustworthy daily revenue."""
