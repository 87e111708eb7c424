/**
 * Diversity across seeds: the mean absolute pixel difference (0-1) between every two images of one prompt,
 * averaged over prompts. A LoRA that collapses every seed to one picture shows as a fall against the base.
 */
import type { RGBImage } from "./measurers/types.js";

export function meanPixelDistance(a: RGBImage, b: RGBImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error("images of different sizes");
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs((a.data[i] as number) - (b.data[i] as number));
  return sum / a.data.length / 255;
}

/** Pairwise distances within each group (one group per prompt), all pairs of all groups in one list. */
export function pairwiseDistances(groups: readonly (readonly RGBImage[])[]): number[] {
  const out: number[] = [];
  for (const images of groups) {
    for (let i = 0; i < images.length; i++)
      for (let j = i + 1; j < images.length; j++) out.push(meanPixelDistance(images[i]!, images[j]!));
  }
  return out;
}
