"""The routing action: a warehouse for every order awaiting shipment."""
