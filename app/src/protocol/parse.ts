/** Parsing at the boundary: every line a worker prints arrives as text and leaves typed or rejected. */
import type { z } from "zod";
import { Event, Request } from "./messages.js";

export type ParsedLine = { ok: true; event: Event } | { ok: false; reason: string; line: string };

/** A worker's stdout line as an event; junk (a stray print) comes back as a reason, never a throw. */
export function parseEventLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: "not JSON", line };
  }
  const parsed = Event.safeParse(value);
  return parsed.success
    ? { ok: true, event: parsed.data }
    : { ok: false, reason: describeIssue(parsed.error), line };
}

export function parseRequest(value: unknown): Request {
  return Request.parse(value);
}

/** The first zod issue as "path: message", one line. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const where = issue.path.length > 0 ? issue.path.join(".") : "(message)";
  return `${where}: ${issue.message}`;
}
