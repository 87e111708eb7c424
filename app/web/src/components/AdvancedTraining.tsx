/**
 * The recipe's less common training fields, folded away: drift regularisers, early stopping, and the
 * precision and memory switches that matter for real models on a GPU. They are kept in the draft's base
 * recipe (the form writes them back as they are); an emptied field falls back to the recipe's default.
 */
type Training = Record<string, unknown>;

interface Props {
  training: Training;
  onChange: (training: Training) => void;
}

const NUMBERS: { key: string; label: string; step: number; placeholder: string }[] = [
  { key: "preserve_weight", label: "Keep unrelated prompts (preserve_weight)", step: 1, placeholder: "0" },
  {
    key: "preserve_palette_weight",
    label: "Keep the colours (preserve_palette_weight)",
    step: 1,
    placeholder: "0",
  },
  {
    key: "preserve_layout_weight",
    label: "Keep the layout, free the colours (preserve_layout_weight)",
    step: 1,
    placeholder: "0",
  },
  {
    key: "preserve_diversity_weight",
    label: "Keep the pictures varied (preserve_diversity_weight; batch size 2 or more)",
    step: 1,
    placeholder: "0",
  },
  {
    key: "keep_weight",
    label: "How strongly the answers to keep are kept (keep_weight)",
    step: 0.1,
    placeholder: "1",
  },
  {
    key: "early_stopping_patience",
    label: "Early stopping patience (evaluations)",
    step: 1,
    placeholder: "off",
  },
  { key: "num_inference_steps", label: "Sampling steps", step: 1, placeholder: "1" },
  {
    key: "use_scale",
    label: "Use the taught LoRA at scale (use_scale; less drift below the LoRA scale)",
    step: 0.1,
    placeholder: "the LoRA scale",
  },
];
const CHOICES: { key: string; label: string; options: string[] }[] = [
  { key: "mixed_precision", label: "Mixed precision (GPU)", options: ["no", "bf16", "fp16"] },
  { key: "judge_quantization", label: "Judge quantization (GPU)", options: ["none", "8bit", "4bit"] },
];
/** training.judge_augment: the random views the training judge sees (engine teach/views.py). */
const VIEWS: { name: string; label: string }[] = [
  { name: "hflip", label: "Judge sees mirrored views (left-right)" },
  { name: "vflip", label: "Judge sees mirrored views (top-bottom; not for horizons)" },
  { name: "shuffle", label: "Judge sees shuffled quadrants (palettes only)" },
];
const SWITCHES: { key: string; label: string }[] = [
  { key: "gradient_checkpointing", label: "Gradient checkpointing" },
  { key: "vae_tiling", label: "VAE slicing and tiling" },
  { key: "offload_text_encoders", label: "Text encoders to the CPU after encoding" },
];

export function AdvancedTraining({ training, onChange }: Props) {
  const set = (key: string, value: unknown) => {
    const next = { ...training };
    if (value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const text = (key: string) => {
    const value = training[key];
    return typeof value === "number" || typeof value === "string" ? String(value) : "";
  };
  const views = Array.isArray(training.judge_augment) ? (training.judge_augment as string[]) : [];
  const toggleView = (name: string, on: boolean) => {
    const next = VIEWS.map((v) => v.name).filter((n) => (n === name ? on : views.includes(n)));
    set("judge_augment", next.length ? next : undefined);
  };
  return (
    <details class="advanced" data-testid="advanced-training">
      <summary>Drift, stopping, precision and memory</summary>
      <div class="row">
        {NUMBERS.map(({ key, label, step, placeholder }) => (
          <label key={key}>
            {label}
            <input
              type="number"
              min={0}
              step={step}
              placeholder={placeholder}
              value={text(key)}
              onInput={(e) => {
                const raw = e.currentTarget.value;
                set(key, raw === "" ? undefined : e.currentTarget.valueAsNumber);
              }}
            />
          </label>
        ))}
      </div>
      <div class="row">
        {CHOICES.map(({ key, label, options }) => (
          <label key={key}>
            {label}
            <select value={text(key) || options[0]} onChange={(e) => set(key, e.currentTarget.value)}>
              {options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
        ))}
        <label>
          Judge device (e.g. cuda:1)
          <input
            value={text("judge_device")}
            placeholder="the generator's"
            onInput={(e) => set("judge_device", e.currentTarget.value.trim() || undefined)}
          />
        </label>
      </div>
      <div class="row">
        {SWITCHES.map(({ key, label }) => (
          <label key={key} class="toggle">
            <input
              type="checkbox"
              // gradient_checkpointing may name parts (a list, edited as YAML): on when it names any
              checked={
                training[key] === true ||
                (Array.isArray(training[key]) && (training[key] as unknown[]).length > 0)
              }
              onChange={(e) => set(key, e.currentTarget.checked)}
            />
            {label}
          </label>
        ))}
      </div>
      <div class="row">
        {VIEWS.map(({ name, label }) => (
          <label key={name} class="toggle">
            <input
              type="checkbox"
              checked={views.includes(name)}
              onChange={(e) => toggleView(name, e.currentTarget.checked)}
            />
            {label}
          </label>
        ))}
      </div>
    </details>
  );
}
