"""The zone case domain: the Zone aggregate, its rules, the indicator system.

Imports only the standard library and eventsourcing.domain.
"""
