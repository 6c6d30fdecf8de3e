"""Signed checkpoints over the whole log (after RFC 9162): Merkle tree heads signed with Ed25519,
inclusion proofs for any event and consistency proofs between checkpoints."""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.settings import Settings
from application.store import Checkpoint
from audit.merkle_store import MerkleStore
from audit.merkle_store import StoredTree
from domain.integrity import canonical_json
from projections.history import leaf_index_of

LOG_ID = "zonecase"


class EmptyLogError(ValueError):
    """No event yet: no tree head to sign."""


class SigningKeyMissingError(RuntimeError):
    """Production without ``ZONECASE_SIGNING_KEY``."""


def tree_head_message(tree_size: int, root_hash: str, issued_at: str, key_id: str) -> bytes:
    """The bytes a tree head's signature covers (canonical JSON)."""
    return canonical_json(
        {"log": LOG_ID, "tree_size": tree_size, "root_hash": root_hash, "issued_at": issued_at, "key_id": key_id}
    )


def key_id_of(public: Ed25519PublicKey) -> str:
    """The SHA-256 of the raw public key, hex (names the key in every checkpoint)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return str(hashlib.sha256(raw).hexdigest())


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """A PEM public key (what an inspector pins)."""
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_tree_head(public: Ed25519PublicKey, checkpoint: dict[str, Any]) -> bool:
    """Whether the checkpoint's signature is the key's, over its size, root, time and key id (False, never an
    exception, for a checkpoint that lacks a field or holds one of the wrong type)."""
    if checkpoint.get("key_id") != key_id_of(public):
        return False
    try:
        message = tree_head_message(
            int(checkpoint["tree_size"]),
            str(checkpoint["root_hash"]),
            str(checkpoint["issued_at"]),
            str(checkpoint["key_id"]),
        )
        public.verify(base64.b64decode(checkpoint["signature"], validate=True), message)
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


@dataclass
class SigningKey:
    """The service's Ed25519 key (the private half never leaves the process)."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        """Names the key in every checkpoint."""
        return key_id_of(self.public)

    def sign(self, message: bytes) -> str:
        """A base64 signature."""
        return base64.b64encode(self.private.sign(message)).decode()

    @classmethod
    def generate(cls) -> SigningKey:
        """A new key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """A PEM private key from a file."""
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def save(self, path: Path) -> None:
        """Writes the private key as PEM, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            self.private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)


def resolve_signing_key(settings: Settings) -> SigningKey:
    """The configured key; in development one generated once under the data directory, with a warning."""
    if settings.signing_key_file:
        return SigningKey.load(Path(settings.signing_key_file))
    if settings.env == "production":
        raise SigningKeyMissingError(
            "ZONECASE_SIGNING_KEY is not set; zonecase will not sign checkpoints with a "
            "key it made up. Create one with `zonecase keygen --out FILE`."
        )
    path = settings.data_dir / "dev-signing-key.pem"
    if path.exists():
        key = SigningKey.load(path)
    else:
        key = SigningKey.generate()
        key.save(path)
    print(
        f"WARNING: ZONECASE_SIGNING_KEY is not set; signing checkpoints with the development key {path}",
        file=sys.stderr,
    )
    return key


class Checkpointer:
    """Signs tree heads over the log (read, in order, from the history view) and answers proofs.

    It keeps no leaf: the tree's state is its compact range, and proofs read stored subtree hashes
    (``audit.merkle_store``), so the process's memory does not grow with the log."""

    # How long the latest signed tree head read from the store is taken as the latest (another process may sign
    # meanwhile); one signed here is known at once.
    LATEST_SECONDS = 1.0

    def __init__(self, app: Any, runner: Any, key: SigningKey) -> None:
        self.app, self.runner, self.key = app, runner, key
        self._store: MerkleStore | None = None
        self._lock = threading.RLock()
        self._latest: tuple[float, Checkpoint | None] | None = None  # (when read, what)

    def knows_latest(self) -> bool:
        """Whether ``latest()`` answers from memory (it read the store less than ``LATEST_SECONDS`` ago)."""
        known = self._latest
        return known is not None and time.monotonic() - known[0] < self.LATEST_SECONDS

    def latest(self) -> Checkpoint | None:
        """The latest signed tree head, read from the store at most once every ``LATEST_SECONDS``."""
        known = self._latest
        if known is not None and time.monotonic() - known[0] < self.LATEST_SECONDS:
            return known[1]
        found = self.app.side_tables.latest_checkpoint()
        with self._lock:  # never back to a smaller tree head than one signed here meanwhile
            mine = self._latest[1] if self._latest is not None else None
            if mine is not None and (found is None or found.tree_size < mine.tree_size):
                found = mine
            self._latest = (time.monotonic(), found)
        return found  # type: ignore[no-any-return]

    @property
    def store(self) -> MerkleStore:
        """The tree's storage beside the views (opened on first use)."""
        if self._store is None:
            history = self.runner.views["history"].view
            self._store = MerkleStore.beside(history, lambda: self.runner.read("history"))
        return self._store

    def _refresh(self) -> None:
        """Reads the log's new events (incrementally) once the views are current."""
        self.runner.wait_for(self.app.recorder.max_notification_id(), timeout=30)
        self.store.extend()

    def tree(self) -> StoredTree:
        """The tree over the whole log as it stands."""
        with self._lock:
            self._refresh()
            return self.store.tree()

    def sign(self, reason: str) -> Checkpoint:
        """Signs the current tree head (or returns the latest if the log has not grown)."""
        with self._lock:
            tree = self.tree()
            size = tree.size
            if size == 0:
                raise EmptyLogError("The log is empty: there is nothing to sign yet.")
            latest = self.app.side_tables.latest_checkpoint()
            if latest is not None and latest.tree_size >= size:
                return latest  # type: ignore[no-any-return]
            issued_at = self.app.clock.now().astimezone(UTC).isoformat()
            root = tree.root(size).hex()
            signature = self.key.sign(tree_head_message(size, root, issued_at, self.key.key_id))
            checkpoint = Checkpoint(size, root, issued_at, self.key.key_id, signature, reason)
            self.app.side_tables.put_checkpoint(checkpoint)
            stored = self.app.side_tables.get_checkpoints(since=size, limit=1)  # another process's, if it came first
            if stored and stored[0].tree_size == size:
                checkpoint = stored[0]
            self._latest = (time.monotonic(), checkpoint)  # known at once (a store read under way cannot undo it)
            return checkpoint

    def leaf_index(self, position: int) -> int:
        """The leaf index of the event at a log position."""
        size = self.tree().size
        with self.runner.read("history") as tx:
            index = leaf_index_of(tx, position)
        if index is None or index >= size:
            raise KeyError(position)
        return index

    def inclusion(self, position: int, tree_size: int) -> dict[str, Any]:
        """The audit path of the event at ``position`` in the tree of ``tree_size`` leaves."""
        with self._lock:
            tree = self.tree()
            index = self.leaf_index(position)
            path = tree.inclusion_proof(index, tree_size)
            return {
                "position": position,
                "leaf_index": index,
                "tree_size": tree_size,
                "leaf_hash": tree.leaf(index).hex(),
                "audit_path": [p.hex() for p in path],
                "root_hash": tree.root(tree_size).hex(),
            }

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        """The proof that the tree of ``second`` leaves extends the tree of ``first``."""
        with self._lock:
            tree = self.tree()
            return {
                "first": first,
                "second": second,
                "first_root": tree.root(first).hex(),
                "second_root": tree.root(second).hex(),
                "proof": [p.hex() for p in tree.consistency_proof(first, second)],
            }
