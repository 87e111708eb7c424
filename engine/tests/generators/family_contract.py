"""What every generator family on a diffusers pipeline must do, written once: a mixin test class (as
diffusers' own `PipelineTesterMixin`) that each family's test module subclasses with its tiny folders, its
generator classes, its stock pipeline call and its LoRA layout.

A family's test module provides two module-scoped fixtures, `folders` (variant -> a saved tiny pipeline
folder) and `pipelines` (variant -> that folder loaded), which `family_fixtures` makes, and a
`Test...Family(GeneratorFamilyContract)` class that fills in the attributes and hooks below. The contract
then checks, for that family: offline loading from its folders and from its presets in the Hugging Face cache
(and the download line when a preset is missing), same seed same image, gradients from the image into every
LoRA parameter and no base weight, gradient checkpointing that changes no gradient, a teach step that
changes only the LoRA and logs no warning, and a saved LoRA that stock `pipe.load_lora_weights` reads and
that our `load_lora` (and, where a family asks, `fuse_lora`) reads to the same images.
`GenerateFilesContract` adds `dualproc generate`'s path: the folder routed to the family's adapter, PNGs
and a grid on disk.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pytest
import torch

from dualproc_engine.errors import ModelMissingError
from dualproc_engine.reporting import LogRecorder
from dualproc_engine.teach import adapters
from dualproc_engine.teach.loop import teach

from .tiny import BrightnessJudge, base_state, hub_snapshot, randomise_lora, sample, save_tiny

CPU = torch.device("cpu")


def family_fixtures(builders: dict[str, Callable[[], Any]], load: Callable[[Path], Any]) -> tuple[Any, Any]:
    """The two module-scoped fixtures the contract asks a family's module for, from a builder of each
    variant's tiny pipeline and the family's folder loader: `folders` (variant -> the pipeline saved in a
    temporary folder) and `pipelines` (variant -> that folder loaded). Assign them to these names:
    `folders, pipelines = family_fixtures(...)`."""

    @pytest.fixture(scope="module")
    def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
        return {
            variant: save_tiny(build(), tmp_path_factory, f"{variant}-tiny")
            for variant, build in builders.items()
        }

    @pytest.fixture(scope="module")
    def pipelines(folders: dict[str, Path]) -> dict[str, Any]:
        return {variant: load(folder) for variant, folder in folders.items()}

    return folders, pipelines


class Preset(NamedTuple):
    """A preset name, the Hub repository it downloads, and which tiny folder stands in for its snapshot."""

    name: str
    repo: str
    variant: str


class GeneratorFamilyContract:
    """Mixin: the contract's tests. A subclass sets the attributes and overrides the hooks it needs."""

    prompt: ClassVar[str]
    side_px: ClassVar[int]
    """The side of the tiny pipelines' images."""
    agreement: ClassVar[float]
    """Max absolute difference (pixels in [0, 1]) between the adapter's images and stock diffusers'."""
    generator_classes: ClassVar[dict[str, type]]
    """Variant -> the adapter class its folder loads as (the first variant is the family's plain one)."""
    presets: ClassVar[tuple[Preset, ...]]
    """The first one is also asked for before it is in the cache."""
    denoiser: ClassVar[str]
    """The attribute holding the model the LoRA goes on: "unet" or "transformer"."""
    lora_prefix: ClassVar[str]
    """The prefix of every key in the saved LoRA file (the pipeline's `save_lora_weights` layout)."""
    lora_target_modules: ClassVar[tuple[str, ...]]
    gradient_variants: ClassVar[tuple[str, ...] | None] = None
    """The variants whose gradients are checked (None: the plain one)."""
    teach_variant: ClassVar[str | None] = None
    """The variant a teach step runs on, its LoRA then loaded by that variant's stock pipeline (None: the
    plain one)."""
    recipe: ClassVar[dict[str, Any]]
    """A one-step teach recipe; its `generator` is the base-model name `fuse_lora` is given."""
    preserve_prompts: ClassVar[list[str] | None] = None
    lora_steps: ClassVar[int]
    """Sampling steps when comparing the saved LoRA's images."""
    checks_fused_lora: ClassVar[bool] = False
    """Whether the saved LoRA is also fused into a fresh generator (`dualproc generate --lora`) and compared
    (about 0.1 s a family)."""

    # --- hooks ----------------------------------------------------------------------------------------
    def new_generator(self, pipe: Any, variant: str) -> Any:
        """A generator on a deep copy of `pipe` (so that generators share no weights)."""
        return self.generator_classes[variant](copy.deepcopy(pipe))

    def stock(self, pipe: Any, gen: Any, seed: int, steps: int) -> torch.Tensor:
        """Stock diffusers' image of `self.prompt` from the noise `gen.make_noise(1, seed)` stands for."""
        raise NotImplementedError

    def stock_pipeline(self, pipe: Any) -> Any:
        """A copy of `pipe` set up to sample as the adapter does."""
        return copy.deepcopy(pipe)

    def base_modules(self, gen: Any) -> dict[str, Any]:
        """Every model of `gen` that holds base weights, by a short name."""
        raise NotImplementedError

    def check_loaded(self, gen: Any, variant: str) -> None:
        """Family-specific checks on a generator loaded from a folder or a preset of `variant`."""

    def check_wrapped_layers(self, wrapped: set[str]) -> None:
        """Family-specific checks on the names of the layers the LoRA wraps."""

    def check_lora_keys(self, keys: list[str]) -> None:
        """Family-specific checks on the keys of the saved LoRA file."""

    @property
    def plain_variant(self) -> str:
        return next(iter(self.generator_classes))

    @property
    def taught_variant(self) -> str:
        return self.teach_variant or self.plain_variant

    # --- fixtures -------------------------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "gradient_variant" in metafunc.fixturenames:
            metafunc.parametrize("gradient_variant", self.gradient_variants or (self.plain_variant,))

    @pytest.fixture
    def make_gen(self, pipelines: dict[str, Any]) -> Any:
        """Fresh generators of the plain variant with identical weights."""
        variant = self.plain_variant
        return lambda: self.new_generator(pipelines[variant], variant)

    @pytest.fixture(scope="class")
    def taught(self, pipelines: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
        """One teach step on a fresh generator: (the generator, the run folder, base weights before, logs)."""
        torch.set_num_threads(1)
        gen = self.new_generator(pipelines[self.taught_variant], self.taught_variant)
        before = base_state(self.base_modules(gen))
        out = tmp_path_factory.mktemp("teach")
        logs = LogRecorder()
        extra = {} if self.preserve_prompts is None else {"preserve_prompts": self.preserve_prompts}
        teach(self.recipe, out, generator=gen, judge=BrightnessJudge(), reporter=logs, **extra)
        return gen, out, before, logs

    # --- loading --------------------------------------------------------------------------------------
    def test_loads_offline_from_its_folders_and_from_its_presets_in_the_cache(
        self, folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        for variant, cls in self.generator_classes.items():
            gen = adapters.load_generator(str(folders[variant]), CPU)
            assert type(gen) is cls
            self.check_loaded(gen, variant)

        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
        missing = self.presets[0]
        with pytest.raises(ModelMissingError, match=f"huggingface-cli download {missing.repo}"):
            adapters.load_generator(missing.name, CPU)
        for preset in self.presets:
            shutil.copytree(folders[preset.variant], hub_snapshot(tmp_path, preset.repo))
            cls = self.generator_classes[preset.variant]
            gen = adapters.load_generator(preset.name, CPU)
            assert type(gen) is cls
            self.check_loaded(gen, preset.variant)
            assert type(adapters.load_generator(preset.repo, CPU)) is cls

    def test_draws_the_size_asked_and_refuses_one_it_cannot(self, folders: dict[str, Path]) -> None:
        """`training.resolution_px` and `dualproc generate --size`: every variant draws twice its native
        side when asked; a side off the VAE's and the denoiser's grid is one line naming what it draws."""
        from dualproc_engine.errors import UserError

        for variant in self.generator_classes:
            gen = adapters.load_generator(str(folders[variant]), CPU, 2 * self.side_px)
            image = sample(gen, self.prompt, 0, 1)
            assert image.shape == (1, 3, 2 * self.side_px, 2 * self.side_px)
            with pytest.raises(UserError, match=r"draws sides that are multiples of \d+ px, not 17"):
                adapters.load_generator(str(folders[variant]), CPU, 17)

    def test_same_seed_same_image(self, make_gen: Any) -> None:
        gen = make_gen()
        a, b, c = (sample(gen, self.prompt, seed, 1) for seed in (3, 3, 4))
        assert a.shape == (1, 3, self.side_px, self.side_px) and a.min() >= 0 and a.max() <= 1
        assert torch.equal(a, b) and not torch.equal(a, c)

    # --- training -------------------------------------------------------------------------------------
    def test_gradients_from_the_image_reach_every_lora_parameter_and_no_base_weight(
        self, pipelines: dict[str, Any], gradient_variant: str
    ) -> None:
        gen = self.new_generator(pipelines[gradient_variant], gradient_variant)
        gen.add_lora(lora_rank=4, lora_alpha=4)
        randomise_lora(gen, 1)
        denoiser = getattr(gen, self.denoiser)
        wrapped = {n.rsplit(".lora_", 1)[0] for n, _ in denoiser.named_parameters() if ".lora_" in n}
        targets = set(self.lora_target_modules)
        assert {t for t in targets if any(n.endswith("." + t) for n in wrapped)} == targets
        self.check_wrapped_layers(wrapped)
        image = gen.sample(gen.encode_prompt([self.prompt]), gen.make_noise(1, 0), 2, grad_steps=[1])
        weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(2))
        (image * weights).sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.lora_parameters())
        for module in self.base_modules(gen).values():
            assert all(p.grad is None for n, p in module.named_parameters() if "lora_" not in n)

    def test_gradient_checkpointing_gives_the_same_gradients(
        self, make_gen: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls = [0]
        original = torch.utils.checkpoint.checkpoint

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counting)
        gen = make_gen()
        gen.add_lora(lora_rank=4, lora_alpha=4)
        randomise_lora(gen, 3)
        denoiser = getattr(gen, self.denoiser)
        grads = []
        for enabled in (False, True):
            for p in gen.lora_parameters():
                p.grad = None
            with gen.gradient_checkpointing(enabled):
                assert denoiser.is_gradient_checkpointing == enabled
                embeds, noise = gen.encode_prompt([self.prompt]), gen.make_noise(1, 0)
                image = gen.sample(embeds, noise, 2, grad_steps=[0, 1])
            image.square().mean().backward()
            grads.append([p.grad.clone() for p in gen.lora_parameters()])
        for a, b in zip(*grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
        assert calls[0] > 0  # the denoiser's blocks did run checkpointed
        assert not denoiser.is_gradient_checkpointing  # switched off again afterwards

    def test_a_teach_step_changes_the_lora_and_leaves_base_weights_untouched(self, taught: Any) -> None:
        gen, _, before, logs = taught
        assert [m for level, m in logs.lines if level == "warning"] == []
        lora_b = [p for n, p in getattr(gen, self.denoiser).named_parameters() if "lora_B" in n]
        assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # peft's gaussian init starts B at zero
        after = base_state(self.base_modules(gen))
        assert before.keys() == after.keys()
        assert all(torch.equal(before[k], after[k]) for k in before)

    @pytest.mark.gpu
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
    def test_teach_steps_on_cuda_in_bf16_change_only_the_lora(
        self, folders: dict[str, Path], tmp_path: Path
    ) -> None:
        """The teach loop's GPU path: the generator loaded on CUDA (`pick_device`), two steps under bf16
        autocast with the LoRA in float32; same seed same image there too."""
        device = adapters.pick_device()
        variant = self.taught_variant
        gen = adapters.load_generator(str(folders[variant]), device, self.side_px)
        first, again = (sample(gen, self.prompt, 5, 1) for _ in range(2))
        assert first.device.type == "cuda" and torch.equal(first, again)
        before = base_state(self.base_modules(gen))
        recipe = copy.deepcopy(self.recipe)
        recipe["training"].update(max_train_steps=2, mixed_precision="bf16")
        extra = {} if self.preserve_prompts is None else {"preserve_prompts": self.preserve_prompts}
        summary = teach(
            recipe, tmp_path, generator=gen, judge=BrightnessJudge(), reporter=LogRecorder(), **extra
        )
        assert summary["steps"] == 2 and summary["nan_steps"] == 0
        lora_b = [p for n, p in getattr(gen, self.denoiser).named_parameters() if "lora_B" in n]
        assert lora_b and all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in lora_b)
        assert all(p.abs().sum() > 0 for p in lora_b)
        after = base_state(self.base_modules(gen))
        assert all(torch.equal(before[k], after[k]) for k in before)

    def test_the_saved_lora_loads_in_stock_diffusers_and_changes_its_output(
        self, taught: Any, pipelines: dict[str, Any]
    ) -> None:
        from safetensors.torch import load_file

        from dualproc_engine.generators.generate import fuse_lora

        _, out, _, _ = taught
        keys = list(load_file(str(out / "pytorch_lora_weights.safetensors")))
        assert keys and all(k.startswith(self.lora_prefix + ".") for k in keys)
        self.check_lora_keys(keys)

        variant, steps = self.taught_variant, self.lora_steps
        pipe = self.stock_pipeline(pipelines[variant])
        gen = self.new_generator(pipelines[variant], variant)
        base = self.stock(pipe, gen, 7, steps)
        pipe.load_lora_weights(str(out))
        with_lora = self.stock(pipe, gen, 7, steps)
        assert (with_lora - base).abs().max() > 1e-6

        gen.load_lora(out)  # our loader reads the same file to the same model as stock diffusers
        gen.set_lora_scale(1.0)
        assert (sample(gen, self.prompt, 7, steps) - with_lora).abs().max() < self.agreement

        if self.checks_fused_lora:
            fused = self.new_generator(pipelines[variant], variant)  # `dualproc generate --lora` fuses it in
            fuse_lora(fused, str(out), 1.0, self.recipe["generator"])
            assert (sample(fused, self.prompt, 7, steps) - with_lora).abs().max() < self.agreement


class GenerateFilesContract:
    """Mixin: `dualproc generate`'s entry routes the family's folder to its adapter, as teach does, and
    writes the PNGs and the grid."""

    prompt: ClassVar[str]
    side_px: ClassVar[int]
    generator_classes: ClassVar[dict[str, type]]

    def patch_for_generate(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Whatever `generate_files` needs to draw at the tiny size."""

    def test_generate_files_draws_with_a_tiny_folder(
        self, folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from PIL import Image

        from dualproc_engine.generators import generate

        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        self.patch_for_generate(monkeypatch)
        loaded = []

        def recording(*args: Any, **kwargs: Any) -> Any:
            loaded.append(load(*args, **kwargs))
            return loaded[-1]

        load = generate.load_generator
        monkeypatch.setattr(generate, "load_generator", recording)
        variant, cls = next(iter(self.generator_classes.items()))
        result = generate.generate_files(
            self.prompt, n=2, seed=0, out_dir=str(tmp_path / "out"), generator=str(folders[variant])
        )
        assert [type(gen) for gen in loaded] == [cls]  # the folder went to this family's adapter
        assert result["count"] == 2
        files = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert files == ["000000.png", "000001.png", "grid.png"]
        with Image.open(tmp_path / "out" / "000000.png") as image:
            assert image.size == (self.side_px, self.side_px)
