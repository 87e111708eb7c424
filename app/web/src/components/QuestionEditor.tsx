/** One question of the recipe: its text, wanted answer, weight, and visual prompt with its parameters. */
import { useState } from "preact/hooks";
import { MAX_PALETTE_COLORS } from "../../../src/protocol/overlay.js";
import { api, ApiFailure } from "../api.js";
import { PAIRED_KINDS, VISUAL_DEFAULTS, type QuestionDraft, type VisualDraft } from "../recipe-draft.js";
import { VisualPromptCanvas } from "./VisualPromptCanvas.js";

interface Props {
  index: number;
  question: QuestionDraft;
  preview: string | null;
  onChange: (q: QuestionDraft) => void;
  onRemove: (() => void) | null;
}

const KIND_LABELS: Record<keyof typeof VISUAL_DEFAULTS, string> = {
  none: "none",
  horizon: "horizon line",
  palette: "palette colours",
  stroke: "stroke width",
  points: "two points (depth)",
  image: "an image of mine",
  palette_from_image: "palette from an image",
};

export function QuestionEditor({ index, question, preview, onChange, onRemove }: Props) {
  const setVisual = (visual: VisualDraft) => onChange({ ...question, visual });
  const v = question.visual;
  return (
    <fieldset class="question" data-testid={`question-${index}`}>
      <legend>Question {index + 1}</legend>
      <label>
        Question
        <input
          data-testid={`question-text-${index}`}
          value={question.question}
          placeholder="Is the red line aligned with the horizon?"
          onInput={(e) => onChange({ ...question, question: e.currentTarget.value })}
        />
      </label>
      <div class="row">
        <label>
          Wanted answer
          <input
            value={question.answer}
            onInput={(e) => onChange({ ...question, answer: e.currentTarget.value })}
          />
        </label>
        <label>
          Weight
          <input
            type="number"
            min={0}
            step={0.1}
            value={question.weight}
            onInput={(e) => onChange({ ...question, weight: e.currentTarget.valueAsNumber })}
          />
        </label>
        <label>
          Visual prompt
          <select
            data-testid={`visual-kind-${index}`}
            value={v.kind}
            onChange={(e) => {
              const kind = e.currentTarget.value as keyof typeof VISUAL_DEFAULTS;
              setVisual(VISUAL_DEFAULTS[kind]);
            }}
          >
            {Object.entries(KIND_LABELS).map(([kind, label]) => (
              <option key={kind} value={kind}>
                {label}
              </option>
            ))}
            {v.kind === "other" && <option value="other">{String(v.raw.kind)} (edit in YAML)</option>}
          </select>
        </label>
        {onRemove && (
          <button type="button" class="quiet" onClick={onRemove}>
            remove
          </button>
        )}
      </div>
      <label>
        Only for prompts with
        <input
          data-testid={`question-when-${index}`}
          value={question.when}
          placeholder="every prompt; or a template's slot values, e.g. sky: night, sunset"
          onInput={(e) => onChange({ ...question, when: e.currentTarget.value })}
        />
      </label>
      {v.kind !== "none" && v.kind !== "other" && (
        <div class="visual">
          <VisualPromptCanvas image={preview} visual={v} onChange={setVisual} />
          <VisualParameters visual={v} onChange={setVisual} />
        </div>
      )}
      {PAIRED_KINDS.has(v.kind) && (
        <label title="The same question with strips of two of the colours, each darker one with a lighter one, so that one colour alone passes less easily; it helps some palettes and hurts others (0: not asked).">
          Also ask in pairs of colours, each at weight
          <input
            type="number"
            min={0}
            step={0.1}
            data-testid={`pair-weight-${index}`}
            value={question.pairWeight}
            onInput={(e) => onChange({ ...question, pairWeight: e.currentTarget.valueAsNumber || 0 })}
          />
        </label>
      )}
    </fieldset>
  );
}

function VisualParameters({ visual, onChange }: { visual: VisualDraft; onChange: (v: VisualDraft) => void }) {
  const [uploadError, setUploadError] = useState<string | null>(null);
  const upload = async (
    file: File | undefined,
    use: (u: { path: string; url: string; colours: string[] }) => void,
  ) => {
    if (!file) return;
    setUploadError(null);
    try {
      use(await api.upload(file));
    } catch (error) {
      setUploadError(error instanceof ApiFailure ? error.message : String(error));
    }
  };
  const uploadInput = (use: (u: { path: string; url: string; colours: string[] }) => void) => (
    <input
      type="file"
      accept="image/png,image/jpeg"
      data-testid="upload"
      onChange={(e) => void upload(e.currentTarget.files?.[0], use)}
    />
  );
  const error = uploadError && (
    <p class="error" role="alert">
      {uploadError}
    </p>
  );
  switch (visual.kind) {
    case "horizon":
      return (
        <div class="params">
          <label>
            Height from the top: {(100 * visual.y).toFixed(1)}%
            <input
              type="range"
              min={0}
              max={1}
              step={0.005}
              value={visual.y}
              data-testid="horizon-y"
              onInput={(e) => onChange({ ...visual, y: e.currentTarget.valueAsNumber })}
            />
          </label>
        </div>
      );
    case "stroke":
      return (
        <div class="params">
          <label>
            Line width: {visual.width_px} px (at 64 px)
            <input
              type="range"
              min={0.5}
              max={12}
              step={0.5}
              value={visual.width_px}
              onInput={(e) => onChange({ ...visual, width_px: e.currentTarget.valueAsNumber })}
            />
          </label>
        </div>
      );
    case "points":
      return (
        <div class="params">
          <p>
            A at ({visual.a[0].toFixed(2)}, {visual.a[1].toFixed(2)}), B at ({visual.b[0].toFixed(2)},{" "}
            {visual.b[1].toFixed(2)})
          </p>
        </div>
      );
    case "palette":
      return (
        <div class="params">
          <div class="swatches">
            {visual.colors.map((colour, i) => (
              <span key={i} class="swatch">
                <input
                  type="color"
                  value={colour}
                  onInput={(e) =>
                    onChange({
                      ...visual,
                      colors: visual.colors.map((c, j) => (j === i ? e.currentTarget.value : c)),
                    })
                  }
                />
                {visual.colors.length > 1 && (
                  <button
                    type="button"
                    class="quiet"
                    onClick={() => onChange({ ...visual, colors: visual.colors.filter((_, j) => j !== i) })}
                  >
                    ×
                  </button>
                )}
              </span>
            ))}
            {visual.colors.length < MAX_PALETTE_COLORS && (
              <button
                type="button"
                class="quiet"
                onClick={() => onChange({ ...visual, colors: [...visual.colors, "#808080"] })}
              >
                + colour
              </button>
            )}
          </div>
          <label>
            Or take the colours of a picture {uploadInput((u) => onChange({ ...visual, colors: u.colours }))}
          </label>
          {error}
        </div>
      );
    case "image":
    case "palette_from_image":
      return (
        <div class="params">
          <label>
            Picture (PNG or JPEG) {uploadInput((u) => onChange({ ...visual, path: u.path, url: u.url }))}
          </label>
          {visual.path && <p class="muted">{visual.path}</p>}
          {error}
        </div>
      );
    default:
      return null;
  }
}
