/**
 * Visual prompt specs: the same JSON in recipes, on the command line (`--overlay`), in the protocol and in
 * the engine's `prompts.parse_overlay`. Lengths in px are pixels at a 64 px image, scaled with the image.
 */
import { z } from "zod";

const fraction = z.number().min(0).max(1);
const point = z
  .tuple([fraction, fraction])
  .describe("[x, y] as fractions of the image side, from the top-left.");
export const hexColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, "expected a colour like #aabbcc")
  .describe("An sRGB colour as #rrggbb.");
/** The most swatches a palette visual prompt may have (the engine's `prompts.spec.MAX_COLORS`). */
export const MAX_PALETTE_COLORS = 12;
/** The widest sample stroke, in px at 64 px (the engine's bound; a test keeps the two equal). */
export const MAX_STROKE_PX = 16;

export const overlayMode = z
  .enum(["blend", "paste"])
  .optional()
  .describe("paste (default): draw the prompt opaque; blend: mix it in at 50%, as the paper does.");

export const HorizonOverlay = z.strictObject({
  kind: z.literal("horizon").describe("A red horizontal line across the image."),
  y: fraction.describe("Height of the line as a fraction of the image height from the top."),
  mode: overlayMode,
});
export const PaletteOverlay = z.strictObject({
  kind: z
    .literal("palette")
    .describe("Colour swatches: a strip along the bottom, or small strips tiled over the image."),
  colors: z.array(hexColor).min(1).max(MAX_PALETTE_COLORS).describe("The swatch colours, left to right."),
  layout: z
    .enum(["band", "tiles"])
    .optional()
    .describe(
      "band (default): one strip along the bottom; tiles: a small strip in each cell of a 4 x 4 grid.",
    ),
  mode: overlayMode,
});
export const StrokeOverlay = z.strictObject({
  kind: z.literal("stroke").describe("A sample stroke of the wanted line width along the bottom."),
  width_px: z
    .number()
    .gt(0)
    .max(MAX_STROKE_PX)
    .describe("Stroke width in pixels at 64 px, scaled with the image."),
  mode: overlayMode,
});
export const PointsOverlay = z.strictObject({
  kind: z.literal("points").describe("Two labelled points, A and B."),
  a: point.describe("Where point A goes."),
  b: point.describe("Where point B goes."),
  mode: overlayMode,
});
export const LayoutOverlay = z.strictObject({
  kind: z.literal("layout").describe("An annotated layout: labelled boxes."),
  boxes: z
    .array(
      z.strictObject({
        box: z.tuple([fraction, fraction, fraction, fraction]).describe("[x0, y0, x1, y1] as fractions."),
        label: z
          .string()
          .min(1)
          .max(16)
          .regex(/^[A-Za-z0-9 -]+$/, "letters, digits, spaces and '-' only (what the label font draws)")
          .describe("Short label drawn in the box: up to 16 letters, digits, spaces or '-'."),
      }),
    )
    .min(1)
    .max(16)
    .describe("The boxes of the layout."),
  mode: overlayMode,
});

/** The overlays the engine draws itself. */
export const Overlay = z
  .discriminatedUnion("kind", [HorizonOverlay, PaletteOverlay, StrokeOverlay, PointsOverlay, LayoutOverlay])
  .describe("A visual prompt composited onto the image before the judge sees it.");
export type Overlay = z.infer<typeof Overlay>;
