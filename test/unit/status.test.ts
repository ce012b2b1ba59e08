import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { causesFrom, fieldPath, statusFor, validationError } from '../../shared/api/status.ts';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  ShoalError,
  TooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../shared/errors.ts';

describe('statusFor', () => {
  it.each<[ShoalError, number, string]>([
    [new BadRequestError('bad body'), 400, 'BadRequest'],
    [new NotFoundError('clusters "x" not found'), 404, 'NotFound'],
    [new MethodNotAllowedError('POST is not allowed', ['GET']), 405, 'MethodNotAllowed'],
    [new AlreadyExistsError('exists'), 409, 'AlreadyExists'],
    [new ConflictError('stale resourceVersion'), 409, 'Conflict'],
    [new TooLargeError('too big'), 413, 'RequestEntityTooLarge'],
    [new UnsupportedMediaTypeError('json-patch'), 415, 'UnsupportedMediaType'],
    [new ShoalError('plain shoal error'), 500, 'InternalError'],
  ])('maps %s to %i %s with its message', (error, code, reason) => {
    // Prepare: the error (table row)
    // Act
    const status = statusFor(error);
    // Assess
    expect(status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message: error.message });
  });

  it('carries the kind, name and every cause of a ValidationError', () => {
    // Prepare
    const causes = [
      { field: 'metadata.name', message: 'is required (string)', reason: 'FieldValueRequired' as const },
      { field: 'spec.max', message: 'max must be greater than min', reason: 'FieldValueInvalid' as const },
    ];
    const error = new ValidationError('Metric "m" is invalid', causes, { kind: 'Metric', name: 'm' });
    // Act
    const status = statusFor(error);
    // Assess
    expect(status.code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.details).toEqual({ kind: 'Metric', name: 'm', causes });
  });

  it.each([
    new Error('secret stack detail: password=hunter2'),
    new TypeError("Cannot read properties of undefined (reading 'S')"),
    'a thrown string with a secret',
    { message: 'an object with a secret' },
    undefined,
  ])('answers %j with a generic 500 that leaks neither message nor stack', (thrown) => {
    // Prepare: anything that is not a ShoalError
    // Act
    const status = statusFor(thrown);
    const body = JSON.stringify(status);
    // Assess
    expect(status.code).toBe(500);
    expect(status.reason).toBe('InternalError');
    expect(status.message).toBe('internal error: the request was not completed; it is safe to retry');
    expect(body).not.toMatch(/secret|hunter2|Cannot read|\bat /);
    expect(status.details).toBeUndefined();
  });
});

describe('fieldPath', () => {
  it.each<[PropertyKey[], string, string]>([
    [['spec', 'manifests', 0, 'kind'], '', 'spec.manifests[0].kind'],
    [[0, 'name'], '', '[0].name'],
    [['metadata', 'labels', 'example.com/team'], '', 'metadata.labels.example.com/team'],
    [['state'], 'status', 'status.state'],
    [[2], 'status.conditions', 'status.conditions[2]'],
    [[], 'status', 'status'],
    [[], '', '<root>'],
  ])('%j with prefix %j → %s', (path, prefix, expected) => {
    // Prepare / Act
    const field = fieldPath(path, prefix);
    // Assess
    expect(field).toBe(expected);
  });
});

describe('causesFrom', () => {
  const schema = z.object({
    name: z.string(),
    replicas: z.number().int().positive(),
    mode: z.enum(['fast', 'safe']),
    ports: z.array(z.object({ port: z.number() })),
  });

  it('lists every bad field with its path, message and reason', () => {
    // Prepare
    const input = { replicas: 1.5, mode: 'reckless', ports: [{ port: 80 }, { port: 'http' }] };
    // Act
    const causes = causesFrom(schema.safeParse(input).error!);
    // Assess
    expect(causes).toEqual([
      { field: 'name', message: 'is required (string)', reason: 'FieldValueRequired' },
      { field: 'replicas', message: expect.stringContaining('int'), reason: 'FieldValueInvalid' },
      { field: 'mode', message: expect.stringContaining('"fast"'), reason: 'FieldValueNotSupported' },
      { field: 'ports[1].port', message: 'Invalid input: expected number, received string', reason: 'FieldValueInvalid' },
    ]);
  });

  it('tells a value of the wrong type from a missing one', () => {
    // Prepare
    const input = { name: 42, replicas: 1, mode: 'fast', ports: [] };
    // Act
    const [cause] = causesFrom(schema.safeParse(input).error!);
    // Assess
    expect(cause).toEqual({ field: 'name', message: 'Invalid input: expected string, received number', reason: 'FieldValueInvalid' });
  });

  it('tells them apart also when zod reports the input', () => {
    // Prepare
    const missing = schema.safeParse({ replicas: 1, mode: 'fast', ports: [] }, { reportInput: true });
    const wrong = schema.safeParse({ name: null, replicas: 1, mode: 'fast', ports: [] }, { reportInput: true });
    // Act
    const [missingCause] = causesFrom(missing.error!);
    const [wrongCause] = causesFrom(wrong.error!);
    // Assess
    expect(missingCause?.reason).toBe('FieldValueRequired');
    expect(wrongCause?.reason).toBe('FieldValueInvalid');
  });

  it('prefixes paths', () => {
    // Prepare
    const error = z.object({ state: z.enum(['ONLINE']) }).safeParse({ state: 'ON' }).error!;
    // Act
    const causes = causesFrom(error, 'status');
    // Assess
    expect(causes.map((cause) => cause.field)).toEqual(['status.state']);
  });
});

describe('validationError', () => {
  it('summarises every cause in the message and names the object', () => {
    // Prepare
    const causes = [
      { field: 'metadata.name', message: 'is required (string)', reason: 'FieldValueRequired' as const },
      { field: 'spec.max', message: 'max must be greater than min', reason: 'FieldValueInvalid' as const },
    ];
    // Act
    const error = validationError('Metric', 'load', causes);
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('Metric "load" is invalid: metadata.name: is required (string); spec.max: max must be greater than min');
    expect(error.target).toEqual({ kind: 'Metric', name: 'load' });
    expect(error.causes).toBe(causes);
  });
});
