"""Hand-offs between the server's threads: a queue plus an eventfd that wakes the consumer's epoll.

Every hand-off goes through one of these (never through shared state without a lock), so the pipeline is
correct on free-threaded Python too. Producers append to a deque (thread-safe) and write the eventfd only
when no wake-up is already pending, so a burst of items costs one eventfd write and the consumer drains the
whole batch per wake-up. The read -> app hand-off is `AppPool` (a deque shared by a pool of threads that
sleep on wake tokens), since its consumers block in a queue, not in an epoll.
"""

from __future__ import annotations

import os
import threading

# The C class behind queue.SimpleQueue: the queue module would also load heapq (idle memory).
from _queue import SimpleQueue
from collections import deque


class Wakeup:
    """An eventfd an epoll loop watches; `wake()` calls coalesce while one wake-up is pending."""

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        # True from a producer's write until the consumer has read the eventfd. A benign race at worst
        # writes the eventfd twice, never zero times: the consumer clears the flag after reading the eventfd
        # and before it drains its items, so an item put after the drain started always gets a write.
        self._pending = False

    def wake(self) -> None:
        if not self._pending:
            self._pending = True
            try:
                os.eventfd_write(self.fd, 1)
            except OSError:  # closed during shutdown
                pass

    def consume(self) -> None:
        # Read first, then clear the flag: clearing first let a producer's write land between the two and be
        # swallowed by this read, leaving the flag True with the counter at 0 (no wake-up ever again).
        try:
            os.eventfd_read(self.fd)
        except (BlockingIOError, OSError):
            pass
        self._pending = False

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class Inbox:
    """Items for one epoll-driven thread: producers `put`, the owner `drain`s a whole batch per wake-up."""

    def __init__(self) -> None:
        self._items: deque = deque()
        self.wakeup = Wakeup()

    @property
    def fd(self) -> int:
        return self.wakeup.fd

    def put(self, item) -> None:
        self._items.append(item)
        self.wakeup.wake()

    def put_many(self, items) -> None:
        self._items.extend(items)
        self.wakeup.wake()

    def drain(self) -> list:
        self.wakeup.consume()
        items = self._items
        out = []
        pop = items.popleft
        while True:
            try:
                out.append(pop())
            except IndexError:
                return out

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        self.wakeup.close()


class AppPool:
    """The read -> app hand-off: one shared deque of work (parsed requests, connections whose parked response
    can continue) and wake tokens for sleeping app threads.

    Only as many app threads are awake as the work needs: an idle pool of N woken per request fights for the
    GIL at every syscall, which cost more CPU than the requests themselves. `submit()` estimates the work in
    the deque as items x `service` (seconds per item, averaged by the app threads): up to BUDGET seconds of
    work, one awake thread is enough; above it, it wakes about one sleeping thread per BUDGET of work (at
    most one per item). So hello-world batches of 64 or 256 keep one thread running while the others sleep
    (under the GIL a second CPU-bound thread only adds GIL hand-offs); an app that sleeps 10 ms gets a
    thread per waiting request. `kick()` (from the
    read thread's loop) wakes one more thread when work waits and no item finished for KICK_AFTER seconds,
    in case one request turned slow before the average knew it.

    `active` counts awake threads plus tokens in flight, under `_lock`. A thread decrements it before it
    checks the deque a last time and sleeps; the read thread extends the deque before it reads `active`. So
    either that thread's last check sees the new work, or the read thread counted it asleep and sent a
    token: work never waits with every thread asleep. (A thread that finds work on its last check counts
    itself again; a token sent for it meanwhile only causes one spurious wake-up.)

    `drained` (GIL builds only, see ReadThread) is released by the app thread that takes the last item.
    """

    BUDGET = 0.005
    KICK_AFTER = 0.002
    SLOW = 0.001

    def __init__(self, size: int, gil: bool = True) -> None:
        self.work: deque = deque()
        self.size = size
        self._tokens: SimpleQueue = SimpleQueue()
        self._lock = threading.Lock()
        self.active = size  # the threads start awake and go to sleep on an empty deque
        # Seconds per item, a moving average written by whichever app thread finished an item last: a hint
        # only (a float store is atomic, a lost update between threads changes nothing that matters).
        self.service = 0.0
        # Under the GIL a second thread helps only when requests wait off the GIL (I/O, sleep): with
        # requests of less than SLOW seconds a second CPU-bound thread only adds GIL hand-offs (measured:
        # hello-world at 256 connections, 2.4 context switches and 50 us CPU per request with extra
        # threads woken by the estimate, 0.05 and 29 us with one).
        self.slow = self.SLOW if gil else 0.0
        self.drained = threading.Lock()
        self.drained.acquire()
        self._kick_done = -1

    def submit(self, items) -> None:
        work = self.work
        work.extend(items)
        queued = len(work)
        estimate = queued * self.service  # seconds of app work waiting
        with self._lock:
            if estimate <= self.BUDGET or self.service < self.slow:
                need = 1 - self.active  # one awake thread gets through it soon enough
            else:
                # Slow work: awake threads may all be inside the app (a 10 ms sleep), so wake sleeping
                # ones, about one per BUDGET of work, never more than there are items.
                need = min(1 + int(estimate / self.BUDGET), queued, self.size - self.active)
            if need <= 0:
                return
            self.active += need
        put = self._tokens.put
        for _ in range(need):
            put(True)

    def kick(self, done: int) -> None:
        """Called by the read thread every KICK_AFTER seconds while work waits; `done`: items finished so
        far by the pool. No progress since the last call: wake one more thread."""
        if done == self._kick_done:
            with self._lock:
                if self.active >= self.size:
                    return
                self.active += 1
            self._tokens.put(True)
        self._kick_done = done

    def take(self):
        """The next item for an app thread; sleeps while there is none. Returns None to stop the thread."""
        work = self.work
        while True:
            try:
                item = work.popleft()
            except IndexError:
                pass
            else:
                if not work:
                    self.signal_drained()
                return item
            with self._lock:
                self.active -= 1
            if work:  # the last check (see the class docstring)
                with self._lock:
                    self.active += 1
                continue
            if self._tokens.get() is None:
                return None

    def signal_drained(self) -> None:
        drained = self.drained
        if drained.locked():  # usually not: releasing an unlocked lock raises, ~0.5 us per request
            try:
                drained.release()
            except RuntimeError:  # another app thread released it first
                pass

    def stop_one(self) -> None:
        """A stop token: the app thread that takes it gets None from take() (AppThread.wake, at a stop)."""
        self._tokens.put(None)

    def __len__(self) -> int:
        return len(self.work)
