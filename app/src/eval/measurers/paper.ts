/** The paper of line art: its colour (the image's most common colour) and its noise level. */
import type { RGBImage } from "./types.js";

/**
 * Most common colour: the fullest cell of a 16-level-per-channel histogram, refined by a few mean-shift
 * steps (mean of the pixels within 24 units). The refinement matters under noise: near white, clipping
 * at 255 piles noisy pixels into the top cell, and the cell alone would be biased.
 */
export function paperColour(img: RGBImage): [number, number, number] {
  return paperStats(img).colour;
}

/** Paper colour and the per-channel noise standard deviation on the paper (see paperColour). */
export function paperStats(img: RGBImage): { colour: [number, number, number]; noise: number } {
  const counts = new Uint32Array(16 * 16 * 16);
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    counts[((d[i] as number) >> 4) * 256 + ((d[i + 1] as number) >> 4) * 16 + ((d[i + 2] as number) >> 4)]!++;
  }
  let best = 0;
  for (let b = 1; b < counts.length; b++) if ((counts[b] as number) > (counts[best] as number)) best = b;
  let c = [(best >> 8) * 16 + 8, ((best >> 4) & 15) * 16 + 8, (best & 15) * 16 + 8];
  let noise = 0;
  for (let iter = 0; iter < 5; iter++) {
    const sum = [0, 0, 0];
    let sq = 0;
    let n = 0;
    for (let i = 0; i < d.length; i += 3) {
      const r = d[i] as number,
        g = d[i + 1] as number,
        b = d[i + 2] as number;
      if (Math.abs(r - c[0]!) <= 24 && Math.abs(g - c[1]!) <= 24 && Math.abs(b - c[2]!) <= 24) {
        sum[0]! += r;
        sum[1]! += g;
        sum[2]! += b;
        n++;
        sq += (r - c[0]!) ** 2 + (g - c[1]!) ** 2 + (b - c[2]!) ** 2;
      }
    }
    if (n === 0) break;
    c = sum.map((v) => v / n);
    noise = Math.sqrt(sq / (3 * n));
  }
  return { colour: [c[0]!, c[1]!, c[2]!], noise };
}
