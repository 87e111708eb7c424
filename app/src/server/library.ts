/**
 * The shipped recipes (the repository's recipes/ folder) as the studio offers them: each recipe's text
 * with its image paths made absolute, since a studio recipe's relative paths mean the runs folder.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";

export interface LibraryRecipe {
  name: string;
  description: string | null;
  yaml: string;
}

export function libraryRecipes(dir: string): LibraryRecipe[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) => {
      const doc = parseDocument(readFileSync(join(dir, file), "utf8"));
      if (doc.errors.length > 0) return []; // the recipe tests keep the library valid; never break the list
      absolutePaths(doc, dir);
      const name = doc.get("name");
      const description = doc.get("description");
      return [
        {
          name: typeof name === "string" ? name : file.replace(/\.yaml$/, ""),
          description: typeof description === "string" ? description : null,
          yaml: doc.toString({ lineWidth: 110 }),
        },
      ];
    });
}

function absolutePaths(doc: ReturnType<typeof parseDocument>, dir: string): void {
  const questions: unknown = doc.get("questions");
  if (!isSeq(questions)) return;
  questions.items.forEach((_, i) => {
    const prompt: unknown = doc.getIn(["questions", i, "visual_prompt"]);
    const path: unknown = isMap(prompt) ? prompt.get("path") : undefined;
    if (typeof path === "string" && !isAbsolute(path))
      doc.setIn(["questions", i, "visual_prompt", "path"], join(dir, path));
  });
}
