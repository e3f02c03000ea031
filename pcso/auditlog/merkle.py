"""RFC 6962 (Certificate Transparency) Merkle tree hashing, with SHA-256.

leaf hash = SHA-256(0x00 || leaf bytes); node = SHA-256(0x01 || left || right); the Merkle Tree Hash of n leaves
splits at the largest power of two below n (RFC 6962 section 2.1), and of no leaves is SHA-256 of nothing.

A tree of n leaves is summed up by its *frontier* (a "compact range"): the roots of the perfect subtrees that the
binary digits of n cut it into, largest (leftmost) first. Appending a leaf merges equal-sized subtrees as a binary
counter carries; the tree's root is the frontier folded from the right. So sealing new events costs O(new + log n)
and never re-reads the old leaves, and verifying reads every leaf once whatever the number of checkpoints.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The compact range of a tree: append leaf hashes, ask for the root at the current size."""

    __slots__ = ("size", "nodes")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()):
        if len(nodes) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} frontier nodes, not {len(nodes)}")
        self.size = size
        self.nodes = list(nodes)

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:  # merge with the equal-sized subtree on the left, as a binary counter carries
            node = node_hash(self.nodes.pop(), node)
            size >>= 1
        self.nodes.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            root = node_hash(node, root)
        return root

    def to_bytes(self) -> bytes:
        return b"".join(self.nodes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        if len(data) % HASH_BYTES:
            raise ValueError("a frontier is a whole number of 32-byte hashes")
        return cls(size, [data[i:i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)])

    def copy(self) -> Frontier:
        return Frontier(self.size, self.nodes)


def root(leaves: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of these leaf hashes."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()
