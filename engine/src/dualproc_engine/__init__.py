"""dualproc's tensor engine: generators, judges, visual prompts, the teach loop and the Scenes world.

Importing this package is cheap: every heavy import (torch, transformers, diffusers) happens inside the
function that needs it.
"""

import os

__version__ = "0.1.0"
PROTOCOL_VERSION = 1

# transformers >= 5.25 swaps layers for kernels fetched from the Hugging Face Hub in every `from_pretrained`
# unless told not to, and fails to load any model where the `kernels` package is missing. The engine runs
# offline and computes what its tests check: stock PyTorch layers. A user who wants hub kernels sets
# USE_HUB_KERNELS=YES themselves (kept as given).
os.environ.setdefault("USE_HUB_KERNELS", "NO")
