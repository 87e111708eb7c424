"""dualproc's tensor engine: generators, judges, visual prompts, the teach loop and the Scenes world.

Importing this package is cheap: every heavy import (torch, transformers, diffusers) happens inside the
function that needs it.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
