/** Reading PNG and JPEG files into the measurers' RGB arrays (alpha is composited onto white). */
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import type { RGBImage } from "../eval/measurers/types.js";

/** A file that is missing or not a readable PNG/JPEG: a user mistake, reported as one line. */
export class ImageReadError extends Error {
  override name = "ImageReadError";
}

const MAX_PIXELS = 64 * 1024 * 1024;

export function readImage(path: string): RGBImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ImageReadError(`${path}: cannot read the file`);
  }
  const rgba = decode(bytes, path);
  if (rgba.width * rgba.height > MAX_PIXELS) throw new ImageReadError(`${path}: image is too large`);
  return toRGB(rgba);
}

function decode(bytes: Buffer, path: string): { width: number; height: number; data: Uint8Array } {
  const isPng = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) return PNG.sync.read(bytes);
    if (isJpeg) return jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 1024 });
  } catch (error) {
    throw new ImageReadError(`${path}: damaged image (${(error as Error).message})`);
  }
  throw new ImageReadError(`${path}: not a PNG or JPEG file`);
}

/** RGBA -> RGB, compositing transparent pixels onto white as a viewer would show them. */
function toRGB(image: { width: number; height: number; data: Uint8Array }): RGBImage {
  const pixels = image.width * image.height;
  const data = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const alpha = image.data[i * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) {
      data[i * 3 + c] = Math.round(image.data[i * 4 + c]! * alpha + 255 * (1 - alpha));
    }
  }
  return { width: image.width, height: image.height, data };
}
