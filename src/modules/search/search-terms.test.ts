// Proves how text becomes search terms: normalisation, word bounds, prefixes, the cap, query limits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "../../errors/app-error.ts";
import { indexTokensOf, maxQueryLength, maxQueryWords, queryTermsOf, wordsOf } from "./search-terms.ts";

describe("search terms", () => {
  it("lower-cases, drops accents, splits on anything but letters and digits, and keeps each word once", () => {
    assert.deepEqual([...wordsOf("Résumé: CAFÉ-crème, café; x 2024 İstanbul ﬁle")], ["resume", "cafe", "creme", "2024", "istanbul", "file"]);
  });

  it("ignores one-character words and cuts long words to 40 characters", () => {
    const long = "a".repeat(39) + "bcdef";
    assert.deepEqual([...wordsOf(`a b ${long}`)], ["a".repeat(39) + "b"]);
  });

  it("indexes each word and its prefixes of three or more characters, namespaced", () => {
    assert.deepEqual(indexTokensOf("Plan ok", 100), ["w:plan", "p:pla", "p:plan", "w:ok"]);
    assert.deepEqual(indexTokensOf("plans plan", 100), ["w:plans", "p:pla", "p:plan", "p:plans", "w:plan"]);
  });

  it("stops at the cap, keeping the earliest words", () => {
    const tokens = indexTokensOf("alpha beta gamma delta", 6);
    assert.equal(tokens.length, 6);
    assert.deepEqual(tokens.slice(0, 4), ["w:alpha", "p:alp", "p:alph", "p:alpha"]);
    assert.equal(indexTokensOf("x".repeat(1000) + " more words here", 3).length, 3);
  });

  it("turns a query into required prefixes (whole words for two letters) and exact words", () => {
    assert.deepEqual(queryTermsOf("Budget  q3"), [{ required: "p:budget", exact: "w:budget" }, { required: "w:q3", exact: "w:q3" }]);
  });

  it("refuses a query without words, with too many words, or too long", () => {
    const refused = (query: string) => assert.throws(() => queryTermsOf(query), (error) => isAppError(error) && error.code === "validation_failed");
    refused("");
    refused("a . - !");
    refused(Array.from({ length: maxQueryWords + 1 }, (_, i) => `word${i}`).join(" "));
    refused("x".repeat(maxQueryLength + 1));
    assert.equal(queryTermsOf(Array.from({ length: maxQueryWords }, (_, i) => `word${i}`).join(" ")).length, maxQueryWords);
    assert.equal(queryTermsOf("same SAME Same").length, 1);
  });
});
