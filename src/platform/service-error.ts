// An error that answers as App Services did (§8): an HTTP status, an `error_code` and a message, plus any headers
// the answer needs (Retry-After, Connection: close). Every layer that refuses a request throws one; the HTTP layer
// renders it as {error, error_code, link}.

export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Array<[string, string]> = [],
  ) {
    super(message);
  }
}
