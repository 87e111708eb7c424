/** An 8-bit sRGB image, row-major, 3 bytes per pixel (R, G, B). */
export type RGBImage = { width: number; height: number; data: Uint8Array };

/** CIELAB triple [L*, a*, b*] (D65 white). */
export type Lab = [number, number, number];

/** A whole image in CIELAB, interleaved L, a, b per pixel (same layout as RGBImage). */
export type LabImage = { width: number; height: number; data: Float32Array };

/** Make an image, checking that the buffer matches the size (a common silent bug). */
export function makeImage(width: number, height: number, data?: Uint8Array): RGBImage {
  const buf = data ?? new Uint8Array(width * height * 3);
  if (buf.length !== width * height * 3) {
    throw new Error(`Expected ${width * height * 3} bytes for ${width}x${height} RGB, got ${buf.length}`);
  }
  return { width, height, data: buf };
}
