"""Keys handled one after another, in the order they were typed.

Textual hands each key to the focused widget's message queue and moves on to the next key at
once. A key the widget does not take (any key bound on the widget, its screen or the app:
``e``, ``tab``, ``backspace`` in a field) reaches its binding only when it has bubbled back
up to the app, by which time the keys behind it in the same read have already been handed to
the widget that had the focus then. Typed ahead (SSH typeahead delivers a burst in one read),
``e End ctrl+u 0.002`` acted on the trial table instead of the enqueue form ``e`` opens, and
``Tab`` in a form moved the focus after the keys behind it were typed into the field it left.

:class:`KeysInOrderApp` holds each key (and paste) until the one before it is done: it has
been through the focused widget and every ancestor, and its binding, if any, has run. When
that key changed the screen (a form opened, a dialog closed), the next key waits until the new
screen has mounted and focused its widget. Esc and a key typed at once arrive as one Alt key;
where nothing binds that Alt key it is handled as the two keys. A key is never held for longer than
:data:`HOLD_AT_MOST`: a key whose handling stalls does not freeze the keyboard.
"""

from __future__ import annotations

from collections import deque
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.timer import Timer

ReturnType = TypeVar("ReturnType")

HOLD_AT_MOST = 2.0  # seconds a key waits for the one before it, at most

Typed = events.Key | events.Paste


class KeysInOrderApp(App[ReturnType]):
    """An App that handles the keys of a burst one after another (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[Typed] = deque()
        self._in_flight = 0  # the serial of the key being handled; 0: none
        self._serial = 0
        self._hold_timer: Timer | None = None

    @property
    def keys_held(self) -> int:
        """Keys typed and not yet handed on, the one in flight included."""
        return len(self._held) + (1 if self._in_flight else 0)

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, Typed) or event.is_forwarded:
            await super().on_event(event)
            return
        if self._in_flight or self._held:
            self._held.append(event)
            return
        await self._hand_on(event)

    async def _hand_on(self, event: Typed) -> None:
        """Handle ``event`` as Textual does, and hold the next key until it is done."""
        if isinstance(event, events.Key) and self._fused_with_escape(event):
            self._held.appendleft(events.Key(event.key.removeprefix("alt+"), event.character))
            event = events.Key("escape", "\x1b")
        self._serial += 1
        serial = self._in_flight = self._serial
        self._hold_timer = self.set_timer(HOLD_AT_MOST, lambda: self._done(serial))
        try:
            screen: Any = self.screen
        except Exception:  # no screen yet: nothing to wait for
            screen = None
        await super().on_event(event)
        if event.is_forwarded:
            # Handed to the focused widget (or the screen): done once every node on its way
            # up has handled what was queued before, the key included.
            target = self.focused or screen
            if target is not None:
                self._follow(target, lambda: self._handled(serial, screen))
                return
        self._handled(serial, screen)

    def _fused_with_escape(self, event: events.Key) -> bool:
        """Whether ``event`` is Alt and a character that nothing binds: what a terminal sends
        for Esc and a key typed at once, handled as Esc, then the key."""
        character = event.character or ""
        if not event.key.startswith("alt+") or len(character) != 1 or not character.isprintable():
            return False
        try:
            return event.key not in self.screen.active_bindings
        except Exception:  # no screen yet
            return False

    def _follow(self, node: MessagePump, then: Any) -> None:
        """Call ``then`` once ``node`` and each of its ancestors up to the app have handled
        every message queued on them now (a key bubbling up is always ahead of this)."""
        while node is not self:
            parent = node.parent if isinstance(node, DOMNode) else None
            if node.call_later(self._follow, parent or self, then):
                return
            # A queue that is closed handles nothing more: go on from its parent.
            if parent is None:
                break
            node = parent
        self.call_later(then)

    def _handled(self, serial: int, screen_before: Any) -> None:
        if serial != self._in_flight:
            return
        try:
            screen = self.screen
        except Exception:
            screen = None
        if screen is not None and screen is not screen_before:
            # A screen opened or closed: wait until it has mounted and set its focus (a
            # widget's focus() is itself a callback queued on the app).
            self._follow(screen, lambda: self._handled(serial, screen))
            return
        self._done(serial)

    def _done(self, serial: int) -> None:
        if serial != self._in_flight:
            return
        self._in_flight = 0
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        if self._held:
            self.call_later(self._release)

    async def _release(self) -> None:
        if not self._in_flight and self._held:
            await self._hand_on(self._held.popleft())
