/** Finding the sub-schema at a data path, to say which keys or values a field allows. */
import type { z } from "zod";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  items?: z.ZodType[];
  valueType?: z.ZodType;
  values?: unknown[];
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "readonly", "catch"]);

/** Strip optional/default/... wrappers and pick the union member that fits `data`. */
export function unwrap(schema: z.ZodType, data: unknown): z.ZodType {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return unwrap(def.innerType, data);
  if (def.type === "pipe" && def.in) return unwrap(def.in, data);
  if (def.type === "union" && def.options) {
    const chosen = def.options.find((option) => fits(option, data));
    return chosen ? unwrap(chosen, data) : schema;
  }
  return schema;
}

function fits(option: z.ZodType, data: unknown): boolean {
  const inner = unwrap(option, data);
  const def = defOf(inner);
  if (def.type === "object") {
    if (typeof data !== "object" || data === null || Array.isArray(data)) return false;
    // A tagged member fits only when its tag matches.
    const kind = def.shape?.kind ? literalValues(def.shape.kind) : [];
    return kind.length === 0 || kind.includes((data as Record<string, unknown>).kind);
  }
  if (def.type === "array" || def.type === "tuple") return Array.isArray(data);
  return def.type === typeof data;
}

/** The schema at `path` inside `root`, following the data so unions resolve; undefined if lost. */
export function schemaAt(
  root: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
): z.ZodType | undefined {
  let schema = unwrap(root, data);
  let value = data;
  for (const key of path) {
    const def = defOf(schema);
    value =
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    let next: z.ZodType | undefined;
    if (def.type === "object") next = def.shape?.[String(key)];
    else if (def.type === "array") next = def.element;
    else if (def.type === "tuple") next = def.items?.[Number(key)];
    else if (def.type === "record") next = def.valueType;
    if (!next) return undefined;
    schema = unwrap(next, value);
  }
  return schema;
}

export function objectKeys(schema: z.ZodType): string[] {
  const def = defOf(schema);
  return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** Tag values of a discriminated union (e.g. the visual prompt kinds). */
export function unionTags(schema: z.ZodType, tag: string): string[] {
  let def = defOf(schema);
  while (WRAPPERS.has(def.type) && def.innerType) def = defOf(def.innerType);
  if (def.type !== "union" || !def.options) return [];
  return def.options.flatMap((option) => {
    const shape = defOf(unwrap(option, undefined)).shape;
    return shape?.[tag] ? literalValues(shape[tag]).map(String) : [];
  });
}

function literalValues(schema: z.ZodType): unknown[] {
  const def = defOf(schema);
  return def.type === "literal" ? (def.values ?? []) : [];
}

/** The raw (union-preserving) schema at `path`, for listing a union's tags. */
export function rawSchemaAt(
  root: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
): z.ZodType | undefined {
  if (path.length === 0) return root;
  const parent = schemaAt(root, path.slice(0, -1), data);
  if (!parent) return undefined;
  const def = defOf(parent);
  const key = path[path.length - 1]!;
  if (def.type === "object") return def.shape?.[String(key)];
  if (def.type === "array") return def.element;
  return undefined;
}
