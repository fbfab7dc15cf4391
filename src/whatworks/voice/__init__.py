"""Voice: what children, families and staff say, as data that counts (issue 9)."""
