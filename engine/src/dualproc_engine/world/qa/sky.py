"""sky (day / sunset / night / overcast) and time_of_day (day / evening / night, read from the sky)."""

from __future__ import annotations

import random

from .common import SKY_KINDS, Ask, Scene, ask

TIME_OF_DAY = {"day": "day", "overcast": "day", "sunset": "evening", "night": "night"}


def sky_truth(scene: Scene, sky: str) -> bool | None:
    return scene["sky"] == sky


def time_of_day_truth(scene: Scene, time: str) -> bool | None:
    return TIME_OF_DAY[scene["sky"]] == time


def sample_sky(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    sky = scene["sky"] if want else rng.choice([s for s in SKY_KINDS if s != scene["sky"]])
    return ask(sky_truth(scene, sky), want, variant=sky, params={"sky": sky})


def sample_time_of_day(scene: Scene, rng: random.Random, want: bool) -> Ask | None:
    true_time = TIME_OF_DAY[scene["sky"]]
    times = sorted(set(TIME_OF_DAY.values()))
    time = true_time if want else rng.choice([t for t in times if t != true_time])
    return ask(time_of_day_truth(scene, time), want, variant=time, params={"time": time})
