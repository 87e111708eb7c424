"""A QA set on disk: every record names an existing scene and, with overlays, its composited image."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from dualproc_engine.world.qa_dataset import write_qa_dataset


def test_qa_set_is_consistent_balanced_and_overlaid(tmp_path: Path) -> None:
    counts = write_qa_dataset(
        tmp_path, n=24, seed=5, families=["horizon_line", "sky"], per_scene=2, overlay_images=True
    )
    records = [json.loads(line) for line in (tmp_path / "qa.jsonl").read_text().splitlines()]
    assert counts == {"scenes": 24, "questions": len(records)} and records
    for record in records:
        assert (tmp_path / record["file"]).is_file()
        if record["overlay"] is None:
            assert record["image"] is None
            continue
        scene = np.asarray(Image.open(tmp_path / record["file"]), dtype=np.int16)
        shown = np.asarray(Image.open(tmp_path / record["image"]), dtype=np.int16)
        assert shown.shape == scene.shape
        changed = np.abs(shown - scene).max(axis=2) > 0
        assert 0 < changed.mean() < 0.25  # the visual prompt is there and covers only part of the image
    for family in ("horizon_line", "sky"):
        answers = Counter(r["answer"] for r in records if r["family"] == family)
        assert answers["Yes"] == answers["No"] > 0
