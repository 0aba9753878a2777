// Turning text into search terms, the same way for what is indexed and what is asked: lower-case,
// Unicode-normalised (NFKD, accents dropped, so "Résumé" finds "resume"), words of letters and digits.
import { AppError } from "../../errors/app-error.ts";

export const minWordLength = 2;
export const maxWordLength = 40; // longer words are cut to this, on both sides, so they still match
export const minPrefixLength = 3;
export const maxQueryLength = 200;
export const maxQueryWords = 10;

// Tokens are namespaced: "w:" a whole word, "p:" a prefix of 3+ characters (a word is its own prefix).
const wholeWord = (word: string) => `w:${word}`;
const prefix = (start: string) => `p:${start}`;

function normalise(text: string): string {
  return text.toLowerCase().normalize("NFKD").replace(/\p{Mn}/gu, "").normalize("NFKC");
}

// Distinct words in order of first appearance, each cut to maxWordLength code points.
export function* wordsOf(text: string): Generator<string> {
  const seen = new Set<string>();
  for (const match of normalise(text).matchAll(/[\p{L}\p{N}]+/gu)) {
    const codePoints = Array.from(match[0]);
    if (codePoints.length < minWordLength) continue;
    const word = codePoints.length > maxWordLength ? codePoints.slice(0, maxWordLength).join("") : match[0];
    if (seen.has(word)) continue;
    seen.add(word);
    yield word;
  }
}

// The tokens a text is indexed under: each word, and each of its prefixes of 3+ characters, at most
// `cap` distinct tokens (the earliest words win; the rest of a very long text is not searchable).
export function indexTokensOf(text: string, cap: number): string[] {
  const tokens = new Set<string>();
  for (const word of wordsOf(text)) {
    const codePoints = Array.from(word);
    const wanted = [wholeWord(word)];
    for (let length = minPrefixLength; length <= codePoints.length; length++) wanted.push(prefix(codePoints.slice(0, length).join("")));
    for (const token of wanted) {
      if (tokens.size >= cap) return [...tokens];
      tokens.add(token);
    }
  }
  return [...tokens];
}

// A query word matches a document holding it as a word or as the start of a word (two-letter words:
// whole words only); a document holding the exact word ranks higher.
export type QueryTerm = { required: string; exact: string };

export function queryTermsOf(query: string): QueryTerm[] {
  if (query.length > maxQueryLength) throw new AppError("validation_failed", `the search is longer than ${maxQueryLength} characters`);
  const terms: QueryTerm[] = [];
  for (const word of wordsOf(query)) {
    if (terms.length === maxQueryWords) throw new AppError("validation_failed", `the search has more than ${maxQueryWords} words`);
    terms.push({ required: Array.from(word).length >= minPrefixLength ? prefix(word) : wholeWord(word), exact: wholeWord(word) });
  }
  if (terms.length === 0) throw new AppError("validation_failed", `the search needs a word of at least ${minWordLength} letters or digits`);
  return terms;
}
