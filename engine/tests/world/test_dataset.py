"""Writing a dataset: PNGs, attributes.jsonl in step with them, a contact sheet, progress and stopping."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from dualproc_engine.world import dataset
from dualproc_engine.world.attributes import SceneAttributes
from dualproc_engine.world.render import render, to_uint8
from dualproc_engine.world.scene import sample_scenes


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Render on one thread: chunks are small, and intra-op threads on a busy machine cost 10-50x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _lines(folder):
    return [json.loads(line) for line in (folder / "attributes.jsonl").read_text().splitlines()]


def test_writes_images_attributes_and_a_contact_sheet(tmp_path):
    progress = []
    count = dataset.write_dataset(
        tmp_path, n=10, seed=4, size_px=64, on_progress=lambda d, t: progress.append((d, t))
    )
    assert count == 10 and progress[-1] == (10, 10)
    lines = _lines(tmp_path)
    assert [line["file"] for line in lines] == [f"{i:06d}.png" for i in range(10)]
    scenes = sample_scenes(4, 10)
    pixels = to_uint8(render(scenes))
    for i, line in enumerate(lines):
        assert list(line)[:3] == ["seed", "index", "file"]
        image = np.asarray(Image.open(tmp_path / line["file"]))
        assert image.shape == (64, 64, 3) and np.array_equal(image, pixels[i])  # PNG is lossless
        back = SceneAttributes.from_dict(line)
        assert back.to_dict() == line and back.seed == scenes[i].seed
        assert all(o["visible_point"] is None or len(o["visible_point"]) == 2 for o in line["objects"])
    assert any(o["visible_point"] is not None for line in lines for o in line["objects"])
    sheet = Image.open(tmp_path / "contact_sheet.png")
    assert sheet.width > 64 * 3 and sheet.height > 64 * 3
    assert not list(tmp_path.glob("*.partial"))


def test_stopping_leaves_a_consistent_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "BATCH", 4)
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 2  # stop before the third batch

    count = dataset.write_dataset(tmp_path, n=20, seed=1, kind="lineart", should_stop=should_stop)
    assert count == 8
    lines = _lines(tmp_path)
    assert len(lines) == 8 and sorted(p.name for p in tmp_path.glob("0*.png")) == [
        line["file"] for line in lines
    ]


def test_fixed_attributes_reach_the_scenes(tmp_path):
    dataset.write_dataset(tmp_path, n=3, seed=2, kind="landscape", sky="night", palette="ocean")
    assert all(line["sky"] == "night" and line["palette"]["name"] == "ocean" for line in _lines(tmp_path))


def test_command_line(tmp_path, capsys):
    assert (
        dataset.main(["--n", "5", "--seed", "3", "--size", "32", "--out", str(tmp_path), "--kind", "lineart"])
        == 0
    )
    lines = _lines(tmp_path)
    assert len(lines) == 5 and all(line["kind"] == "lineart" and line["size_px"] == 32 for line in lines)
    assert "wrote 5 scenes" in capsys.readouterr().out


def test_render_job_draws_counterfactual_twins_with_fixed_attributes(tmp_path):
    import json

    from dualproc_engine.api import render_scenes

    common = {"n": 3, "seed": 5, "size_px": 64, "kind": "landscape"}
    render_scenes(out_dir=str(tmp_path / "base"), **common)
    render_scenes(out_dir=str(tmp_path / "moved"), fixed={"horizon": 0.3}, **common)

    def rows(name):
        return [json.loads(line) for line in (tmp_path / name / "attributes.jsonl").read_text().splitlines()]

    base, moved = rows("base"), rows("moved")
    assert [r["horizon"] for r in moved] == [0.3, 0.3, 0.3]
    assert any(abs(r["horizon"] - 0.3) > 0.05 for r in base)
    assert [(r["sky"], r["palette"]) for r in moved] == [(r["sky"], r["palette"]) for r in base]
    render_scenes(out_dir=str(tmp_path / "night"), fixed={"sky": "night"}, **common)
    night = rows("night")
    assert [r["sky"] for r in night] == ["night"] * 3
    assert [r["horizon"] for r in night] == [r["horizon"] for r in base]  # only the sky set


def test_render_job_refuses_fixed_attributes_the_scenes_cannot_take(tmp_path):
    import pytest

    from dualproc_engine.api import render_scenes
    from dualproc_engine.errors import UserError

    with pytest.raises(UserError, match="fixed horizon needs kind 'landscape'"):
        render_scenes(n=2, seed=1, size_px=64, out_dir=str(tmp_path / "a"), fixed={"horizon": 0.3})
    with pytest.raises(UserError, match="fixed sky needs kind 'landscape'"):
        render_scenes(n=2, seed=1, size_px=64, out_dir=str(tmp_path / "a"), fixed={"sky": "night"})
    with pytest.raises(UserError, match="4 to 6 colours"):
        render_scenes(
            n=2, seed=1, size_px=64, out_dir=str(tmp_path / "b"), fixed={"palette": ["#112233", "#445566"]}
        )


def test_the_readings_job_says_what_each_question_asks_in_the_scenes_world():
    from dualproc_engine.api import read_questions

    readings = read_questions(["Is it night-time?", "Is the horizon high in the image?", "Is it a cat?"])
    assert readings == {
        "readings": [
            {"family": "time_of_day", "variant": "night"},
            {"family": "horizon_band", "variant": "high"},
            None,
        ]
    }
