/** Writes ../protocol/schemas/*.schema.json from the zod definitions (the one owner of the protocol). */
import { writeFileSync, mkdirSync } from "node:fs";
import { protocolSchemaFiles, protocolSchemaDir } from "../src/protocol/json-schema.js";

mkdirSync(protocolSchemaDir, { recursive: true });
for (const [path, text] of protocolSchemaFiles()) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
