/** Binary-mask morphology: connected components and Zhang-Suen thinning. */

export type Component = {
  label: number;
  area: number;
  /** Bounding box in pixel indices, inclusive-exclusive: [x0, y0, x1, y1]. */
  box: [number, number, number, number];
};

/** 8-connected components of a mask; labels[i] = component label (1..n) or 0 for background. */
export function labelComponents(
  mask: Uint8Array,
  width: number,
  height: number,
): {
  labels: Int32Array;
  components: Component[];
} {
  const labels = new Int32Array(width * height);
  const components: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = components.length + 1;
    const c: Component = { label, area: 0, box: [width, height, 0, 0] };
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % width;
      const y = (i - x) / width;
      c.area++;
      c.box = [
        Math.min(c.box[0], x),
        Math.min(c.box[1], y),
        Math.max(c.box[2], x + 1),
        Math.max(c.box[3], y + 1),
      ];
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const j = yy * width + xx;
          if (mask[j] && !labels[j]) {
            labels[j] = label;
            stack.push(j);
          }
        }
      }
    }
    components.push(c);
  }
  return { labels, components };
}

/**
 * Zhang & Suen (1984) thinning: peels a binary mask down to an 8-connected one-pixel-wide skeleton that
 * keeps its topology. Pixels on the image border are treated as having background outside.
 */
export function thin(mask: Uint8Array, width: number, height: number): Uint8Array {
  const m = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  const at = (x: number, y: number): number =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : (m[y * width + x] as number);
  const toDelete: number[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      toDelete.length = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!m[y * width + x]) continue;
          // Neighbours P2..P9 clockwise from north.
          const p = [
            at(x, y - 1),
            at(x + 1, y - 1),
            at(x + 1, y),
            at(x + 1, y + 1),
            at(x, y + 1),
            at(x - 1, y + 1),
            at(x - 1, y),
            at(x - 1, y - 1),
          ];
          const b = p.reduce((s, v) => s + v, 0);
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let k = 0; k < 8; k++) if (p[k] === 0 && p[(k + 1) % 8] === 1) a++;
          if (a !== 1) continue;
          const [p2, , p4, , p6, , p8] = p as [
            number,
            number,
            number,
            number,
            number,
            number,
            number,
            number,
          ];
          const ok =
            pass === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0;
          if (ok) toDelete.push(y * width + x);
        }
      }
      for (const i of toDelete) m[i] = 0;
      if (toDelete.length > 0) changed = true;
    }
  }
  return m;
}

/** Number of 8-neighbours set in a mask around pixel (x, y). */
export function neighbourCount(m: Uint8Array, width: number, height: number, x: number, y: number): number {
  let n = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      if (dx === 0 && dy === 0) continue;
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < width && yy < height && m[yy * width + xx]) n++;
    }
  }
  return n;
}
