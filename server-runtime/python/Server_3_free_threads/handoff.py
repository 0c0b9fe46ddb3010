"""Hand-offs between the server's threads: a queue plus an eventfd that wakes the consumer's epoll.

Every hand-off goes through one of these (never through shared state without a lock), so the pipeline is
correct on free-threaded Python too. Producers append to a deque (thread-safe) and write the eventfd only
when no wake-up is already pending, so a burst of items costs one eventfd write and the consumer drains the
whole batch per wake-up.
"""

from __future__ import annotations

import os
from collections import deque


class Wakeup:
    """An eventfd an epoll loop watches; `wake()` calls coalesce while one wake-up is pending."""

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        # True from a producer's write until the consumer reads the eventfd. A benign race at worst
        # writes the eventfd twice, never zero times: the consumer clears the flag before it drains.
        self._pending = False

    def wake(self) -> None:
        if not self._pending:
            self._pending = True
            try:
                os.eventfd_write(self.fd, 1)
            except OSError:  # closed during shutdown
                pass

    def consume(self) -> None:
        self._pending = False
        try:
            os.eventfd_read(self.fd)
        except (BlockingIOError, OSError):
            pass

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
