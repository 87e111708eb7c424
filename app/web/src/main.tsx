/** The studio's page: a header with the busy state, and the view the address names. */
import { render } from "preact";
import "./style.css";
import { useLive } from "./live.js";
import { onLink, useRoute } from "./router.js";
import { ReviewView } from "./views/ReviewView.js";
import { RunsView } from "./views/RunsView.js";
import { RunView } from "./views/RunView.js";
import { TeachView } from "./views/TeachView.js";

function BusyState() {
  const live = useLive();
  const queued = live.runs.filter((r) => r.status === "queued").length;
  const active = live.runs.find((r) => r.id === live.active);
  if (!live.connected) return <span class="busy offline">reconnecting…</span>;
  if (!active)
    return (
      <span class="busy idle" data-testid="busy">
        idle
      </span>
    );
  const p = active.progress;
  return (
    <a
      class="busy working"
      data-testid="busy"
      href={`/runs/${active.id}`}
      onClick={onLink(`/runs/${active.id}`)}
    >
      training {active.name} ({active.stage}
      {p?.total ? ` ${p.done}/${p.total}` : ""}){queued ? `, ${queued} queued` : ""}
    </a>
  );
}

function App() {
  const route = useRoute();
  return (
    <>
      <header>
        <a class="brand" href="/" onClick={onLink("/")}>
          dualproc studio
        </a>
        <nav>
          <a href="/" onClick={onLink("/")}>
            Teach
          </a>
          <a href="/runs" onClick={onLink("/runs")} data-testid="nav-runs">
            Runs
          </a>
        </nav>
        <BusyState />
      </header>
      <main>
        {route.view === "teach" && <TeachView />}
        {route.view === "runs" && <RunsView />}
        {route.view === "run" && <RunView id={route.id} />}
        {route.view === "review" && <ReviewView id={route.id} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
