/** A recipe mistake: the message is one line and says what to change. */
export class RecipeError extends Error {
  override name = "RecipeError";
}
