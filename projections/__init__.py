"""Read models projected from the event log (eventsourcing Projection + tracking recorders)."""
