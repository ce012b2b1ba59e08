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
  readonly code: number = 500;
  readonly reason: string = 'InternalError';
  constructor(message: string) {
    super(message);
    this.name = 'ShoalError';
  }
}

export class BadRequestError extends ShoalError {
  override readonly code = 400;
  override readonly reason = 'BadRequest';
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export class NotFoundError extends ShoalError {
  override readonly code = 404;
  override readonly reason = 'NotFound';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class MethodNotAllowedError extends ShoalError {
  override readonly code = 405;
  override readonly reason = 'MethodNotAllowed';
  constructor(
    message: string,
    /** The methods the path does allow, for the `Allow` header. */
    readonly allow: readonly string[],
  ) {
    super(message);
    this.name = 'MethodNotAllowedError';
  }
}

export class AlreadyExistsError extends ShoalError {
  override readonly code = 409;
  override readonly reason = 'AlreadyExists';
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyExistsError';
  }
}

/** Optimistic-concurrency failure: the caller's resourceVersion is stale. */
export class ConflictError extends ShoalError {
  override readonly code = 409;
  override readonly reason = 'Conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export class TooLargeError extends ShoalError {
  override readonly code = 413;
  override readonly reason = 'RequestEntityTooLarge';
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}

export class UnsupportedMediaTypeError extends ShoalError {
  override readonly code = 415;
  override readonly reason = 'UnsupportedMediaType';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class ValidationError extends ShoalError {
  override readonly code = 422;
  override readonly reason = 'Invalid';
  constructor(
    message: string,
    readonly causes: FieldCause[],
    readonly target?: { kind: string; name?: string },
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}
