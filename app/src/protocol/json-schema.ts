/** JSON Schema export of the protocol, for the engine and for the drift test. */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { z } from "zod";
import { Event, Request } from "./messages.js";

export const protocolSchemaDir = fileURLToPath(new URL("../../../protocol/schemas/", import.meta.url));

function toSchemaText(schema: z.ZodType, id: string, title: string): string {
  const json = { $id: id, title, ...z.toJSONSchema(schema, { target: "draft-2020-12" }) };
  return JSON.stringify(json, null, 2) + "\n";
}

/** [path, text] of every schema file, exactly as they must be committed. */
export function protocolSchemaFiles(): [string, string][] {
  return [
    [join(protocolSchemaDir, "request.schema.json"), toSchemaText(Request, "dualproc/request", "Request")],
    [join(protocolSchemaDir, "event.schema.json"), toSchemaText(Event, "dualproc/event", "Event")],
  ];
}
