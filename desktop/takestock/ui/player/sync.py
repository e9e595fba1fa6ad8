"""Several players as one transport: the compare grid's :class:`SyncGroup`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PySide6.QtCore import QObject, QTimer, Signal

from takestock.ui.player.backends import PlayerBackend
from takestock.ui.player.widget import PlayerWidget

Alignment = Literal["start", "relative"]


class SyncGroup(QObject):
    """Two to four players kept in step under one transport (the compare grid).

    Every call on the group goes to each member; positions are the leader's. With
    ``"start"`` alignment all clips share one clock in milliseconds from their starts
    (a shorter clip holds its last frame until the others loop); the leader is the
    longest clip. With ``"relative"`` alignment each clip is at the same *fraction* of its
    length, the followers' rates are scaled to finish together, and the leader is the
    first member. A drift tick every ``interval_ms`` re-seeks a playing follower that is
    more than ``tolerance_frames`` of its frames away from where it should be, and
    restarts one that stopped early. ``interval_ms=0`` starts no timer: call
    :meth:`tick` and :meth:`correct_drift` yourself (tests).

    It implements :class:`Transport`, so a :class:`TransportBar` can drive it.

    Attributes:
        backends: the members' backends, in the order given.
        corrections: how many drift re-seeks were made.

    Signals:
        position_changed(int): the leader's position moved (ms), polled by the drift tick.
        ended(): the leader stopped at its end.
        drift_corrected(int, int): member index and its drift in ms, after a re-seek.
    """

    position_changed = Signal(int)
    ended = Signal()
    drift_corrected = Signal(int, int)

    def __init__(
        self,
        members: Sequence[PlayerBackend | PlayerWidget],
        *,
        align: Alignment = "start",
        tolerance_frames: float = 1.0,
        interval_ms: int = 250,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not 2 <= len(members) <= 4:
            raise ValueError(f"a sync group holds 2 to 4 players, not {len(members)}")
        self.backends: list[PlayerBackend] = [
            m.backend if isinstance(m, PlayerWidget) else m for m in members
        ]
        self._ticks_members = not any(isinstance(m, PlayerWidget) for m in members)
        self.tolerance_frames = tolerance_frames
        self.corrections = 0
        self._align: Alignment = align
        self._rate = 1.0
        self._loop = False
        self._muted = False
        self._last_pos: int | None = None
        self._leader = self.backends[0]
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer)
        if interval_ms > 0:
            self._timer.start(interval_ms)
        self.set_alignment(align)

    # ------------------------------------------------------------ alignment

    @property
    def leader(self) -> PlayerBackend:
        """The member whose clock the others follow (chosen by :meth:`set_alignment`)."""
        return self._leader

    def followers(self) -> list[tuple[int, PlayerBackend]]:
        lead = self.leader
        return [(i, b) for i, b in enumerate(self.backends) if b is not lead]

    def alignment(self) -> Alignment:
        return self._align

    def set_alignment(self, align: Alignment) -> None:
        """Switch between ``"start"`` and ``"relative"`` and bring everyone into line."""
        if align not in ("start", "relative"):
            raise ValueError(f"alignment is 'start' or 'relative', not {align!r}")
        self._align = align
        if align == "start":
            self._leader = max(self.backends, key=lambda b: b.length_ms())
        else:
            self._leader = self.backends[0]
        self.set_rate(self._rate)
        self.set_loop(self._loop)
        self._align_followers(force=True)

    def target_for(self, backend: PlayerBackend, leader_ms: float) -> float:
        """Where ``backend`` should be when the leader is at ``leader_ms``."""
        lead = self.leader
        if backend is lead:
            return leader_ms
        if self._align == "relative":
            return leader_ms / max(lead.length_ms(), 1) * backend.length_ms()
        return min(leader_ms, backend.length_ms())

    def _align_followers(self, *, force: bool) -> None:
        lead = self.leader
        pos = lead.position_ms()
        playing = lead.is_playing()
        for index, member in self.followers():
            target = self.target_for(member, pos)
            last_frame = member.length_ms() - 1000.0 / member.fps()
            if target >= last_frame:  # past a shorter clip's end: it rests on its last frame
                if not member.is_playing() and member.position_ms() >= last_frame - 1:
                    continue
            elif playing and not member.is_playing():  # it ended early, or the leader looped
                member.seek(target)
                member.play()
                continue
            drift = member.position_ms() - target
            if force or abs(drift) > self.tolerance_frames * 1000.0 / member.fps():
                member.seek(target)
                if not force:
                    self.corrections += 1
                    self.drift_corrected.emit(index, round(drift))

    def correct_drift(self) -> None:
        """One drift check (the timer calls this); only while the leader plays."""
        if self.leader.is_playing():
            self._align_followers(force=False)

    def _on_timer(self) -> None:
        ended = self.tick()
        self.correct_drift()
        pos = self.position_ms()
        if pos != self._last_pos:
            self._last_pos = pos
            self.position_changed.emit(pos)
        if ended:
            self.ended.emit()

    # ------------------------------------------------------------ transport

    def tick(self) -> bool:
        """Tick members the group owns (bare backends); ``True`` when the leader ended.

        Members given as :class:`PlayerWidget` are ticked by their own widgets.
        """
        ended = False
        if self._ticks_members:
            for member in self.backends:
                if member.tick() and member is self.leader:
                    ended = True
        return ended

    def play(self) -> None:
        lead = self.leader
        if lead.position_ms() >= lead.length_ms() - 1000.0 / lead.fps():
            self.seek(0)
        pos = lead.position_ms()
        lead.play()
        for _, member in self.followers():
            if self.target_for(member, pos) < member.length_ms() - 1000.0 / member.fps():
                member.play()

    def pause(self) -> None:
        for member in self.backends:
            member.pause()
        self._align_followers(force=True)

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def stop(self) -> None:
        self.pause()
        self.seek(0)

    def seek(self, ms: float) -> None:
        lead = self.leader
        lead.seek(ms)
        pos = lead.position_ms()
        for _, member in self.followers():
            member.seek(self.target_for(member, pos))

    def step_frame(self, frames: int = 1) -> None:
        """Step every player: each by its own frames where clocks match, else to the leader."""
        lead = self.leader
        lead.step_frame(frames)
        pos = lead.position_ms()
        for _, member in self.followers():
            target = self.target_for(member, pos)
            half_frame = 500.0 / member.fps()
            if self._align == "start" and member.fps() == lead.fps():
                member.step_frame(frames)  # VLC steps forward exactly; seeks land near
                if abs(member.position_ms() - target) < half_frame:
                    continue
            member.pause()
            member.seek(target)

    def position_ms(self) -> int:
        return self.leader.position_ms()

    def length_ms(self) -> int:
        return self.leader.length_ms()

    def fps(self) -> float:
        return self.leader.fps()

    def is_playing(self) -> bool:
        return self.leader.is_playing()

    def set_rate(self, rate: float) -> None:
        """The leader's rate; in relative mode followers scale theirs to finish together."""
        self._rate = float(rate)
        lead = self.leader
        for member in self.backends:
            scale = 1.0
            if self._align == "relative" and member is not lead:
                scale = member.length_ms() / max(lead.length_ms(), 1)
            member.set_rate(self._rate * scale)

    def rate(self) -> float:
        return self._rate

    def set_loop(self, loop: bool) -> None:
        """Loop at the leader's end; in start mode shorter clips wait for the leader."""
        self._loop = bool(loop)
        lead = self.leader
        for member in self.backends:
            member.set_loop(self._loop and (member is lead or self._align == "relative"))

    def loop(self) -> bool:
        return self._loop

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)
        for member in self.backends:
            member.set_muted(self._muted)

    def muted(self) -> bool:
        return self._muted

    def close(self) -> None:
        """Stop the drift tick (the members stay with their owners)."""
        self._timer.stop()
