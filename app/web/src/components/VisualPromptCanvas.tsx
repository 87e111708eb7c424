/**
 * A visual prompt drawn over a preview image, editable by hand: drag the horizon line, click to place
 * points A and B. Other kinds are shown as the judge will see them (a palette strip, a stroke sample).
 */
import { useRef, useState } from "preact/hooks";
import type { Point, VisualDraft } from "../recipe-draft.js";

interface Props {
  image: string | null;
  visual: VisualDraft;
  onChange: (visual: VisualDraft) => void;
}

const SIZE_PX = 256;
const clamp01 = (x: number) => Math.min(1, Math.max(0, Math.round(x * 1000) / 1000));

export function VisualPromptCanvas({ image, visual, onChange }: Props) {
  const box = useRef<SVGSVGElement>(null);
  const [dragging, setDragging] = useState(false);
  const [nextPoint, setNextPoint] = useState<"a" | "b">("a");

  const at = (event: PointerEvent): Point => {
    const rect = box.current!.getBoundingClientRect();
    return [
      clamp01((event.clientX - rect.left) / rect.width),
      clamp01((event.clientY - rect.top) / rect.height),
    ];
  };
  const down = (event: PointerEvent) => {
    const [x, y] = at(event);
    if (visual.kind === "horizon") {
      setDragging(true);
      box.current!.setPointerCapture(event.pointerId);
      onChange({ ...visual, y });
    } else if (visual.kind === "points") {
      onChange({ ...visual, [nextPoint]: [x, y] });
      setNextPoint(nextPoint === "a" ? "b" : "a");
    }
  };
  const move = (event: PointerEvent) => {
    if (dragging && visual.kind === "horizon") onChange({ ...visual, y: at(event)[1] });
  };

  const hint =
    visual.kind === "horizon"
      ? "drag the red line to where the horizon should be"
      : visual.kind === "points"
        ? `click to place point ${nextPoint.toUpperCase()}`
        : "";
  return (
    <figure class="canvas">
      <div class="canvas-box" style={{ width: SIZE_PX, height: SIZE_PX }}>
        {image ? (
          <img src={image} alt="preview" width={SIZE_PX} height={SIZE_PX} />
        ) : (
          <div class="canvas-empty">no preview yet</div>
        )}
        <svg
          ref={box}
          data-testid="visual-prompt-canvas"
          viewBox="0 0 1 1"
          preserveAspectRatio="none"
          onPointerDown={down}
          onPointerMove={move}
          onPointerUp={() => setDragging(false)}
        >
          <Overlay visual={visual} />
        </svg>
      </div>
      {hint && <figcaption>{hint}</figcaption>}
    </figure>
  );
}

/** The visual prompt as SVG in a unit square (drawn over an image by the caller). */
export function Overlay({ visual }: { visual: VisualDraft }) {
  switch (visual.kind) {
    case "horizon":
      return <line x1={0} x2={1} y1={visual.y} y2={visual.y} stroke="#ff0000" stroke-width={0.012} />;
    case "points":
      return (
        <g font-size={0.07} font-family="sans-serif" font-weight="bold">
          {(["a", "b"] as const).map((name) => (
            <g key={name}>
              <circle
                cx={visual[name][0]}
                cy={visual[name][1]}
                r={0.03}
                fill={name === "a" ? "#ff0000" : "#0044ff"}
                stroke="#fff"
                stroke-width={0.008}
              />
              <text
                x={visual[name][0] + 0.04}
                y={visual[name][1] + 0.025}
                fill="#fff"
                stroke="#000"
                stroke-width={0.004}
              >
                {name.toUpperCase()}
              </text>
            </g>
          ))}
        </g>
      );
    case "palette":
      return (
        <g>
          {visual.colors.map((colour, i) => (
            <rect
              key={i}
              x={i / visual.colors.length}
              y={0.86}
              width={1 / visual.colors.length}
              height={0.14}
              fill={colour}
            />
          ))}
        </g>
      );
    case "stroke":
      return <line x1={0.1} x2={0.9} y1={0.92} y2={0.92} stroke="#000" stroke-width={visual.width_px / 64} />;
    case "image":
    case "palette_from_image":
      return visual.url ? (
        <image href={visual.url} x={0} y={0} width={1} height={1} opacity={0.5} preserveAspectRatio="none" />
      ) : null;
    default:
      return null;
  }
}
