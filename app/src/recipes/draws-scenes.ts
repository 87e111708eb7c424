/** Which generators draw the Scenes world (read from the disk, so not in the page's generator-defaults.ts). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SCENES_GENERATOR } from "./generator-defaults.js";

/**
 * Whether `generator` draws the Scenes world: the preset, or a folder holding a Scenes pipeline (a
 * `world train-generator` run's final/, a candidate for the preset). Such a generator gets the embedded
 * training defaults (generator-defaults.ts), and only its evaluation has Scenes renders as its floor
 * (eval-floor.ts).
 */
export function drawsScenes(generator: string): boolean {
  if (generator === SCENES_GENERATOR) return true;
  try {
    const index = JSON.parse(readFileSync(join(generator, "model_index.json"), "utf8")) as unknown;
    return (index as { _class_name?: unknown })._class_name === "ScenesPipeline";
  } catch {
    return false; // a preset or repo id of another family, or no such folder
  }
}
