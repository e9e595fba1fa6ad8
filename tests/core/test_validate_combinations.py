"""Every adapter's ``validate`` answers any combination of request fields with either
nothing or InvalidInput naming a field: never another exception, so no request the
engine would crash on can reach the job table."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from PIL import Image

from takestock.core.catalog import load_catalog
from takestock.core.errors import InvalidInput
from takestock.core.paths import DataPaths
from takestock.core.vendor import GenerationRequest
from takestock.vendors import build_adapters

#: Vendors whose protocol takes an end frame alone (Luma: ``keyframes.frame1`` only).
LAST_FRAME_ALONE = {"luma"}

FIELDS = {
    "image": [None, "IMG", "MISSING"],
    "last_frame": [None, "IMG"],
    "duration_s": [None, 0.0, -5.0, 5.0, 7.5, float("nan"), float("inf"), 1e12],
    "aspect": [None, "16:9", "9:16", "1:1", "99:1", ""],
    "resolution": [None, "360p", "720p", "1080p", "4k", ""],
    "audio": [None, True, False],
    "seed": [None, 0, -1, 2**32, 2**70],
    "negative": ["", "blurry", "x" * 5000],
    "prompt": ["a fox in snow", "", "x" * 6000],
    "extra": [
        {},
        {"cfg_scale": "high"},
        {"cfg_scale": float("nan")},
        {"camera_control": 5},
        {"camera_control": {"type": "simple", "config": {"zoom": "x"}}},
        {"watermark": "yes"},
        {"prompt_optimizer": None},
        {"enhance_prompt": []},
    ],
}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "first.png"
    Image.new("RGB", (1280, 720), (30, 60, 90)).save(path)
    return path


def _requests(image: Path, rng: random.Random, count: int) -> list[GenerationRequest]:
    paths = {"IMG": image, "MISSING": image.parent / "gone.png", None: None}
    out = []
    for _ in range(count):
        # Mostly the first (benign) value, so that requests get past the common checks
        # and reach each vendor's own rules.
        pick = {
            name: values[0] if rng.random() < 0.75 else rng.choice(values)
            for name, values in FIELDS.items()
        }
        out.append(
            GenerationRequest(
                prompt=pick["prompt"],
                negative=pick["negative"],
                image=paths[pick["image"]],
                last_frame=paths[pick["last_frame"]],
                duration_s=pick["duration_s"],
                aspect=pick["aspect"],
                resolution=pick["resolution"],
                audio=pick["audio"],
                seed=pick["seed"],
                extra=pick["extra"],
            )
        )
    return out


def test_validate_refuses_or_accepts_but_never_crashes(tmp_path: Path, image: Path) -> None:
    catalog = load_catalog()
    adapters = build_adapters(catalog, DataPaths(tmp_path).ensure(), {})
    rng = random.Random(11)  # fixed: a failure names the same request every run
    requests = _requests(image, rng, 60)
    # The corner the engine used to crash on, for every model.
    requests.append(GenerationRequest(prompt="a fox", last_frame=image))
    crashes: list[str] = []
    checked = refused = 0
    for vendor_id in adapters:
        adapter = adapters[vendor_id]
        for model in catalog.vendor(vendor_id).models.values():
            for request in requests:
                checked += 1
                try:
                    adapter.validate(request, model)
                except InvalidInput as exc:
                    refused += 1
                    if not exc.field:
                        crashes.append(f"{vendor_id}/{model.id}: refused naming no field")
                except Exception as exc:
                    crashes.append(f"{vendor_id}/{model.id}: {exc!r} for {request}")
                else:
                    alone = request.last_frame is not None and request.image is None
                    if alone and vendor_id not in LAST_FRAME_ALONE:
                        crashes.append(f"{vendor_id}/{model.id}: took a last frame alone")
    print(f"\nvalidate: {checked} requests checked, {refused} refused, {len(crashes)} crashed")
    assert not crashes, "\n".join(crashes[:30])


def test_every_model_refuses_a_last_frame_alone(tmp_path: Path, image: Path) -> None:
    catalog = load_catalog()
    adapters = build_adapters(catalog, DataPaths(tmp_path).ensure(), {})
    for vendor_id, model in itertools.chain.from_iterable(
        ((v, m) for m in catalog.vendor(v).models.values())
        for v in adapters
        if v not in LAST_FRAME_ALONE
    ):
        with pytest.raises(InvalidInput) as refused:
            adapters[vendor_id].validate(GenerationRequest(prompt="x", last_frame=image), model)
        assert refused.value.field == "image", (vendor_id, model.id)
