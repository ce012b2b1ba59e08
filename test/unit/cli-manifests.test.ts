import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../shared/cli/manifests.ts';

const objects = (text: string) => parseManifests(text, 'app.yaml').map((entry) => entry.manifest?.object ?? entry.error?.message);

describe('parseManifests', () => {
  it('reads every document of a multi-document YAML stream, skipping empty ones', () => {
    // Prepare
    const text = ['---', 'kind: Application', 'metadata: {name: a}', '---', '# only a comment', '---', 'kind: Cluster', 'metadata: {name: b}', '---', ''].join('\n');

    // Act
    const entries = parseManifests(text, 'app.yaml');

    // Assess
    expect(entries.map((entry) => entry.manifest?.object.metadata?.name)).toEqual(['a', 'b']);
    expect(entries.map((entry) => entry.manifest?.document)).toEqual([1, 2]);
    expect(entries[1]?.manifest?.line).toBe(6);
  });

  it('reads JSON, JSON arrays and kind: List wrappers as separate objects', () => {
    expect(objects('{"kind": "Application", "metadata": {"name": "a"}}')).toEqual([{ kind: 'Application', metadata: { name: 'a' } }]);
    expect(objects('[{"kind": "A"}, {"kind": "B"}]')).toEqual([{ kind: 'A' }, { kind: 'B' }]);
    expect(objects('apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n')).toEqual([{ kind: 'A' }, { kind: 'B' }]);

    const [, second] = parseManifests('[{"kind": "A"}, {"kind": "B"}]', 'list.json');
    expect(second?.manifest).toMatchObject({ document: 1, item: 2 });
  });

  it('names the document and line of bad YAML and still returns the other documents', () => {
    // Prepare
    const text = ['kind: A', 'metadata: {name: ok}', '---', 'kind: B', 'metadata: {name: [broken', '---', 'kind: C'].join('\n');

    // Act
    const entries = parseManifests(text, 'app.yaml');

    // Assess
    expect(entries).toHaveLength(3);
    expect(entries[0]?.manifest?.object.kind).toBe('A');
    expect(entries[2]?.manifest?.object.kind).toBe('C');
    const error = entries[1]?.error;
    expect(error).toMatchObject({ source: 'app.yaml', document: 2, line: 3 });
    expect(error?.message).toMatch(/^app\.yaml: document 2 \(line 3\): invalid YAML: .* at line \d+, column \d+$/);
    expect(error?.message).not.toContain('\n');
  });

  it('rejects documents that are not objects, naming what they are', () => {
    const [scalar] = parseManifests('just a string', 'x.yaml');
    expect(scalar?.error?.message).toBe('x.yaml: document 1 (line 1): expected an object with apiVersion, kind and metadata, not the string "just a string"');

    const [, item] = parseManifests('- kind: A\n- 42\n', 'x.yaml');
    expect(item?.error?.message).toContain('item 2 must be an object');
  });

  it('returns nothing for an empty stream', () => {
    expect(parseManifests('', 'empty.yaml')).toEqual([]);
    expect(parseManifests('# nothing\n---\n', 'empty.yaml')).toEqual([]);
  });
});
