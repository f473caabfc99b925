/** `1 PMID`, `2 PMIDs`: a count with its noun, in the plural unless it is one. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
