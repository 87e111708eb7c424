/** A user mistake in a request to the studio: answered with `status` and one line the page shows. */
export class RequestError extends Error {
  override name = "RequestError";

  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 = 400,
  ) {
    super(message);
  }
}
