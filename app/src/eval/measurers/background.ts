/**
 * Smooth background model for one side of the horizon (sky or ground): per Lab channel a quadratic in
 * the row and linear in the column, fitted by iteratively re-weighted least squares (Tukey's biweight),
 * so that objects standing in front of the sky or on the ground become outliers, not part of the fit,
 * even where they fill whole rows.
 */
import type { LabImage } from "./types.js";

export type BackgroundModel = {
  /** Predicted background Lab at pixel (x, y). */
  at: (x: number, y: number) => [number, number, number];
  /** Robust spread of the residuals (CIE76), i.e. texture plus noise of the background itself. */
  spread: number;
};

const NB = 4; // basis: 1, v, v^2, u (u, v: column and row scaled to [-1, 1])

function basis(x: number, y: number, w: number, h: number): number[] {
  const u = (2 * x) / w - 1;
  const v = (2 * y) / h - 1;
  return [1, v, v * v, u];
}

/** Solve the 4x4 normal equations by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-9) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/** Fit the model to the pixels where `region[i]` is set (at most ~4000 of them, on a stride). */
export function fitBackground(lab: LabImage, region: Uint8Array): BackgroundModel | null {
  const { width: w, height: h } = lab;
  const idx: number[] = [];
  let total = 0;
  for (const r of region) total += r;
  if (total < 8) return null;
  const stride = Math.max(1, Math.floor(total / 4000));
  let seen = 0;
  for (let i = 0; i < w * h; i++) if (region[i] && seen++ % stride === 0) idx.push(i);
  const phi = idx.map((i) => basis((i % w) + 0.5, Math.floor(i / w) + 0.5, w, h));
  const weights = new Float64Array(idx.length).fill(1);
  let coef: number[][] = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  let spread = 0;
  for (let iter = 0; iter < 6; iter++) {
    const next = weightedFit(lab.data, idx, phi, weights);
    if (next === null) break;
    coef = next;
    const res = idx.map((i, k) => residual(lab.data, i, phi[k] as number[], coef));
    spread = Math.max(2, 1.4826 * (Float64Array.from(res).sort()[Math.floor(res.length / 2)] as number));
    // Tukey biweight with c = 4.685 robust sigmas: objects far off the background get weight 0.
    res.forEach((r, k) => {
      const t = r / (4.685 * spread);
      weights[k] = t < 1 ? (1 - t * t) ** 2 : 0;
    });
  }
  return {
    at: (x, y) => {
      const p = basis(x + 0.5, y + 0.5, w, h);
      return [0, 1, 2].map((c) => dot(coef[c] as number[], p)) as [number, number, number];
    },
    spread,
  };
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * Weighted least squares for the three Lab channels at once: the normal matrix depends only on the
 * weights and the basis, so it is summed once and solved against each channel's right-hand side.
 * Null when it is singular.
 */
function weightedFit(
  data: Float32Array,
  idx: number[],
  phi: number[][],
  wts: Float64Array,
): number[][] | null {
  const a = Array.from({ length: NB }, () => new Array<number>(NB).fill(0));
  const b = [0, 1, 2].map(() => new Array<number>(NB).fill(0));
  idx.forEach((i, k) => {
    const p = phi[k] as number[];
    const wk = wts[k] as number;
    for (let r = 0; r < NB; r++) {
      for (let c = 0; c < 3; c++) b[c]![r]! += wk * p[r]! * (data[i * 3 + c] as number);
      for (let s = 0; s < NB; s++) a[r]![s]! += wk * p[r]! * p[s]!;
    }
  });
  // A little ridge keeps the fit defined when the region is one row thick or one colour.
  for (let r = 1; r < NB; r++) a[r]![r]! += 1e-6 * idx.length;
  const coef = b.map((rhs) => solve(a, rhs));
  return coef.every((c) => c !== null) ? coef : null;
}

function residual(data: Float32Array, i: number, p: number[], coef: number[][]): number {
  const dl = (data[i * 3] as number) - dot(coef[0] as number[], p);
  const da = (data[i * 3 + 1] as number) - dot(coef[1] as number[], p);
  const db = (data[i * 3 + 2] as number) - dot(coef[2] as number[], p);
  return Math.sqrt(dl * dl + da * da + db * db);
}
