"""`training.judge_augment`: the training judge sees each image mirrored or with its quadrants shuffled."""

from __future__ import annotations

import random

import torch

from dualproc_engine.teach.views import quadrants_shuffled, random_views


def _labelled(n: int = 1, side: int = 4) -> torch.Tensor:
    """Images whose every pixel value is unique, so any rearrangement shows."""
    return torch.arange(n * 3 * side * side, dtype=torch.float32).reshape(n, 3, side, side)


def test_quadrants_go_where_the_order_says():
    image = torch.zeros(1, 4, 4)
    for q, (r, c) in enumerate([(0, 0), (0, 2), (2, 0), (2, 2)]):
        image[0, r : r + 2, c : c + 2] = q
    out = quadrants_shuffled(image, [3, 2, 1, 0])
    assert out[0, 0, 0] == 3 and out[0, 0, 2] == 2 and out[0, 2, 0] == 1 and out[0, 2, 2] == 0
    assert torch.equal(quadrants_shuffled(image, [0, 1, 2, 3]), image)


def test_views_rearrange_pixels_and_keep_every_one():
    images = _labelled(8)
    views = random_views(images, ["hflip", "vflip", "shuffle"], random.Random(0))
    assert not torch.equal(views, images)
    for view, image in zip(views, images, strict=True):
        assert torch.equal(view.flatten().sort().values, image.flatten().sort().values)


def test_no_augmentation_is_the_images_themselves():
    images = _labelled(2)
    assert random_views(images, [], random.Random(0)) is images


def test_gradient_reaches_every_pixel_once():
    images = _labelled(3).requires_grad_(True)
    random_views(images, ["vflip", "shuffle"], random.Random(1)).sum().backward()
    assert torch.equal(images.grad, torch.ones_like(images))


def test_the_same_random_state_replays_the_same_views():
    images = _labelled(6)
    a = random_views(images, ["hflip", "shuffle"], random.Random(7))
    b = random_views(images, ["hflip", "shuffle"], random.Random(7))
    assert torch.equal(a, b)


def test_a_flip_is_drawn_for_about_half_the_images():
    images = _labelled(400, side=2)
    views = random_views(images, ["vflip"], random.Random(3))
    flipped = sum(not torch.equal(v, i) for v, i in zip(views, images, strict=True))
    assert 150 < flipped < 250


class _RecordingJudge:
    """Records the images the teach loop shows it; 'Yes' follows the mean brightness."""

    def __init__(self):
        self.seen: list[torch.Tensor] = []

    def logprob(self, images, questions, answers):
        self.seen.append(images.detach().clone())
        z = images.mean(dim=(1, 2, 3), keepdim=False)[:, None]
        return torch.nn.functional.logsigmoid(z).expand(-1, len(answers))


def test_teach_shows_the_judge_flipped_views_of_the_same_images(make_generator, tmp_path):
    from conftest import recipe

    from dualproc_engine.teach.loop import teach

    seen = {}
    for augment in ([], ["vflip"]):
        judge = _RecordingJudge()
        r = recipe(max_train_steps=1, train_batch_size=8, judge_augment=augment)
        teach(r, tmp_path / "-".join(augment or ["plain"]), generator=make_generator(), judge=judge)
        seen[bool(augment)] = judge.seen[0]  # the first training call: same LoRA, noise and prompts
    plain, views = seen[False], seen[True]
    same = [torch.equal(v, p) for v, p in zip(views, plain, strict=True)]
    flipped = [torch.equal(v, p.flip(-2)) for v, p in zip(views, plain, strict=True)]
    assert all(s or f for s, f in zip(same, flipped, strict=True))
    assert any(f and not s for s, f in zip(same, flipped, strict=True))
