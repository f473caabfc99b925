/**
 * Every `--json` output names its keys in snake_case, like the run summary and the database's
 * columns. Commands that report objects built in camelCase pass them through here: keys change,
 * values do not (a Date stays a Date, for JSON.stringify to write as ISO 8601 in UTC).
 */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [snakeCase(key), snakeCaseKeys(entry)]));
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
