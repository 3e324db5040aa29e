"""Archives at scale: long files in keyframe-aligned segments (resumable, in parallel), many
files at once, on one machine's processes or on a Ray cluster.

One mechanism serves resume and parallel work: a file's video timeline is split at keyframes
(:mod:`.segments`), each segment is colorized into a video-only part file with the temporal
stage warmed on the frames before it, and the parts are joined by packet copy with the input's
audio and subtitles copied once across the whole file (:mod:`.join`). A sidecar folder beside
the output records the finished parts (:mod:`.resume`); a folder run records finished files in
a manifest (:mod:`.manifest`). Work runs on one of two executors, a local process pool
(:mod:`.workers`) or Ray (:mod:`.ray_runner`), through the same job functions (:mod:`.jobs`).
"""

SEGMENT_SECONDS = 20.0  # a segment's length: what a resume may lose, per worker
