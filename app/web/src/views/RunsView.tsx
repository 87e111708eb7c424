/** Every run in the runs folder (studio and CLI runs alike), newest first; each opens its run view. */
import { useLive } from "../live.js";
import { onLink } from "../router.js";

export function RunsView() {
  const live = useLive();
  if (live.runs.length === 0)
    return (
      <section>
        <h1>Runs</h1>
        <p class="muted">
          No runs yet.{" "}
          <a href="/" onClick={onLink("/")}>
            Teach a control
          </a>
          .
        </p>
      </section>
    );
  return (
    <section>
      <h1>Runs</h1>
      <table class="runs" data-testid="runs-table">
        <thead>
          <tr>
            <th>run</th>
            <th>status</th>
            <th>started</th>
            <th>held-out verdict</th>
          </tr>
        </thead>
        <tbody>
          {live.runs.map((run) => (
            <tr key={run.id}>
              <td>
                <a href={`/runs/${run.id}`} onClick={onLink(`/runs/${run.id}`)}>
                  {run.name}
                </a>
                <div class="muted small">{run.id}</div>
              </td>
              <td>
                <span class={`status ${run.status}`}>{run.status}</span>
                {run.stage !== "done" && run.stage !== "queued" && <span class="muted"> · {run.stage}</span>}
              </td>
              <td>{new Date(run.created_at).toLocaleString()}</td>
              <td>{run.verdict ?? <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
