/** Small image-processing primitives shared by the measurers (separable Gaussian, sampling). */

/** Normalised 1-D Gaussian kernel, radius ceil(3 sigma). sigma <= 0 gives the identity. */
export function gaussianKernel(sigma: number): Float64Array {
  if (sigma <= 0) return Float64Array.of(1);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/**
 * Separable Gaussian blur of an interleaved multi-channel float image, edges clamped (replicated), so a
 * flat border stays flat instead of darkening. `sigmaY` defaults to `sigma` (isotropic).
 */
export function blurInterleaved(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  sigma: number,
  sigmaY: number = sigma,
): Float32Array {
  const tmp = blurAxis(data, width, height, channels, sigma, 1);
  return blurAxis(tmp, width, height, channels, sigmaY, 0);
}

/** One 1-D Gaussian pass along x (horizontal = 1) or y (horizontal = 0). */
function blurAxis(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  sigma: number,
  horizontal: 0 | 1,
): Float32Array {
  if (sigma <= 0) return Float32Array.from(data);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const xx = horizontal ? Math.min(width - 1, Math.max(0, x + i)) : x;
          const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + i));
          s += (k[i + r] as number) * (data[(yy * width + xx) * channels + c] as number);
        }
        out[(y * width + x) * channels + c] = s;
      }
    }
  }
  return out;
}

/** Bilinear sample of a single-channel plane at continuous pixel-index coordinates, edges clamped. */
export function bilinear(plane: Float32Array, width: number, height: number, x: number, y: number): number {
  const cx = Math.min(width - 1, Math.max(0, x));
  const cy = Math.min(height - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const p = (xx: number, yy: number): number => plane[yy * width + xx] as number;
  return (1 - fy) * ((1 - fx) * p(x0, y0) + fx * p(x1, y0)) + fy * ((1 - fx) * p(x0, y1) + fx * p(x1, y1));
}

/** Median of a numeric array (copy sorted); NaN for an empty one. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile q in [0,1]; NaN for an empty array. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const pos = Math.min(n - 1, Math.max(0, q * (n - 1)));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return (s[lo] as number) + (pos - lo) * ((s[hi] as number) - (s[lo] as number));
}
