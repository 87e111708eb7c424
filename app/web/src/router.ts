/** The page's few routes, on the History API: /, /runs, /runs/:id, /runs/:id/review. */
import { useEffect, useState } from "preact/hooks";

export type Route =
  { view: "teach" } | { view: "runs" } | { view: "run"; id: string } | { view: "review"; id: string };

export function routeOf(path: string): Route {
  const run = /^\/runs\/([\w.-]+)(\/review)?\/?$/.exec(path);
  if (run) return run[2] ? { view: "review", id: run[1]! } : { view: "run", id: run[1]! };
  if (/^\/runs\/?$/.test(path)) return { view: "runs" };
  return { view: "teach" };
}

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  history.pushState(null, "", path);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname));
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

/** A link that changes the view without reloading the page. */
export function onLink(path: string) {
  return (event: MouseEvent) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(path);
  };
}
