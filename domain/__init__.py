"""The zone case domain: the Zone aggregate, its rules, the indicator system. Standard library and eventsourcing.domain only."""
