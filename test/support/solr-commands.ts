/**
 * Reads the Solr JSON update commands pubcat writes (`{`, one `"add":…` or `"delete":…` a line,
 * `}`), keeping every command: JSON.parse of the whole object would keep only the last of each
 * repeated key. Also the field list of VuFind's biblio schema the documents are checked against.
 */
import { readFileSync } from 'node:fs';

export type SolrCommand = { add: { doc: Record<string, unknown> } } | { delete: { id: string } };

export function parseSolrCommands(text: string): SolrCommand[] {
  const lines = text.split('\n').filter((line) => line !== '');
  if (lines[0] !== '{' || lines[lines.length - 1] !== '}') throw new Error(`not a Solr update object: ${text.slice(0, 80)}`);
  return lines.slice(1, -1).map((line, index, all) => {
    const body = index < all.length - 1 ? line.replace(/,$/, '') : line;
    const match = /^"(add|delete)":(\{.*\})$/.exec(body);
    if (match === null) throw new Error(`not an update command: ${line.slice(0, 80)}`);
    return { [match[1]!]: JSON.parse(match[2]!) } as SolrCommand;
  });
}

export interface VufindFields {
  declared: Set<string>;
  dynamicSuffixes: string[];
  copyTargets: Set<string>;
}

export function readVufindFields(): VufindFields {
  const fields: VufindFields = { declared: new Set(), dynamicSuffixes: [], copyTargets: new Set() };
  const text = readFileSync(new URL('../fixtures/vufind-biblio-fields.txt', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    const [kind, first, second] = line.split(' ');
    if (kind === 'field') fields.declared.add(first!);
    if (kind === 'dynamic') fields.dynamicSuffixes.push(first!.slice(1));
    if (kind === 'copyField') fields.copyTargets.add(second!);
  }
  return fields;
}

/** The fields of `doc` that VuFind's core would refuse, or fill a second time from a copyField. */
export function fieldsVufindRefuses(doc: Record<string, unknown>, fields: VufindFields): string[] {
  return Object.keys(doc).filter(
    (field) =>
      fields.copyTargets.has(field) ||
      !(fields.declared.has(field) || fields.dynamicSuffixes.some((suffix) => field.endsWith(suffix) && field.length > suffix.length)),
  );
}
