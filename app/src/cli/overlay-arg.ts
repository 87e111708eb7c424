/**
 * `--overlay` on the command line: a short form of the visual prompt specs, e.g. `horizon:0.35`,
 * `palette:#aabbcc,#112233`, `stroke:3`, `points:0.2,0.7,0.8,0.6`, or the spec as JSON.
 */
import { InvalidArgumentError } from "commander";
import { Overlay } from "../protocol/overlay.js";
import { describeIssue } from "../protocol/parse.js";
import { didYouMean } from "../recipes/suggest.js";

export const OVERLAY_FORMS = "horizon:Y, palette:#RRGGBB,..., stroke:WIDTH_PX, points:XA,YA,XB,YB, or JSON";

const SHORT_KINDS = ["horizon", "palette", "stroke", "points"];

export function parseOverlayArg(text: string): Overlay {
  const spec = text.trim().startsWith("{") ? parseJson(text) : shortForm(text);
  const parsed = Overlay.safeParse(spec);
  if (!parsed.success) throw new InvalidArgumentError(describeIssue(parsed.error));
  return parsed.data;
}

function shortForm(text: string): unknown {
  const colon = text.indexOf(":");
  if (colon < 0) throw new InvalidArgumentError(`expected ${OVERLAY_FORMS}`);
  const kind = text.slice(0, colon);
  const values = text
    .slice(colon + 1)
    .split(",")
    .map((v) => v.trim());
  const numbers = values.map(Number);
  switch (kind) {
    case "horizon":
      return { kind, y: numbers[0] };
    case "palette":
      return { kind, colors: values };
    case "stroke":
      return { kind, width_px: numbers[0] };
    case "points":
      if (numbers.length !== 4) throw new InvalidArgumentError("points needs four numbers: XA,YA,XB,YB");
      return { kind, a: numbers.slice(0, 2), b: numbers.slice(2) };
    default:
      throw new InvalidArgumentError(
        `unknown visual prompt '${kind}'${didYouMean(kind, SHORT_KINDS)}; expected ${OVERLAY_FORMS}`,
      );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidArgumentError("the overlay looks like JSON but does not parse");
  }
}
