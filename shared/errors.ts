/**
 * Errors Shoal raises on purpose. Each maps to one Kubernetes `Status` reason, so the
 * API can answer with the right code and a message the user can act on.
 */
export interface FieldCause {
  /** Dotted path of the offending field, e.g. `spec.manifests[0].kind`. */
  field: string;
  message: string;
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate';
}

export class ShoalError extends Error {
  constructor(
    message: string,
    /** The HTTP status code the API answers with. */
    readonly code: number = 500,
    /** The Kubernetes `Status.reason`. */
    readonly reason: string = 'InternalError',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends ShoalError {
  constructor(message: string) {
    super(message, 400, 'BadRequest');
  }
}

export class NotFoundError extends ShoalError {
  constructor(message: string) {
    super(message, 404, 'NotFound');
  }
}

export class MethodNotAllowedError extends ShoalError {
  constructor(
    message: string,
    /** The methods the path does allow, for the `Allow` header. */
    readonly allow: readonly string[],
  ) {
    super(message, 405, 'MethodNotAllowed');
  }
}

export class AlreadyExistsError extends ShoalError {
  constructor(message: string) {
    super(message, 409, 'AlreadyExists');
  }
}

/** Optimistic-concurrency failure: the caller's resourceVersion is stale. */
export class ConflictError extends ShoalError {
  constructor(message: string) {
    super(message, 409, 'Conflict');
  }
}

export class TooLargeError extends ShoalError {
  constructor(message: string) {
    super(message, 413, 'RequestEntityTooLarge');
  }
}

export class UnsupportedMediaTypeError extends ShoalError {
  constructor(message: string) {
    super(message, 415, 'UnsupportedMediaType');
  }
}

export class ValidationError extends ShoalError {
  constructor(
    message: string,
    readonly causes: FieldCause[],
    readonly target?: { kind: string; name?: string },
  ) {
    super(message, 422, 'Invalid');
  }
}
