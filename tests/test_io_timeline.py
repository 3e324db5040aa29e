"""SplicedTimeline: where sound or picture jumps, every stream moves on together."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

from vidcolor.io.timeline import SplicedTimeline

TICK = Fraction(1, 90000)


def container(flags: int = 0x0200) -> SimpleNamespace:
    kinds = ("video", "audio", "subtitle")
    return SimpleNamespace(format=SimpleNamespace(flags=flags),
                           streams=[SimpleNamespace(index=i, type=t) for i, t in enumerate(kinds)])


def packet(index: int, seconds: float, duration: float = 0.04) -> SimpleNamespace:
    ticks = round(seconds * 90000)
    return SimpleNamespace(stream_index=index, dts=ticks, pts=ticks, time_base=TICK,
                           duration=round(duration * 90000))


def placed(timeline: SplicedTimeline, *packets: SimpleNamespace) -> list[float]:
    for p in packets:
        timeline.place(p)
    return [round(float(p.dts * TICK), 3) for p in packets]


def test_a_restarted_clock_continues_where_each_stream_was_going():
    timeline = SplicedTimeline(container())
    piece = [packet(i % 2, 1.40 + 0.04 * (i // 2)) for i in range(12)]  # 6 frames, 6 sounds
    assert placed(timeline, *piece)[-2:] == [1.60, 1.60]
    # the second piece restarts at 1.40: the video goes on one frame later, the sound with it
    again = placed(timeline, packet(0, 1.40), packet(1, 1.40), packet(0, 1.44))
    assert again == [1.64, 1.64, 1.68] and timeline.joins == 1
    # a step back under a tenth of a second is jitter, not a splice
    assert placed(timeline, packet(1, 1.41)) == [1.65] and timeline.joins == 1


def test_a_forward_leap_is_a_join_but_a_quiet_subtitle_track_is_not():
    timeline = SplicedTimeline(container())
    # subtitles 40 s apart are ordinary; a picture 40 s on is a splice
    assert placed(timeline, packet(2, 1.0), packet(0, 1.0), packet(2, 41.0)) == [1.0, 1.0, 41.0]
    assert placed(timeline, packet(0, 41.0)) == [1.04] and timeline.joins == 1
    assert placed(timeline, packet(2, 81.0)) == [41.04]  # every stream moves with the offset


def test_formats_with_a_steady_clock_are_left_alone():
    timeline = SplicedTimeline(container(flags=0))
    assert placed(timeline, packet(0, 2.0), packet(0, 1.0)) == [2.0, 1.0]
    assert timeline.joins == 0
