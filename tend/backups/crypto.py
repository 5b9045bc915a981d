"""Encryption of a backup with a passphrase: AES-256-GCM in chunks, with a scrypt key.

The format (docs/backups.md, "Encryption") is a header and a sequence of chunks::

    header = MAGIC (8) | version (1) | log2 N (1) | r (1) | p (1) | chunk size (4, big-endian)
             | salt (16) | nonce prefix (7) | key check (32)
    chunk  = AES-256-GCM(key, nonce = prefix (7) | counter (4) | last (1), plaintext ≤ chunk
             size, associated data = header without the key check) → ciphertext + 16-byte tag

The passphrase gives two keys through scrypt then HKDF-SHA256: one encrypts, the other signs
the header (the key check, an HMAC-SHA256). A wrong passphrase is told apart from a damaged
file by the key check; every chunk is authenticated with the header, its position and whether
it is the last (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, as in age),
so a flipped bit, a reordered, dropped or added chunk, and a truncated file are all refused.
Memory stays at one chunk whatever the size of the backup.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Iterator
from hashlib import sha256
from typing import IO, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"TENDBKE\x00"
VERSION = 1
CHUNK_SIZE = 1 << 20  # 1 MiB of plaintext per chunk
TAG_SIZE = 16
# scrypt cost: N = 2**17, r = 8 (128 MiB, about half a second); readers accept up to 2**20.
LOG_N, R, P = 17, 8, 1
MAX_LOG_N = 20
_FIXED = struct.Struct(">8sBBBBI16s7s")
HEADER_SIZE = _FIXED.size + 32
MIN_PASSPHRASE = 8


class DecryptError(Exception):
    """The file cannot be decrypted; ``reason`` is "passphrase", "damaged" or "truncated"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _keys(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    master = Scrypt(salt=salt, length=32, n=1 << log_n, r=r, p=p).derive(passphrase.encode("utf-8"))
    both = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"tend-backup v1").derive(
        master
    )
    return both[:32], both[32:]


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 1 << 32:
        raise DecryptError("damaged")  # more than 4 PiB: not a file we wrote
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only binary file that encrypts what is written to ``out`` (call ``close``)."""

    def __init__(self, out: IO[bytes], passphrase: str, *, log_n: int = LOG_N) -> None:
        self._out = out
        salt, prefix = os.urandom(16), os.urandom(7)
        enc_key, mac_key = _keys(passphrase, salt, log_n, R, P)
        fixed = _FIXED.pack(MAGIC, VERSION, log_n, R, P, CHUNK_SIZE, salt, prefix)
        self._aad = fixed
        self._aead = AESGCM(enc_key)
        self._prefix = prefix
        self._counter = 0
        self._buffer = bytearray()
        self.closed = False
        out.write(fixed + hmac.new(mac_key, fixed, sha256).digest())

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Keep at least one byte back, so the last chunk is never an empty one after a full one.
        while len(self._buffer) > CHUNK_SIZE:
            self._seal(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._counter, last)
        self._out.write(self._aead.encrypt(nonce, plain, self._aad))
        self._counter += 1

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True
            self._out.flush()


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts = []
    while size:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def decrypted_chunks(source: BinaryIO, passphrase: str) -> Iterator[bytes]:
    """The plaintext of an encrypted backup, chunk by chunk; raises ``DecryptError`` on a wrong
    passphrase, a damaged chunk or a missing end (every chunk is checked before it is given)."""
    header = _read_exact(source, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise DecryptError("truncated")
    fixed, check = header[: _FIXED.size], header[_FIXED.size :]
    magic, version, log_n, r, p, chunk_size, salt, prefix = _FIXED.unpack(fixed)
    if magic != MAGIC or version != VERSION:
        raise DecryptError("damaged")
    # Refuse costs we never write, so a crafted header cannot ask for gigabytes of memory.
    if not (10 <= log_n <= MAX_LOG_N and 1 <= r <= 32 and 1 <= p <= 16):
        raise DecryptError("damaged")
    if not 1024 <= chunk_size <= 64 << 20:
        raise DecryptError("damaged")
    enc_key, mac_key = _keys(passphrase, salt, log_n, r, p)
    if not hmac.compare_digest(hmac.new(mac_key, fixed, sha256).digest(), check):
        raise DecryptError("passphrase")
    aead = AESGCM(enc_key)
    counter = 0
    sealed_size = chunk_size + TAG_SIZE
    current = _read_exact(source, sealed_size)
    while True:
        if len(current) < TAG_SIZE:
            raise DecryptError("truncated")
        following = _read_exact(source, sealed_size) if len(current) == sealed_size else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(prefix, counter, last), current, fixed)
        except InvalidTag:
            # A full chunk that fails as the last one is most likely a cut-off file.
            if last and len(current) == sealed_size:
                raise DecryptError("truncated") from None
            raise DecryptError("damaged") from None
        yield plain
        if last:
            return
        counter += 1
        current = following


class DecryptingReader:
    """A read-only binary file over ``decrypted_chunks`` (for tarfile's stream mode)."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        self._chunks = decrypted_chunks(source, passphrase)
        self._chunk = b""
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        parts = []
        while size != 0:
            if self._at >= len(self._chunk):
                try:
                    self._chunk, self._at = next(self._chunks), 0
                except StopIteration:
                    break
                continue
            end = len(self._chunk) if size < 0 else min(len(self._chunk), self._at + size)
            parts.append(self._chunk[self._at : end])
            if size > 0:
                size -= end - self._at
            self._at = end
        return b"".join(parts)
