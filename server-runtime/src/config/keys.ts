/**
 * "Did you mean": the known key a misspelt one most likely meant. Same rule as suggest_key() in config.py.
 */
import { FIELDS } from './schema';

/** Levenshtein distance where swapping two neighbours also costs 1 (HSOT -> HOST is one edit). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([]);
    for (let j = 0; j <= b.length; j++) d[i].push(i * j === 0 ? i + j : 0);
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

// Unknown keys repeat (and are re-checked on every keystroke): remember the answers.
const cache = new Map<string, string | undefined>();

export function suggestKey(key: string): string | undefined {
  if (cache.has(key)) return cache.get(key);
  if (cache.size > 1000) cache.clear();
  const suggestion = computeSuggestion(key);
  cache.set(key, suggestion);
  return suggestion;
}

function computeSuggestion(key: string): string | undefined {
  const upper = key.toUpperCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const { name } of FIELDS) {
    if (upper === name) return name;
    const limit = name.length <= 4 ? 1 : 2;
    if (Math.abs(upper.length - name.length) > limit) continue; // the distance is at least that
    const distance = editDistance(upper, name);
    if (distance <= limit && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  if (best === undefined) {
    // THREADS -> APP_THREADS; but TIMEOUT (four *_TIMEOUT keys) is too far a guess to offer one.
    const affixed = FIELDS.filter((f) => f.name.endsWith('_' + upper) || f.name.startsWith(upper + '_'));
    if (affixed.length === 1) return affixed[0].name;
  }
  return best;
}

/**
 * The choice a wrong enum value most likely meant: the same word in another case (`Combined`), the one choice
 * it starts (`warn` -> warning, from 3 letters), or the one choice a letter away (`comon`, from 4 letters);
 * undefined for a far miss. Same rule as suggest_value() in config.py.
 */
export function suggestValue(value: string, choices: readonly string[]): string | undefined {
  const lower = value.toLowerCase();
  const sameWord = choices.find((c) => c.toLowerCase() === lower);
  if (sameWord !== undefined) return sameWord;
  if (lower.length >= 3) {
    const started = choices.filter((c) => c.startsWith(lower));
    if (started.length === 1) return started[0];
  }
  const close = choices.filter((c) => c.length >= 4 && editDistance(lower, c) <= 1);
  return close.length === 1 ? close[0] : undefined;
}
