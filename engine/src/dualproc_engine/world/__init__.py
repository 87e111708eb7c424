"""The Scenes world: procedural landscapes and line art whose every attribute is known exactly.

Modules, one concept each:
- `attributes`: a scene's ground truth, exactly as docs/world-contract.md specifies it.
- `scene`: `sample_scenes` / `sample_scene`, attributes drawn from a seed, any of them fixable.
- `layout`: where objects go (ground-plane perspective for landscapes, placement for line art).
- `palettes`: named and random palettes; `colorspace`: sRGB, OKLab, CIELAB, CIEDE2000.
- `coloring`: the colour scheme, which palette colour plays which role under which sky.
- `shapes`: what each kind of object looks like, relative to its box.
- `render`: `render` / `render_full`, batched and vectorised; drawn by `draw_landscape` and
  `draw_lineart` from the primitives in `raster` and the ground patterns in `textures`.
- `captions`: varied captions written from attributes.
- `dataset`: PNGs + attributes.jsonl + a contact sheet on disk (also a command line).

Nothing is imported here, so `import dualproc_engine.world` stays cheap.
"""
