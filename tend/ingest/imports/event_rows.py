"""Validating rows of an events file, in the importing process or in a second one that reads ahead.

``EventRows.parse`` turns a batch of cells into what the database needs and nothing more: one
tuple per good row (sorted by customer and time, for the (customer, timestamp) index), the
same rows as PostgreSQL ``COPY`` text, the daily rollup counts, last-seen times and the
refused rows with their reasons. It touches no database, so ``parse_ahead`` can run it in a
forked process that validates batch n+1 while this one writes batch n: on two cores the CSV
parsing and the inserts overlap instead of taking turns.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from tend.ingest.imports.reading import Cleaner, FileError, Problem
from tend.ingest.imports.writers import Reject, Row
from tend.lib.db import COPY_ESCAPES as _COPY_ESCAPES

# (customer id, name, UTC time as "YYYY-MM-DD HH:MM:SS[.ffffff]", properties JSON, message id)
Good = tuple[int, str, str, str, str | None]

AHEAD = 2  # parsed batches waiting for the writer; bounds the memory of the pipeline
_BY_CUSTOMER_TIME = itemgetter(0, 2)
_COPY_TABS = 8  # tabs in one line of the 9 columns written
_COPY_NULL = "\\N"


@dataclass
class Parsed:
    """One batch, validated: everything the writer needs, in the shape the database takes."""

    rows: int  # rows read, refused ones included
    good: list[Good]
    copy: bytes  # ``good`` as COPY text (PostgreSQL only)
    accepted: int  # rows in ``good``/``copy``
    repeated: int  # rows whose message id came earlier in the same batch (skipped)
    rejects: list[Reject]
    rollups: Counter[tuple[int, str, str]]  # (customer id, UTC day as YYYY-MM-DD, name)
    affected: dict[int, int]
    last_seen: dict[int, str]
    cleaning: dict[str, int] = field(default_factory=dict)  # notes made in a reading process

    def __len__(self) -> int:
        return self.rows


class EventRows:
    """Validates event rows. ``customers`` maps external ids to customer ids; ``lookup``, when
    given, is asked first for the references of each batch (the in-process path looks them up
    batch by batch; a reading process gets the whole map up front instead)."""

    def __init__(
        self,
        *,
        index: dict[str, int],
        cleaner: Cleaner,
        customers: Mapping[str, int],
        lookup: Callable[[set[str]], Mapping[str, int]] | None = None,
        copy_received: str | None = None,
        columns: int = 0,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        self.index = index
        self.columns = columns  # cells in the header; a row with more filled ones is refused
        # The longest event name and message id the events table holds (from the model).
        self.limits = {"name": 200, "message_id": 100, **(limits or {})}
        self.clean = cleaner
        self.customers = customers
        self.lookup = lookup
        # With a value, each batch also comes out as COPY text with this received_at.
        self.copy_received = copy_received
        # Rows without a message id get ``<id_prefix><row number, 10 digits>`` (imports.actions).
        self.id_prefix: str | None = None

    def _ts(self, value: Any) -> str:
        """The UTC time as ``YYYY-MM-DD HH:MM:SS[.ffffff]``; such strings sort like the times."""
        ts = self.clean.moment("timestamp", value)
        if ts is None:
            raise Problem("missing_value")
        if ts.tzinfo is not None:
            ts = ts.astimezone(UTC).replace(tzinfo=None)
        return ts.isoformat(sep=" ")

    def parse(self, rows: list[Row]) -> Parsed:
        index = self.index
        ci, ni, ti = index["customer"], index["name"], index["timestamp"]
        pi, mi = index.get("properties"), index.get("message_id")
        # One C call fetches the five cells; an unmapped column reads the customer's (ignored).
        cells = itemgetter(ci, ni, ti, ci if pi is None else pi, ci if mi is None else mi)
        width = 1 + max(index.values())
        clean = self.clean
        ids = self.customers
        if self.lookup is not None:
            refs = set()
            for _n, row in rows:
                if len(row) > ci and row[ci]:
                    refs.add(row[ci].strip() if isinstance(row[ci], str) else str(row[ci]))
            ids = self.lookup(refs)
        fromisoformat = datetime.fromisoformat
        columns = self.columns
        name_limit, mid_limit = self.limits["name"], self.limits["message_id"]
        good: list[Good] = []
        rejects: list[Reject] = []
        mids: set[str] = set()
        repeated = 0
        for number, row in rows:
            if len(row) < width:
                row = [*row, *([""] * (width - len(row)))]
            ref, name, stamp, raw, mid = cells(row)
            if (ref is None or ref == "") and not any(v is not None and v != "" for v in row):
                continue  # a blank line holds nothing to import or to refuse
            field = ""
            try:
                if columns and len(row) > columns:
                    extra = [str(v) for v in row[columns:] if v is not None and v != ""]
                    if extra:
                        raise Problem("extra_cells", ", ".join(extra))
                field = "customer"
                if not isinstance(ref, str) or ref != ref.strip():
                    ref = clean.text("customer", ref)
                if not ref:
                    raise Problem("missing_value")
                if "\x00" in ref:
                    raise Problem("nul_byte", ref)
                pk = ids.get(ref)
                if pk is None:
                    raise Problem("unknown_customer", ref)
                field = "name"
                if not isinstance(name, str) or name != name.strip():
                    name = clean.text("name", name)
                if not name:
                    raise Problem("missing_value")
                if len(name) > name_limit:
                    raise Problem("too_long", name)
                if "\x00" in name:  # PostgreSQL stores no NUL in text
                    raise Problem("nul_byte", name)
                field = "timestamp"
                try:
                    moment = fromisoformat(stamp)
                except (TypeError, ValueError):
                    ts = self._ts(stamp)
                else:
                    # YYYY-MM-DD?HH:MM:SS naive or with Z is its own UTC time, as it is written
                    # (other ISO shapes, like week dates, go the long way).
                    n = len(stamp)
                    if (
                        ((n == 20 and stamp[19] == "Z") or (n == 19 and moment.tzinfo is None))
                        and stamp[4] == "-"
                        and stamp[7] == "-"
                        and stamp[13] == ":"
                        and stamp[16] == ":"
                    ):
                        ts = f"{stamp[:10]} {stamp[11:19]}"
                    else:
                        ts = self._ts(stamp)
                field = "properties"
                if pi is None or raw == "" or raw is None:
                    props = "{}"
                else:
                    props = clean.json_object("properties", raw)
                field = "message_id"
                if mi is None:
                    mid = None
                elif mid is not None and not isinstance(mid, str):
                    mid = clean.text("message_id", mid)
                if mid:
                    if len(mid) > mid_limit:
                        raise Problem("too_long", mid)
                    if "\x00" in mid:
                        raise Problem("nul_byte", mid)
                    if mid in mids:  # a retry within the batch: the first one is kept
                        repeated += 1
                        continue
                    mids.add(mid)
            except Problem as problem:
                rejects.append((number, field, problem.reason, problem.value, row))
                continue
            if not mid and self.id_prefix is not None:
                mid = f"{self.id_prefix}{number:010d}"
            good.append((pk, name, ts, props, mid or None))
        good.sort(key=_BY_CUSTOMER_TIME)  # locality for the (customer, timestamp) index
        rollups = Counter((r[0], r[2][:10], r[1]) for r in good)
        affected: dict[int, int] = {}
        for (pk, _day, _name), n in rollups.items():
            affected[pk] = affected.get(pk, 0) + n
        # Sorted by customer then time: the last row of each customer is its latest.
        last_seen = {r[0]: r[2] for r in good}
        return Parsed(
            rows=len(rows),
            good=good,
            copy=self._copy_text(good) if self.copy_received is not None else b"",
            accepted=len(good),
            repeated=repeated,
            rejects=rejects,
            rollups=rollups,
            affected=affected,
            last_seen=last_seen,
        )

    def _copy_text(self, good: list[Good]) -> bytes:
        """customer_id, user_id, anonymous_id, name, timestamp, properties, message_id,
        received_at, source — as lines of PostgreSQL COPY text."""
        tail = f"\t{self.copy_received}\timport\n"
        text = "".join(
            [
                f"{pk}\t\t\t{name}\t{ts}+00\t{props}\t{mid or _COPY_NULL}{tail}"
                for pk, name, ts, props, mid in good
            ]
        )
        # One look at the whole batch: values with a tab, a line break or a backslash (other
        # than each \\N) are rare, and only then is every value escaped.
        if (
            text.count("\t") != _COPY_TABS * len(good)
            or text.count("\n") != len(good)
            or text.count("\\") != sum(1 for r in good if r[4] is None)
            or "\r" in text
        ):
            e = _COPY_ESCAPES
            text = "".join(
                [
                    f"{pk}\t\t\t{name.translate(e)}\t{ts}+00\t{props.translate(e)}\t"
                    f"{_COPY_NULL if mid is None else mid.translate(e)}{tail}"
                    for pk, name, ts, props, mid in good
                ]
            )
        return text.encode()


def parse_ahead(rows: EventRows, batches: Iterable[list[Row]]) -> Generator[Parsed, None, None]:
    """Parse ``batches`` in a forked process, at most ``AHEAD`` batches ahead of the caller.

    The child reads the file through the iterator it inherits (this process must not read it
    any more) and never touches the database. It sends COPY text rather than tuples when there
    is some, since that is what the writer sends on. Closing the generator stops the child.
    """
    context = multiprocessing.get_context("fork")
    channel: Any = context.Queue(maxsize=AHEAD)
    child = context.Process(target=_read_ahead, args=(rows, batches, channel), daemon=True)
    child.start()
    try:
        while True:
            try:
                item = channel.get(timeout=1)
            except queue.Empty:
                if child.is_alive():
                    continue
                try:  # it may have sent its last batch just before it ended
                    item = channel.get(timeout=1)
                except queue.Empty:
                    raise RuntimeError(
                        f"the events reading process ended (exit code {child.exitcode})"
                    ) from None
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"the events reading process failed:\n{item}")
            if isinstance(item, tuple):  # the file cannot be read further: say so as such
                raise FileError(item[0])
            with _gc_paused():  # 50,000 new tuples would set off collections of this whole heap
                parsed = pickle.loads(item)
            yield parsed
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        channel.close()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _dumps(parsed: Parsed) -> bytes:
    """Pickled without the memo: a third of the time for 50,000 tuples, and nothing in a batch
    refers to itself (which is what the memo is for)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(parsed)
    return out.getvalue()


def _exit_with_parent(parent: int) -> None:
    """End this reading process as soon as the importing process is gone (``kill -9``): it
    would otherwise wait forever, holding the file, to hand batches to nobody."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _read_ahead(rows: EventRows, batches: Iterable[list[Row]], channel: Any) -> None:
    # The cyclic garbage collector is the largest cost after the parsing itself: each row is a
    # new list, and every collection walks the whole heap inherited from the parent too. Parsing
    # makes no reference cycles, so it is off, with one collection of this process's own
    # objects (the inherited ones frozen) between batches in case some library made one.
    gc.freeze()
    gc.disable()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        for batch in batches:
            parsed = rows.parse(batch)
            if parsed.copy:
                parsed.good = []
            parsed.cleaning, rows.clean.counts = rows.clean.counts, {}
            channel.put(_dumps(parsed))
            del batch, parsed
            gc.collect()
        channel.put(None)
    except FileError as exc:
        channel.put((str(exc),))
    except BaseException:
        import traceback

        with contextlib.suppress(Exception):
            channel.put(traceback.format_exc())
