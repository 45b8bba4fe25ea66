"""Business rules, one module per area. Plain functions that take the actor explicitly,
never read the request, and leave commit to their caller (a route or a CLI command)."""
