"""Training data: folders of images, frames of video clips, CIFAR-10 batches.

Each dataset yields (L [1, S, S], ab [2, S, S]) float tensors in vidcolor's one
LAB definition. Images are decoded once, scaled to a short side a little above
the crop size and kept in memory as uint8 (a few hundred MB for thousands of
photos), so a 2-core machine spends its time on the network, not on JPEG
decoding; the decoded set is cached under ``runs/cache``.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable, Iterator, Sequence, Set
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from vidcolor.color import rgb_to_lab
from vidcolor.io.errors import InputError
from vidcolor.io.images import IMAGE_SUFFIXES, read_image

from .degrade import degrade
from .film import film_lightness

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"}


def find_files(root: str | Path, suffixes: Set[str]) -> list[Path]:
    root = Path(root)
    if root.is_file():
        return [root] if root.suffix.lower() in suffixes else []
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def fit_short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = short / min(h, w)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def read_rgb(path: Path) -> np.ndarray | None:
    """``vidcolor.io.images.read_image``, or None for a file it cannot read: a data set skips
    the odd broken file instead of stopping."""
    try:
        return read_image(path)
    except InputError:
        return None


def video_frames(path: Path, count: int) -> list[np.ndarray]:
    """``count`` RGB frames spread evenly across a clip (decoded in one pass)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)] if not total else []
        if total:
            wanted = set(np.linspace(0, total - 1, count).round().astype(int).tolist())
            container.seek(0)
            frames = [f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(stream))
                      if i in wanted]
    if len(frames) > count:
        frames = [frames[i] for i in np.linspace(0, len(frames) - 1, count).round().astype(int)]
    return frames


def cifar10_images(root: str | Path) -> list[np.ndarray]:
    """Images of CIFAR-10's python format: ``data_batch_*``/``test_batch`` pickles."""
    images = []
    for batch in sorted(Path(root).glob("*_batch*")):
        with open(batch, "rb") as handle:
            data = pickle.load(handle, encoding="bytes")  # noqa: S301 - the dataset's own format
        array = np.asarray(data[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        images.extend(array.transpose(0, 2, 3, 1))
    return images


CALIBRATION_SHARE = 12  # one photo in 12 is held out of training, to choose decode settings on
PACKED = "packed.txt"  # marks a folder written by training.pack: its split is already out


def in_calibration_split(path: Path) -> bool:
    """Whether a photo belongs to the calibration split: by a hash of its file name, so the
    split is the same on every machine and for every run, whatever the folder order."""
    return int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % CALIBRATION_SHARE == 0


def iter_images(sources: Iterable[str | Path], frames_per_clip: int = 8,
                holdout: bool = True) -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB) of every image and sampled video frame under ``sources``, at full size;
    ``holdout`` leaves out the calibration split's photos (a pack, ``training.pack``, has left
    them out already). A name is the photo's file name, or ``<clip>_f<index>``."""
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise SystemExit(f"no such image or video folder: {source}")
        packed = any((folder / PACKED).exists() for folder in (source, *source.parents))
        if (source / "data_batch_1").exists() or source.name == "cifar-10-batches-py":
            yield from ((f"cifar_{i:05d}", img) for i, img in enumerate(cifar10_images(source)))
            continue
        for path in find_files(source, IMAGE_SUFFIXES):
            if holdout and not packed and in_calibration_split(path):
                continue
            rgb = read_rgb(path)
            if rgb is not None and min(rgb.shape[:2]) >= 32:
                yield path.name, rgb
        for path in find_files(source, VIDEO_SUFFIXES):
            for i, frame in enumerate(video_frames(path, frames_per_clip)):
                yield f"{path.stem}_f{i:03d}", frame


def load_images(sources: Iterable[str | Path], short: int, frames_per_clip: int = 8,
                holdout: bool = True) -> list[np.ndarray]:
    """Decode every image (and sampled video frames) under ``sources`` at short side ``short``;
    ``holdout`` leaves out the calibration split's photos."""
    return [fit_short_side(rgb, short) for _, rgb in iter_images(sources, frames_per_clip, holdout)]


def cached_images(sources: Sequence[str | Path], short: int, cache_dir: Path | None,
                  frames_per_clip: int = 8, holdout: bool = True) -> list[np.ndarray]:
    """``load_images`` with an on-disk cache keyed by the sources, sizes and split."""
    if cache_dir is None:
        return load_images(sources, short, frames_per_clip, holdout)
    key = repr((sorted(map(str, sources)), short, frames_per_clip, holdout))
    key = hashlib.sha1(key.encode()).hexdigest()
    path = Path(cache_dir) / f"images-{key[:12]}.npz"
    if path.exists():
        with np.load(path) as data:
            return [data[k] for k in sorted(data.files, key=lambda k: int(k[4:]))]
    images = load_images(sources, short, frames_per_clip, holdout)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, *images)
    return images


def to_lab_pair(rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 RGB HxWx3 -> (L [1,H,W], ab [2,H,W])."""
    lab = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    return lab[:1], lab[1:]


class CropDataset(Dataset):
    """Random square crops (with flips and L-only degradations) of in-memory images.

    ``archive_p`` of the samples take their L from a random archive film render of the crop
    (``training.film``) instead of the eye's lightness; their target ab is the photo's own.
    A crop's side is drawn between ``crop`` x 0.8 and the short side, or, with ``min_share``,
    between that share of the short side and all of it: views from the whole picture down to
    a zoomed-in detail, the scales the network meets at inference (where a frame's short side
    is 256, twice the training crop).
    """

    def __init__(self, images: Sequence[np.ndarray], crop: int, degrade_p: float = 0.5,
                 seed: int = 0, archive_p: float = 0.0, min_share: float | None = None) -> None:
        self.images = [img for img in images if min(img.shape[:2]) >= int(crop * 0.8)]
        self.min_share = min_share
        self.crop = crop
        self.degrade_p = degrade_p
        self.archive_p = archive_p
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.images[index]
        h, w = img.shape[:2]
        short = min(h, w)  # random resized crop: a square of 80-100% of the short side
        smallest = int(self.crop * 0.8) if self.min_share is None else int(short * self.min_share)
        side = int(self.rng.integers(min(smallest, short), short + 1))
        y = int(self.rng.integers(0, h - side + 1))
        x = int(self.rng.integers(0, w - side + 1))
        patch = img[y:y + side, x:x + side]
        if side != self.crop:
            patch = cv2.resize(patch, (self.crop, self.crop), interpolation=cv2.INTER_AREA)
        if self.rng.random() < 0.5:
            patch = patch[:, ::-1]
        patch = np.ascontiguousarray(patch)
        lightness, ab = to_lab_pair(patch)
        if self.archive_p > 0 and self.rng.random() < self.archive_p:
            lightness = torch.from_numpy(film_lightness(patch, self.rng))[None]
        if self.degrade_p > 0:
            lightness = torch.from_numpy(degrade(lightness[0].numpy(), self.rng, self.degrade_p))[None]
        return lightness, ab
