/**
 * NCBI often says "error" with HTTP 200: an HTML page (proxy errors, the "blocked" page), an
 * `<ERROR>` element (`<eFetchResult><ERROR>… Status: Timeout</ERROR>`), or a JSON object with an
 * `error` member. These checks look only at the start of the body, where such answers put it;
 * a complete document is verified afterwards by the reader of each utility.
 */

/** How far into a body an error marker is looked for; error answers are small. */
const HEAD_BYTES = 64 * 1024;

/** A one-line reason if the body is an error answer, else undefined. */
export function checkErrorBody(body: string): string | undefined {
  const head = body.slice(0, HEAD_BYTES);
  const start = head.trimStart().slice(0, 200).toLowerCase();
  if (start === '') return 'empty body';
  if (start.startsWith('<!doctype html') || start.startsWith('<html')) {
    const title = /<title>([^<]{0,200})<\/title>/i.exec(head)?.[1]?.trim();
    return `HTML page instead of XML${title ? `: "${title}"` : ''}`;
  }
  if (start.startsWith('{') && /"error"\s*:/.test(head)) {
    const message = /"error"\s*:\s*"([^"]{0,300})"/.exec(head)?.[1];
    return `JSON error: ${message ?? 'unknown'}`;
  }
  const errorText = /<ERROR>([\s\S]{0,2000}?)<\/ERROR>/.exec(head)?.[1]?.trim();
  // An empty <ERROR/> or <ERROR></ERROR> (espell sends one) is not an error.
  if (errorText) return `NCBI error: ${errorText.replace(/\s+/g, ' ').slice(0, 300)}`;
  return undefined;
}
