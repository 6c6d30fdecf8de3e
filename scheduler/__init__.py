"""The deadline sweep: reads due deadlines and issues idempotent deadline commands."""
