/**
 * One error base class for everything Sleutel throws on purpose. `status` is the HTTP status,
 * `code` the machine-readable error (JSON `error`), `messageKey` the catalogue key of the text a
 * person sees. `expose` says whether the description may be shown to the caller; unexpected errors
 * never are (they become a generic 500 page without details).
 */
export class SleutelError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageKey: string,
    description?: string,
  ) {
    super(description ?? messageKey);
    this.name = new.target.name;
  }
}

export class BadRequest extends SleutelError {
  constructor(messageKey = 'error.bad_request', description?: string) {
    super(400, 'invalid_request', messageKey, description);
  }
}

export class Forbidden extends SleutelError {
  constructor(messageKey = 'error.forbidden', description?: string) {
    super(403, 'forbidden', messageKey, description);
  }
}

export class NotFound extends SleutelError {
  constructor(messageKey = 'error.not_found', description?: string) {
    super(404, 'not_found', messageKey, description);
  }
}

/** The login this request belongs to is over or was never there (its interaction or progress is gone). */
export class InteractionExpired extends SleutelError {
  constructor() {
    super(400, 'interaction_expired', 'error.session_expired');
  }
}

export class ServiceUnavailable extends SleutelError {
  constructor(description = 'a backing store is unreachable; try again shortly') {
    super(503, 'temporarily_unavailable', 'error.unavailable', description);
  }
}

/** A configuration problem: the message names the variable; the process stops with it. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export class Unauthorized extends SleutelError {
  constructor(description = 'a valid bearer token with scope manage is required') {
    super(401, 'invalid_token', 'error.forbidden', description);
  }
}

export class Conflict extends SleutelError {
  constructor(description: string) {
    super(409, 'conflict', 'error.bad_request', description);
  }
}

export class Unprocessable extends SleutelError {
  constructor(code: string, description: string) {
    super(422, code, 'error.bad_request', description);
  }
}
