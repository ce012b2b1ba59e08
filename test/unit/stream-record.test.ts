import type { AttributeValue, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { TerminalReconcileError } from '../../shared/reconcilers/contract.ts';
import { keyFromQueueRecord, keyFromStreamRecord } from '../../shared/reconcilers/runtime.ts';

function streamRecord(keys: Record<string, AttributeValue> | undefined, eventID = 'evt-1'): DynamoDBRecord {
  return { eventID, eventName: 'MODIFY', eventSource: 'aws:dynamodb', dynamodb: keys === undefined ? {} : { Keys: keys } };
}

function queueRecord(body: string, messageId = 'msg-1'): SQSRecord {
  return {
    messageId,
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-central-1:000000000000:requeue',
    awsRegion: 'eu-central-1',
  };
}

describe('keyFromStreamRecord', () => {
  it('reads kind from the partition key and namespace/name from the sort key', () => {
    // Prepare
    const record = streamRecord({ pk: { S: 'Cluster' }, sk: { S: 'team-a/edge-1' } });
    // Act
    const key = keyFromStreamRecord(record);
    // Assess
    expect(key).toEqual({ kind: 'Cluster', namespace: 'team-a', name: 'edge-1' });
  });

  it.each<[string, DynamoDBRecord]>([
    ['no Keys', streamRecord(undefined)],
    ['no dynamodb section', { eventID: 'evt-1' }],
    ['an unknown kind', streamRecord({ pk: { S: 'Pod' }, sk: { S: 'default/x' } })],
    ['a kind in the wrong case', streamRecord({ pk: { S: 'cluster' }, sk: { S: 'default/x' } })],
    ['a numeric partition key', streamRecord({ pk: { N: '1' }, sk: { S: 'default/x' } })],
    ['no sort key', streamRecord({ pk: { S: 'Cluster' } })],
    ['a sort key without a slash', streamRecord({ pk: { S: 'Cluster' }, sk: { S: 'x' } })],
    ['an empty namespace', streamRecord({ pk: { S: 'Cluster' }, sk: { S: '/x' } })],
    ['an empty name', streamRecord({ pk: { S: 'Cluster' }, sk: { S: 'default/' } })],
  ])('refuses a record with %s as terminal, naming the record', (_what, record) => {
    // Prepare: the record (table row)
    // Act
    const read = () => keyFromStreamRecord(record);
    // Assess
    expect(read).toThrow(TerminalReconcileError);
    expect(read).toThrow('stream record evt-1 has no resource key');
  });

  it('says ? for a record without an event ID', () => {
    // Prepare
    const record: DynamoDBRecord = { dynamodb: {} };
    // Act / Assess
    expect(() => keyFromStreamRecord(record)).toThrow('stream record ? has no resource key');
  });
});

describe('keyFromQueueRecord', () => {
  it('reads the key from the JSON body, ignoring other fields', () => {
    // Prepare
    const record = queueRecord(JSON.stringify({ kind: 'Application', namespace: 'default', name: 'web', extra: true }));
    // Act
    const key = keyFromQueueRecord(record);
    // Assess
    expect(key).toEqual({ kind: 'Application', namespace: 'default', name: 'web' });
  });

  it.each([
    ['{}', 'has no resource key'],
    ['{"kind":"Pod","namespace":"default","name":"x"}', 'has no resource key'],
    ['{"kind":"Cluster","name":"x"}', 'has no resource key'],
    ['{"kind":"Cluster","namespace":"default"}', 'has no resource key'],
    ['{"kind":"Cluster","namespace":"","name":"x"}', 'has no resource key'],
    ['null', 'has no resource key'],
    ['"Cluster"', 'has no resource key'],
    ['not json', 'is not JSON'],
    ['', 'is not JSON'],
  ])('refuses the body %j as terminal, naming the message', (body, problem) => {
    // Prepare
    const record = queueRecord(body, 'msg-42');
    // Act
    const read = () => keyFromQueueRecord(record);
    // Assess
    expect(read).toThrow(TerminalReconcileError);
    expect(read).toThrow(`requeue message msg-42 ${problem}`);
  });
});
