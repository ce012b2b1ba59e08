import { LineCounter, parseAllDocuments } from 'yaml';

/** One object read from a manifest file, with where it came from for error messages. */
export interface Manifest {
  source: string;
  /** 1-based position among the non-empty documents of the source. */
  document: number;
  /** 1-based position inside a JSON array, YAML sequence or `kind: List`; absent for a plain document. */
  item?: number;
  /** The line the document starts on. */
  line: number;
  object: ManifestObject;
}

export interface ManifestObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; [field: string]: unknown };
  [field: string]: unknown;
}

/** A document that could not be read: bad YAML/JSON, or not an object. */
export class ManifestError extends Error {
  constructor(
    readonly source: string,
    readonly document: number,
    readonly line: number,
    detail: string,
  ) {
    super(`${source}: document ${document} (line ${line}): ${detail}`);
    this.name = 'ManifestError';
  }
}

export type ManifestEntry = { manifest: Manifest; error?: undefined } | { manifest?: undefined; error: ManifestError };

/** `application.shoal.io/web (file.yaml, document 2)`-style locator used in messages. */
export function describeLocation(manifest: Pick<Manifest, 'source' | 'document' | 'item'>): string {
  const item = manifest.item === undefined ? '' : `, item ${manifest.item}`;
  return `${manifest.source}, document ${manifest.document}${item}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? `the string "${value.slice(0, 40)}"` : `a ${typeof value}`;
}

/** A kubectl-style `kind: List` (or `FooList`) wrapper whose items are the real objects. */
function isListWrapper(value: Record<string, unknown>): value is { items: unknown[] } {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

/**
 * Reads every object from a YAML or JSON text: several `---`-separated documents, JSON
 * arrays / YAML sequences and `kind: List` wrappers are flattened. A bad document becomes
 * an error entry naming its index and line; the other documents are still returned, so
 * `apply` can carry on with them.
 */
export function parseManifests(text: string, source: string): ManifestEntry[] {
  const lineCounter = new LineCounter();
  const entries: ManifestEntry[] = [];
  let document = 0;
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    const line = lineCounter.linePos(doc.range[0]).line;
    const [firstError] = doc.errors;
    if (firstError) {
      // yaml's message is "<what> at line L, column C:\n<code frame>"; the frame is noise in a CLI error.
      const detail = firstError.message.split('\n')[0]?.replace(/:$/, '') ?? firstError.code;
      entries.push({ error: new ManifestError(source, ++document, line, `invalid YAML: ${detail}`) });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      entries.push({ error: new ManifestError(source, ++document, line, (error as Error).message) });
      continue;
    }
    // Blank documents, comment-only ones and a trailing `---` are not counted: users number what they wrote.
    if (value === null || value === undefined) continue;
    document++;
    const wrapped = Array.isArray(value) ? value : isPlainObject(value) && isListWrapper(value) ? value.items : undefined;
    if (wrapped) {
      wrapped.forEach((item, index) => {
        if (isPlainObject(item)) entries.push({ manifest: { source, document, item: index + 1, line, object: item } });
        else
          entries.push({
            error: new ManifestError(source, document, line, `item ${index + 1} must be an object with apiVersion, kind and metadata, not ${describeType(item)}`),
          });
      });
    } else if (isPlainObject(value)) {
      entries.push({ manifest: { source, document, line, object: value } });
    } else {
      entries.push({
        error: new ManifestError(source, document, line, `expected an object with apiVersion, kind and metadata, not ${describeType(value)}`),
      });
    }
  }
  return entries;
}
