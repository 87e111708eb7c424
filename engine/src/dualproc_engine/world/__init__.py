"""The Scenes world: procedural landscapes and line art whose every attribute is known exactly.

Modules, one concept each:
- `palettes`: named and random colour palettes; `colorspace`: sRGB <-> OKLab and CIEDE2000.
- `scene`: a scene's attributes (the contract in docs/world-contract.md) and `sample_scenes`.
- `layout`: where objects go (ground-plane perspective for landscapes, shapes for line art).
- `coloring`: which palette colour plays which role (sky, ground, objects, paper, ink).
- `render`: batched, vectorised rasterisation of scenes to image tensors.
- `captions`: varied captions written from attributes.
- `dataset`: PNGs + attributes.jsonl + a contact sheet on disk.

Nothing is imported here, so `import dualproc_engine.world` stays cheap.
"""
