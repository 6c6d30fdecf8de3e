"""What every view shares: a projection that handles events in batches, and one fold of whole zones."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from typing import ClassVar
from typing import cast
from uuid import UUID

from eventsourcing.persistence import Mapper
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.deadlines import Deadline
from domain.zone import Zone
from projections.storage import PostgresView
from projections.storage import Tx
from projections.storage import ViewSpec
from projections.storage import track_all_postgres


class ViewProjection(Projection[Any]):
    """A read model: handlers per event, run in batches; every event advances tracking, handled or not."""

    spec: ClassVar[ViewSpec]
    application_name: ClassVar[str] = "ZoneCase"

    def __init__(self, view: Any, *, mapper: Mapper[UUID], context: dict[str, Any] | None = None) -> None:
        super().__init__(view)
        self.mapper = mapper
        self.context = context or {}

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event, one transaction (the library's Projection interface)."""
        self.process_batch([domain_event], tracking, [tracking.notification_id])

    def process_batch(
        self,
        events: Sequence[Any],
        tracking: Tracking,
        positions: Sequence[int],
    ) -> None:
        """Many events (at these log positions) in one transaction that also records the last position."""
        with self.view.write(tracking) as tx:
            self.begin(tx)
            for event, position in zip(events, positions, strict=True):
                tx.position = position
                self.handle(event, tx)
            self.finish(tx)

    def begin(self, tx: Tx) -> None:
        """Called at the start of each batch."""

    def handle(self, event: Any, tx: Tx) -> None:
        """Applies one event; views override it (events they ignore still advance tracking)."""

    def finish(self, tx: Tx) -> None:
        """Called at the end of each batch, before the commit."""

    def reset(self) -> None:
        """Forgets anything cached in memory (after a failure or a rebuild)."""


class ZoneFolder:
    """Zones as of the events being projected, folded with the aggregate's own ``apply`` (no second copy
    of the rules) and shared by the views that need whole zones. Recent zones stay in memory; any other
    is rebuilt from its own earlier events — the log is append-only, so that answer never changes."""

    def __init__(self, events: Any, size: int = 2000) -> None:
        self.events = events
        self.size = size
        self._zones: dict[int, Zone] = {}  # by the id's integer (a UUID compares in Python, an int in C), oldest first
        self._last_event: Any = None
        self._last_zone: Zone | None = None

    def advance(self, event: Any) -> Zone:
        """The zone just after ``event`` (applying it once, however many views ask)."""
        if event is self._last_event:  # the views of one batch ask in turn about the same event
            return self._last_zone  # type: ignore[return-value]
        key, version = event.originator_id.int, event.originator_version
        zone = self._zones.pop(key, None)  # put back below: the most recent come last
        if zone is None or not version - 1 <= zone.version <= version:
            zone = self._load(event.originator_id, version - 1)
        if zone is None or zone.version == version - 1:
            zone = cast(Zone, event.mutate(zone))
        self._zones[key] = zone
        if len(self._zones) > self.size:
            del self._zones[next(iter(self._zones))]
        self._last_event, self._last_zone = event, zone
        return zone

    def reset(self) -> None:
        """Forgets every zone (after a failed batch or before a rebuild)."""
        self._zones.clear()
        self._last_event = self._last_zone = None

    def _load(self, zone_id: UUID, version: int) -> Zone | None:
        zone: Any = None
        if version >= 1:
            for event in self.events.get(zone_id, lte=version):
                zone = event.mutate(zone)
        return cast("Zone | None", zone)


class ZoneStateProjection(ViewProjection):
    """A view computed from whole zones: after each batch it rewrites the rows of every zone the batch
    touched, many rows per statement."""

    def __init__(self, view: Any, *, mapper: Mapper[UUID], context: dict[str, Any] | None = None) -> None:
        super().__init__(view, mapper=mapper, context=context)
        self.folder: ZoneFolder = self.context["folder"]
        self._dirty: dict[str, Zone] = {}

    def reset(self) -> None:
        self.folder.reset()
        self._dirty = {}

    def begin(self, tx: Tx) -> None:
        self._dirty = {}

    def handle(self, event: Any, tx: Tx) -> None:
        if isinstance(event, Zone.Event):
            self._dirty[str(event.originator_id)] = self.folder.advance(event)

    def finish(self, tx: Tx) -> None:
        if self._dirty:
            self.write_zones(tx, list(self._dirty.values()))
        self._dirty = {}

    def write_zones(self, tx: Tx, zones: list[Zone]) -> None:
        """Writes the view's rows for the zones this batch changed."""

    def deadlines_of(self, tx: Tx, zone: Zone) -> list[Deadline]:
        """``zone.deadlines(policy)``, computed once per batch for all the views that show them."""
        key = ("deadlines", zone.id, zone.version)
        if key not in tx.shared:
            tx.shared[key] = zone.deadlines(self.context["policy"])
        return cast(list[Deadline], tx.shared[key])


def process_together(
    projections: Sequence[ViewProjection],
    events: Iterable[Any],
    tracking: Tracking | None,
    positions: Sequence[int],
) -> None:
    """Several views of one database in one transaction: one commit for all their rows and tracking
    (``tracking`` None: rows only, for a rebuild that records tracking once at its end).

    The views computed from whole zones share one fold: each event is applied once, and each of those
    views then writes the rows of every zone the batch touched (the zone as of the batch's end)."""
    first = projections[0].view
    if any(p.view.datastore is not first.datastore for p in projections):
        raise ValueError("views of different databases cannot share a transaction")
    zone_views = [p for p in projections if isinstance(p, ZoneStateProjection)]
    event_views = [p for p in projections if not isinstance(p, ZoneStateProjection)]
    folders = {id(p.folder): p.folder for p in zone_views}
    if len(folders) > 1:
        raise ValueError("views computed from whole zones must share one fold")
    folder = next(iter(folders.values()), None)
    # A small batch (the usual one, just after a command) goes out in one pipeline: a round trip for all
    # its statements rather than one per statement. A large one (catching up, rebuilding) uses COPY.
    small = isinstance(first, PostgresView) and len(positions) <= SMALL_BATCH
    with first.write(None) as shared, shared.cursor.connection.pipeline() if small else nullcontext():
        txs = [Tx(shared.cursor, p.view, copy=not small) for p in event_views]
        for projection, tx in zip(event_views, txs, strict=True):
            projection.begin(tx)
        touched: dict[int, Zone] = {}
        for event, position in zip(events, positions, strict=True):
            if folder is not None and isinstance(event, Zone.Event):
                touched[event.originator_id.int] = folder.advance(event)
            for projection, tx in zip(event_views, txs, strict=True):
                tx.position = position
                projection.handle(event, tx)
        for projection, tx in zip(event_views, txs, strict=True):
            projection.finish(tx)
        if touched:
            zones = list(touched.values())
            computed: dict[Any, Any] = {}
            for projection in zone_views:
                tx = Tx(shared.cursor, projection.view, copy=not small)
                tx.shared = computed
                projection.write_zones(tx, zones)
        if tracking is None:
            pass
        elif isinstance(first, PostgresView):
            track_all_postgres(shared.cursor, [p.view for p in projections], tracking)
        else:
            for projection in projections:
                projection.view._insert_tracking(shared.cursor, tracking)


SMALL_BATCH = 64  # events; up to this many, a batch's statements are pipelined instead of copied
