"""Order routing: choose the warehouse that ships each order, by rules users edit in YAML."""
