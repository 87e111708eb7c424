/**
 * One run, live: its stage and progress, the score curve (the report's own chart, redrawn as metrics
 * arrive), the latest before/after grid, the log, stop; once done, the downloads, the held-out verdict,
 * and a panel to try the LoRA on new prompts with a scale slider.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { RunSummary } from "../../../src/protocol/studio.js";
import { timeLeft } from "../../../src/runs/time-left.js";
import { api, ApiFailure, runFile } from "../api.js";
import { Warnings } from "../components/Warnings.js";
import { runById, useLive } from "../live.js";
import { onLink } from "../router.js";

const message = (error: unknown) => (error instanceof ApiFailure ? error.message : String(error));

export function RunView({ id }: { id: string }) {
  const live = useLive();
  const [fetched, setFetched] = useState<RunSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.run(id).then(setFetched, (e) => setError(message(e)));
  }, [id]);
  const run = runById(live, id) ?? fetched;
  if (!run) return <p class={error ? "error" : "muted"}>{error ?? "loading…"}</p>;
  const running = run.status === "running" || run.status === "queued";
  const logs = live.logs[id] ?? [];
  // A new step or a new grid changes this key, so the chart and the grid are fetched again.
  const version = `${run.progress?.done ?? 0}-${run.metrics.loss ?? ""}-${run.files.latest_grid ?? ""}-${run.stage}`;

  return (
    <section class="run" data-testid="run-view">
      <h1>
        {run.name}{" "}
        <span class={`status ${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </h1>
      <p class="muted">
        {run.id} · {stageText(run)}
      </p>
      <Progress run={run} />
      {running && <StopButton id={id} onError={setError} />}
      {run.resumable && (
        <button
          type="button"
          data-testid="resume"
          onClick={() => void api.resume(id).catch((e) => setError(message(e)))}
        >
          Resume from the last checkpoint
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {run.error && (
        <p class="error" data-testid="run-error">
          {run.error}
        </p>
      )}
      {run.verdict && (
        <p class="verdict" data-testid="verdict">
          <strong>Held-out evaluation:</strong> {run.verdict}
        </p>
      )}

      <div class="panels">
        <figure>
          <img
            data-testid="score-curve"
            src={`/api/runs/${id}/score-curve.svg?v=${version}`}
            alt="score curve"
            width={480}
          />
          <figcaption>
            The training judge's score per question (and the loss) at each step:{" "}
            <Scores metrics={run.metrics} />
          </figcaption>
        </figure>
        {run.files.latest_grid && (
          <figure>
            <img
              class="pixelated"
              data-testid="latest-grid"
              src={`${runFile(id, run.files.latest_grid)}?v=${version}`}
              alt="before and after"
              width={480}
            />
            <figcaption>
              Held-out prompts at {run.files.latest_grid.replace(/^grids\/|\.png$/g, "")}: the top half
              without the LoRA, the bottom half with it (a row per prompt, a column per seed, the same noise
              above and below).
            </figcaption>
          </figure>
        )}
      </div>

      <Downloads run={run} />
      {run.files.lora && !running && <TryPanel run={run} />}
      {run.files.eval_report_html && (
        <p>
          <a href={`/runs/${id}/review`} onClick={onLink(`/runs/${id}/review`)} data-testid="review-link">
            Review the judge's answers
          </a>{" "}
          — mark the ones it got wrong; the marks go into the run's report.
        </p>
      )}
      {logs.length > 0 && (
        <details open={running}>
          <summary>Log</summary>
          <pre class="log" data-testid="log">
            {logs.join("\n")}
          </pre>
        </details>
      )}
    </section>
  );
}

function stageText(run: RunSummary): string {
  switch (run.stage) {
    case "queued":
      return "waiting for the training before it to finish";
    case "teach":
      return "teaching";
    case "eval":
      return "evaluating on held-out prompts and seeds";
    default:
      return run.finished_at ? `finished ${new Date(run.finished_at).toLocaleString()}` : "finished";
  }
}

function Progress({ run }: { run: RunSummary }) {
  // The first count seen of this stage and when: the rate is measured from there (a resumed run starts
  // part-way; a page opened mid-run has not seen the start).
  const first = useRef<{ stage: string; done: number; at: number } | null>(null);
  const p = run.progress;
  if (!p || run.stage === "done") return null;
  if (first.current?.stage !== run.stage) first.current = { stage: run.stage, done: p.done, at: Date.now() };
  const fraction = p.total ? p.done / p.total : null;
  const seconds = (Date.now() - first.current.at) / 1000;
  const rate = seconds > 0 ? (p.done - first.current.done) / seconds : 0;
  const left = p.total && rate > 0 && p.done < p.total ? `, ${timeLeft((p.total - p.done) / rate)} left` : "";
  return (
    <div class="progress" data-testid="progress">
      <progress value={p.done} max={p.total ?? undefined} />
      <span>
        {run.stage}: {p.done}
        {p.total ? ` / ${p.total}` : ""} {p.unit}
        {fraction !== null ? ` (${Math.round(100 * fraction)}%)` : ""}
        {left}
      </span>
    </div>
  );
}

function Scores({ metrics }: { metrics: Record<string, number> }) {
  const shown = Object.entries(metrics).filter(([name]) => name === "loss" || name.startsWith("score"));
  if (shown.length === 0) return <span class="muted">no step yet</span>;
  return (
    <span data-testid="scores">
      {shown.map(([name, value]) => (
        <span key={name} class="metric">
          {name} {value.toFixed(3)}
        </span>
      ))}
    </span>
  );
}

function StopButton({ id, onError }: { id: string; onError: (e: string) => void }) {
  const [stopping, setStopping] = useState(false);
  return (
    <button
      type="button"
      data-testid="stop"
      disabled={stopping}
      onClick={() => {
        setStopping(true);
        api.stop(id).catch((e) => {
          setStopping(false);
          onError(message(e));
        });
      }}
    >
      {stopping ? "Stopping at the next safe point…" : "Stop"}
    </button>
  );
}

function Downloads({ run }: { run: RunSummary }) {
  const { lora, report_md, eval_report_html } = run.files;
  if (!lora && !report_md && !eval_report_html) return null;
  return (
    <p class="downloads">
      {lora && (
        <a data-testid="download-lora" href={runFile(run.id, lora, true)} download>
          Download the LoRA ({lora})
        </a>
      )}
      {report_md && (
        <a href={runFile(run.id, report_md, true)} download>
          report.md
        </a>
      )}
      {eval_report_html && (
        <a
          data-testid="eval-report"
          href={runFile(run.id, eval_report_html)}
          target="_blank"
          rel="noreferrer"
        >
          Evaluation report (HTML)
        </a>
      )}
    </p>
  );
}

function TryPanel({ run }: { run: RunSummary }) {
  const useScale = run.use_scale ?? 1;
  const [prompt, setPrompt] = useState("a sunny landscape with a house");
  const [scale, setScale] = useState(useScale);
  const [seed, setSeed] = useState(0);
  const [grid, setGrid] = useState<{ off: string; on: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);
  const generate = async () => {
    setBusy(true);
    setError(null);
    try {
      const request = { prompt, seed, n: 4, run: run.id };
      const [off, on] = await Promise.all([
        api.generate({ ...request, lora_scale: 0 }),
        api.generate({ ...request, lora_scale: scale }),
      ]);
      setGrid({ off: off.grid, on: on.grid });
      setWarnings([...new Set([...off.warnings, ...on.warnings])]);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset class="try" data-testid="try-panel">
      <legend>Try the LoRA</legend>
      <div class="row">
        <label class="grow">
          Prompt
          <input data-testid="try-prompt" value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
        </label>
        <label>
          Seed
          <input type="number" min={0} value={seed} onInput={(e) => setSeed(e.currentTarget.valueAsNumber)} />
        </label>
        <label>
          Scale {scale.toFixed(2)} (used at {useScale})
          <input
            type="range"
            data-testid="try-scale"
            min={0}
            max={Math.max(2, 2 * useScale)}
            step={0.05}
            value={scale}
            onInput={(e) => setScale(e.currentTarget.valueAsNumber)}
          />
        </label>
        <button
          type="button"
          data-testid="try-generate"
          disabled={busy || !prompt.trim()}
          onClick={() => void generate()}
        >
          {busy ? "Drawing…" : "Draw 4 seeds"}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <Warnings warnings={warnings} testId="try-warning" />
      {grid && (
        <div class="panels">
          <figure>
            <img class="pixelated" src={grid.off} alt="without the LoRA" width={384} />
            <figcaption>without the LoRA</figcaption>
          </figure>
          <figure>
            <img class="pixelated" data-testid="try-result" src={grid.on} alt="with the LoRA" width={384} />
            <figcaption>with the LoRA at scale {scale.toFixed(2)}</figcaption>
          </figure>
        </div>
      )}
    </fieldset>
  );
}
