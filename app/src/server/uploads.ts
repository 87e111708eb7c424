/**
 * Pictures people upload (a palette reference, an image visual prompt): checked to be a PNG or JPEG that
 * decodes and is not too large, then kept under the studio's runs folder as `uploads/<content hash>.<ext>`,
 * the path studio recipes use (their image paths are relative to the runs folder).
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageReadError, readImage } from "../images/read.js";
import { dominantColours } from "../recipes/palette-image.js";

export const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
const MAX_SIDE_PX = 4096;
const PALETTE_COLOURS = 5;

export class UploadError extends Error {
  override name = "UploadError";
}

export interface StoredUpload {
  /** Relative to the runs folder, as recipes written in the studio refer to it. */
  path: string;
  file: string;
  colours: string[];
}

export function storeUpload(root: string, bytes: Uint8Array, originalName: string): StoredUpload {
  if (bytes.length === 0) throw new UploadError(`${originalName}: the file is empty`);
  if (bytes.length > MAX_UPLOAD_BYTES)
    throw new UploadError(
      `${originalName}: ${(bytes.length / 2 ** 20).toFixed(1)} MB is too large (at most ${MAX_UPLOAD_BYTES / 2 ** 20} MB)`,
    );
  const ext = kindOf(bytes);
  if (!ext) throw new UploadError(`${originalName}: not a PNG or JPEG image`);
  const name = `${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${ext}`;
  const dir = join(root, "uploads");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  // Written beside its final name and checked before it is moved there: a bad file never lands.
  const part = file + ".part";
  writeFileSync(part, bytes);
  let colours: string[];
  try {
    colours = checkedColours(part, originalName);
  } catch (error) {
    rmSync(part, { force: true });
    throw error;
  }
  renameSync(part, file);
  return { path: `uploads/${name}`, file, colours };
}

/** The picture's dominant colours, once it has decoded and its size is within bounds. */
function checkedColours(path: string, originalName: string): string[] {
  try {
    const image = readImage(path);
    if (image.width > MAX_SIDE_PX || image.height > MAX_SIDE_PX)
      throw new UploadError(
        `${originalName}: ${image.width}x${image.height} px is too large (at most ${MAX_SIDE_PX} px a side)`,
      );
    return dominantColours(path, PALETTE_COLOURS);
  } catch (error) {
    if (error instanceof ImageReadError)
      throw new UploadError(`${originalName}: ${error.message.replace(/^.*?: /, "")}`);
    throw error;
  }
}

function kindOf(bytes: Uint8Array): "png" | "jpg" | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => bytes[i] === b)) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "jpg";
  return null;
}
