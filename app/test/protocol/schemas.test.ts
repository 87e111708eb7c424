import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { Event, Request } from "../../src/protocol/messages.js";
import { protocolSchemaFiles } from "../../src/protocol/json-schema.js";
import { parseEventLine } from "../../src/protocol/parse.js";

const examples = fileURLToPath(new URL("../../../protocol/examples/", import.meta.url));
const load = (folder: string) =>
  readdirSync(join(examples, folder))
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ name: f, text: readFileSync(join(examples, folder, f), "utf8") }));
const zodFor = (name: string) => (name.startsWith("request") ? Request : Event);

const ajv = new Ajv2020.default({ strict: false });
const [requestFile, eventFile] = protocolSchemaFiles();
const ajvFor = {
  request: ajv.compile(JSON.parse(readFileSync(requestFile![0], "utf8")) as object),
  event: ajv.compile(JSON.parse(readFileSync(eventFile![0], "utf8")) as object),
};
const ajvValidate = (name: string, value: unknown) =>
  (name.startsWith("request") ? ajvFor.request : ajvFor.event)(value);

describe("protocol schemas", () => {
  it("the committed JSON Schemas are exactly what the zod definitions generate (run `npm run protocol:gen`)", () => {
    for (const [path, text] of protocolSchemaFiles()) expect(readFileSync(path, "utf8")).toBe(text);
  });

  it.each(load("valid"))(
    "valid example $name validates on both schemas and round-trips",
    ({ name, text }) => {
      const value: unknown = JSON.parse(text);
      const parsed = zodFor(name).parse(value);
      expect(JSON.parse(JSON.stringify(parsed))).toEqual(value);
      expect(ajvValidate(name, value)).toBe(true);
    },
  );

  it.each(load("invalid"))("invalid example $name is rejected by both", ({ name, text }) => {
    const value: unknown = JSON.parse(text);
    expect(zodFor(name).safeParse(value).success).toBe(false);
    expect(ajvValidate(name, value)).toBe(false);
  });

  it("turns junk lines into reasons instead of throwing", () => {
    expect(parseEventLine("Loading checkpoint shards: 50%")).toMatchObject({ ok: false, reason: "not JSON" });
    const unknownType = parseEventLine('{"type":"frobnicate"}');
    expect(unknownType.ok).toBe(false);
    const good = parseEventLine('{"type":"log","job":null,"level":"info","message":"hi"}');
    expect(good).toEqual({ ok: true, event: { type: "log", job: null, level: "info", message: "hi" } });
  });
});
