/**
 * Human review: the training judge's answers on held-out images, for a person to mark right or wrong.
 * Marks are saved as they are clicked (review.json in the run folder) and summarised in the run's report.
 */
import { useEffect, useState } from "preact/hooks";
import type { ReviewItem } from "../../../src/protocol/studio.js";
import { api, ApiFailure } from "../api.js";
import { Overlay } from "../components/VisualPromptCanvas.js";
import { visualDraft } from "../recipe-draft.js";
import { onLink } from "../router.js";

export function ReviewView({ id }: { id: string }) {
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [judge, setJudge] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.review(id).then(
      (r) => {
        setItems(r.items);
        setJudge(r.judge);
      },
      (e) => setError(e instanceof ApiFailure ? e.message : String(e)),
    );
  }, [id]);
  const mark = (key: string, value: "right" | "wrong" | null) =>
    api.saveReview(id, { [key]: value }).then(
      (r) => setItems(r.items),
      (e) => setError(e instanceof ApiFailure ? e.message : String(e)),
    );
  const back = (
    <a href={`/runs/${id}`} onClick={onLink(`/runs/${id}`)}>
      back to the run
    </a>
  );
  if (!items)
    return (
      <p class={error ? "error" : "muted"}>
        {error ?? "loading…"} {back}
      </p>
    );
  const marked = items.filter((i) => i.mark !== null);
  const wrong = marked.filter((i) => i.mark === "wrong");
  return (
    <section class="review">
      <h1>Review the judge</h1>
      <p>
        {judge}'s answers on held-out images (LoRA off and on). Mark an answer <em>wrong</em> when the judge
        is mistaken about the image. {back}
      </p>
      <p data-testid="review-count">
        {marked.length} of {items.length} checked, {wrong.length} marked wrong.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="cards">
        {items.map((item) => {
          const says = item.probability >= 0.5;
          return (
            <div class={`card ${item.mark ?? ""}`} key={item.key} data-testid="review-item">
              <div class="canvas-box" style={{ width: 128, height: 128 }}>
                <img class="pixelated" src={item.image} alt={item.prompt} width={128} height={128} />
                <svg viewBox="0 0 1 1" preserveAspectRatio="none">
                  <Overlay visual={visualDraft(item.visual_prompt)} />
                </svg>
              </div>
              <p class="small">
                {item.prompt} · seed {item.seed} · scale {item.lora_scale}
              </p>
              <p>{item.question}</p>
              <p>
                Judge: <strong>{says ? item.answer : `not ${item.answer}`}</strong> (P({item.answer}) ={" "}
                {(100 * item.probability).toFixed(0)}%)
              </p>
              <div class="row">
                <button
                  type="button"
                  class={item.mark === "right" ? "chosen" : ""}
                  onClick={() => void mark(item.key, item.mark === "right" ? null : "right")}
                >
                  right
                </button>
                <button
                  type="button"
                  data-testid="mark-wrong"
                  class={item.mark === "wrong" ? "chosen" : ""}
                  onClick={() => void mark(item.key, item.mark === "wrong" ? null : "wrong")}
                >
                  wrong
                </button>
              </div>
            </div>
          );
        })}
      </div>
    </section>
  );
}
