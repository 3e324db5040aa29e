"""Packets placed on a timeline of their own (a live session's, in seconds) rather than the
input's: what a restream's AAC re-encode and a live recording's audio go through."""

from __future__ import annotations

from pathlib import Path

import av

from vidcolor.io.passthrough import lacks_global_header, transcode_audio


def test_only_adts_aac_lacks_a_global_header(make_clip, tmp_path: Path) -> None:
    for name, lacks in (("feed.ts", True), ("clip.mp4", False)):
        with av.open(str(make_clip(tmp_path / name, frames=4))) as container:
            assert lacks_global_header(container.streams.audio[0]) is lacks


def test_transcoded_audio_never_goes_back(make_clip, tmp_path: Path) -> None:
    """A reconnect repeats what was already written, a little earlier on the timeline: the
    encoder is fed samples that continue where the last ones ended (a muxer refuses
    timestamps that go back), so the output's keep rising."""
    feed = make_clip(tmp_path / "feed.ts", frames=24, fps=24)
    out_path = tmp_path / "out.mkv"
    with av.open(str(feed)) as source, av.open(str(out_path), "w") as out:
        template = source.streams.audio[0]
        packets = [p for p in source.demux(template) if p.dts is not None]
        route = transcode_audio(out, template)
        origin = packets[0].pts * packets[0].time_base
        timed = [(bytes(p), float(p.pts * p.time_base - origin), float(p.duration * p.time_base))
                 for p in packets]
        repeat = [(data, start - 0.1, length) for data, start, length in timed[-8:]]
        for data, start, length in [*timed, *repeat]:
            route.write_at(data, start, length)
        route.flush()
    with av.open(str(out_path)) as result:
        stamps = [p.pts for p in result.demux(audio=0) if p.size]
    assert stamps == sorted(set(stamps)) and len(stamps) >= len(packets)
