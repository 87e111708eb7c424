/** A flat, readable list of the recipe's fields from its JSON Schema: `path  type  (default)  description`. */
type Schema = {
  prefixItems?: Schema[];
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
};

/**
 * `otherDefaults`: defaults that replace the schema's in some cases, by field path, each with the case it
 * holds in (the embedded generator's training settings, generator-defaults.ts).
 */
export function recipeFieldLines(
  schema: unknown,
  otherDefaults: Record<string, { value: unknown; when: string }> = {},
): string[] {
  const lines: string[] = [];
  walk(schema as Schema, "", lines, otherDefaults);
  return lines;
}

function walk(
  schema: Schema,
  path: string,
  lines: string[],
  otherDefaults: Record<string, { value: unknown; when: string }>,
): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const field = path ? `${path}.${key}` : key;
    const other = otherDefaults[field];
    const when = other ? `; ${JSON.stringify(other.value)} ${other.when}` : "";
    const fallback = child.default === undefined ? "" : ` (default ${JSON.stringify(child.default)}${when})`;
    lines.push(
      `${field}  ${typeName(child)}${fallback}  ${child.description ?? describeAlternatives(child)}`,
    );
    for (const object of objectsWithin(child)) {
      const kind = object.properties?.kind?.const;
      walk(
        object,
        kind === undefined ? field : `${field}{kind=${JSON.stringify(kind)}}`,
        lines,
        otherDefaults,
      );
    }
  }
}

function objectsWithin(schema: Schema): Schema[] {
  if (schema.properties) return [schema];
  if (schema.items) return objectsWithin(schema.items);
  return (schema.anyOf ?? schema.oneOf ?? []).flatMap(objectsWithin);
}

function typeName(schema: Schema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join("|");
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.every((s) => s.properties?.kind?.const !== undefined)) {
    return `object{kind=${alternatives.map((s) => String(s.properties!.kind!.const)).join("|")}}`;
  }
  if (alternatives) return alternatives.map(typeName).join(" | ");
  if (schema.prefixItems) return `[${schema.prefixItems.map(typeName).join(", ")}]`;
  if (schema.type === "array") return `${schema.items ? typeName(schema.items) : "any"}[]`;
  return Array.isArray(schema.type) ? schema.type.join("|") : (schema.type ?? "any");
}

function describeAlternatives(schema: Schema): string {
  return (schema.anyOf ?? schema.oneOf ?? [])
    .map((s) => s.description)
    .filter(Boolean)
    .join("; ");
}
