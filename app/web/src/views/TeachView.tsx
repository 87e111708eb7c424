/**
 * Teach a control: start from a shipped recipe or a blank one, write prompts and questions, set each
 * question's visual prompt on a preview, check the recipe (the server's validation, one line), start.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiFailure } from "../api.js";
import { AdvancedTraining } from "../components/AdvancedTraining.js";
import { QuestionEditor } from "../components/QuestionEditor.js";
import { Warnings } from "../components/Warnings.js";
import { navigate } from "../router.js";
import {
  blankDraft,
  draftFromYaml,
  draftYaml,
  firstPrompt,
  type Draft,
  type TrainingDraft,
} from "../recipe-draft.js";

type Library = { name: string; description: string | null; yaml: string }[];
type Check = { ok: true; text: string } | { ok: false; text: string } | null;

const TRAINING_FIELDS: { key: keyof TrainingDraft; label: string; step: number; min: number }[] = [
  { key: "max_train_steps", label: "Steps", step: 1, min: 1 },
  { key: "learning_rate", label: "Learning rate", step: 0.0001, min: 0 },
  { key: "lora_rank", label: "LoRA rank", step: 1, min: 1 },
  { key: "lora_scale", label: "LoRA scale", step: 0.5, min: 0.5 },
  { key: "train_batch_size", label: "Batch", step: 1, min: 1 },
  { key: "resolution_px", label: "Resolution (px)", step: 16, min: 16 },
];

const message = (error: unknown) => (error instanceof ApiFailure ? error.message : String(error));

/** The server's recipe error as a form user reads it: no YAML line numbers, questions counted from 1. */
function formError(text: string): string {
  return text
    .replace(/^recipe:\d+:\d+: /, "")
    .replace(/questions\[(\d+)\](?:\.([\w.[\]]+))?/g, (_, i: string, field?: string) =>
      field ? `question ${Number(i) + 1} (${field})` : `question ${Number(i) + 1}`,
    );
}

export function TeachView() {
  const [draft, setDraft] = useState<Draft>(blankDraft);
  const [yamlText, setYamlText] = useState<string | null>(null); // non-null: the YAML editor is the source
  const [library, setLibrary] = useState<Library>([]);
  const [models, setModels] = useState<{ generators: string[]; judges: string[] }>({
    generators: [],
    judges: [],
  });
  const [preview, setPreview] = useState<string | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [previewWarnings, setPreviewWarnings] = useState<string[]>([]);
  const [check, setCheck] = useState<Check>(null);
  const [evalSeeds, setEvalSeeds] = useState(16);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);

  const recipeYaml = yamlText ?? draftYaml(draft);

  useEffect(() => {
    api.recipes().then(
      (r) => setLibrary(r.recipes),
      (e) => setError(message(e)),
    );
    api.models().then(
      (m) =>
        setModels({
          generators: m.generators.filter((g) => g.present).map((g) => g.name),
          judges: m.judges.filter((j) => j.present).map((j) => j.name),
        }),
      () => undefined, // the embedded defaults still work; the lists just stay short
    );
  }, []);

  // The server checks the recipe as the user types (debounced), with the same one-line errors as the CLI.
  useEffect(() => {
    const timer = setTimeout(() => {
      api.validate(recipeYaml).then(
        (v) =>
          setCheck(
            v.ok
              ? {
                  ok: true,
                  text: `${v.prompts} prompt(s), ${v.questions.length} question(s), ${v.steps} steps`,
                }
              : { ok: false, text: yamlText === null ? formError(v.error) : v.error },
          ),
        (e) => setCheck({ ok: false, text: message(e) }),
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [recipeYaml]);

  const update = (change: Partial<Draft>) => setDraft({ ...draft, ...change });
  const loadRecipe = (name: string) => {
    const entry = library.find((r) => r.name === name);
    if (!entry) return setDraft(blankDraft());
    const parsed = draftFromYaml(entry.yaml);
    if (typeof parsed === "string") setError(parsed);
    else {
      setDraft(parsed);
      setYamlText(null);
    }
  };
  const drawPreview = async () => {
    setPreviewing(true);
    setError(null);
    try {
      const steps = (draft.base.training as { num_inference_steps?: unknown } | undefined)
        ?.num_inference_steps;
      const result = await api.generate({
        num_inference_steps: typeof steps === "number" ? steps : 1,
        prompt: firstPrompt(draft.prompts) || "a landscape",
        n: 1,
        seed: 0,
        generator: draft.generator,
      });
      setPreview(result.images[0] ?? null);
      setPreviewWarnings(result.warnings);
    } catch (e) {
      setError(message(e));
    } finally {
      setPreviewing(false);
    }
  };
  const start = async () => {
    setStarting(true);
    setError(null);
    try {
      const started = await api.start({ recipe_yaml: recipeYaml, eval_seeds: evalSeeds });
      navigate(`/runs/${started.id}`);
    } catch (e) {
      setError(message(e));
    } finally {
      setStarting(false);
    }
  };
  const backToForm = () => {
    const parsed = draftFromYaml(yamlText ?? "");
    if (typeof parsed === "string") return setError(parsed);
    setDraft(parsed);
    setYamlText(null);
  };

  return (
    <section class="teach">
      <h1>Teach a control</h1>
      <div class="row">
        <label>
          Start from
          <select data-testid="recipe-picker" onChange={(e) => loadRecipe(e.currentTarget.value)}>
            <option value="">a new recipe</option>
            {library.map((r) => (
              <option key={r.name} value={r.name} title={r.description ?? ""}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label class="toggle">
          <input
            type="checkbox"
            data-testid="yaml-toggle"
            checked={yamlText !== null}
            onChange={(e) => (e.currentTarget.checked ? setYamlText(draftYaml(draft)) : backToForm())}
          />
          edit as YAML
        </label>
      </div>

      {yamlText !== null ? (
        <textarea
          class="yaml"
          data-testid="yaml-editor"
          rows={28}
          value={yamlText}
          onInput={(e) => setYamlText(e.currentTarget.value)}
        />
      ) : (
        <DraftForm
          draft={draft}
          update={update}
          models={models}
          preview={preview}
          previewing={previewing}
          previewWarnings={previewWarnings}
          onPreview={() => void drawPreview()}
        />
      )}

      <div class="row start">
        <label>
          Held-out seeds per prompt
          <input
            type="number"
            data-testid="eval-seeds"
            min={2}
            max={64}
            value={evalSeeds}
            onInput={(e) => setEvalSeeds(e.currentTarget.valueAsNumber)}
          />
        </label>
        <p class={check?.ok ? "ok" : "error"} data-testid="recipe-check" role="status">
          {check ? (check.ok ? `✓ ${check.text}` : check.text) : "checking…"}
        </p>
        <button
          type="button"
          class="primary"
          data-testid="start"
          disabled={!check?.ok || starting}
          onClick={() => void start()}
        >
          {starting ? "Starting…" : "Start teaching"}
        </button>
      </div>
      {error && (
        <p class="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
    </section>
  );
}

interface FormProps {
  draft: Draft;
  update: (change: Partial<Draft>) => void;
  models: { generators: string[]; judges: string[] };
  preview: string | null;
  previewing: boolean;
  previewWarnings: string[];
  onPreview: () => void;
}

function DraftForm({ draft, update, models, preview, previewing, previewWarnings, onPreview }: FormProps) {
  const modelSelect = (
    label: string,
    value: string,
    options: string[],
    set: (v: string) => void,
    allowNone = false,
    noneLabel = "none",
  ) => (
    <label>
      {label}
      <select value={value} onChange={(e) => set(e.currentTarget.value)}>
        {allowNone && <option value="">{noneLabel}</option>}
        {[...new Set([value, ...options])].filter(Boolean).map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
  const p = draft.prompts;
  return (
    <div class="form">
      <div class="row">
        <label>
          Name
          <input
            data-testid="recipe-name"
            value={draft.name}
            onInput={(e) => update({ name: e.currentTarget.value })}
          />
        </label>
        {modelSelect("Generator", draft.generator, models.generators, (generator) => update({ generator }))}
        {modelSelect("Judge", draft.judge, models.judges, (judge) => update({ judge }))}
        <label title="Judges that teach beside the judge: each answer's log-probability is averaged over all of them">
          Co-judges, comma separated
          <input
            data-testid="co-judges"
            value={draft.co_judges}
            placeholder="none"
            onInput={(e) => update({ co_judges: e.currentTarget.value })}
          />
        </label>
        {modelSelect(
          "Held-out judge",
          draft.heldout_judge,
          models.judges,
          (heldout_judge) => update({ heldout_judge }),
          true,
        )}
      </div>
      <div class="row">
        {p.mode === "list" ? (
          <label class="grow">
            Training prompts, one per line
            <textarea
              data-testid="prompts"
              rows={4}
              value={p.lines}
              onInput={(e) => update({ prompts: { mode: "list", lines: e.currentTarget.value } })}
            />
          </label>
        ) : (
          <div class="grow">
            <label>
              Prompt template ({"{slot}"} placeholders)
              <input
                value={p.template}
                onInput={(e) => update({ prompts: { ...p, template: e.currentTarget.value } })}
              />
            </label>
            <label>
              Slots, one per line: name: value, value, …
              <textarea
                rows={3}
                value={p.slots}
                onInput={(e) => update({ prompts: { ...p, slots: e.currentTarget.value } })}
              />
            </label>
          </div>
        )}
        <label class="grow">
          Held-out prompts for evaluation, one per line
          <textarea
            data-testid="eval-prompts"
            rows={4}
            value={draft.evalPrompts}
            onInput={(e) => update({ evalPrompts: e.currentTarget.value })}
          />
        </label>
      </div>

      <div class="row">
        <button type="button" data-testid="preview" disabled={previewing} onClick={onPreview}>
          {previewing
            ? "Drawing…"
            : preview
              ? "Redraw the preview"
              : "Draw a preview to place visual prompts on"}
        </button>
        <span class="muted">the first training prompt, seed 0, without a LoRA</span>
      </div>
      <Warnings warnings={previewWarnings} testId="preview-warning" />

      {draft.questions.map((q, i) => (
        <QuestionEditor
          key={i}
          index={i}
          question={q}
          preview={preview}
          onChange={(changed) =>
            update({ questions: draft.questions.map((x, j) => (j === i ? changed : x)) })
          }
          onRemove={
            draft.questions.length > 1
              ? () => update({ questions: draft.questions.filter((_, j) => j !== i) })
              : null
          }
        />
      ))}
      {draft.questions.length < 32 && (
        <button
          type="button"
          data-testid="add-question"
          onClick={() =>
            update({
              questions: [
                ...draft.questions,
                { question: "", answer: "Yes", weight: 1, visual: { kind: "none" }, when: "", pairWeight: 0 },
              ],
            })
          }
        >
          + question
        </button>
      )}

      <div class="row">
        <label
          class="grow"
          title="Yes/no questions whose answers each taught image keeps from the untaught image of the same prompt and noise; the evaluation says how often each answer changed"
        >
          Answers to keep, one yes/no question per line (what the control should leave alone)
          <textarea
            data-testid="keep"
            rows={2}
            value={draft.keep}
            placeholder="e.g. Is the horizon low in the image?"
            onInput={(e) => update({ keep: e.currentTarget.value })}
          />
        </label>
        {draft.keep.trim() !== "" &&
          modelSelect(
            "Asked of",
            draft.keep_judge,
            // not the held-out judge: a judge the LoRA is taught against cannot check it
            models.judges.filter((name) => name !== draft.heldout_judge),
            (keep_judge) => update({ keep_judge }),
            true,
            "the training judge",
          )}
      </div>

      <fieldset>
        <legend>Training</legend>
        <div class="row">
          {TRAINING_FIELDS.map(({ key, label, step, min }) => (
            <label key={key}>
              {label}
              <input
                type="number"
                data-testid={`training-${key}`}
                step={step}
                min={min}
                value={draft.training[key]}
                onInput={(e) =>
                  update({ training: { ...draft.training, [key]: e.currentTarget.valueAsNumber } })
                }
              />
            </label>
          ))}
        </div>
        <AdvancedTraining
          training={asTraining(draft.base.training)}
          onChange={(training) => update({ base: { ...draft.base, training } })}
        />
      </fieldset>
    </div>
  );
}

function asTraining(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
