// The fonts of the final PDF: DejaVu (Sans, Sans Bold, Serif Italic for typed signatures, Sans Mono for
// hashes), embedded as subsets through fontkit. PDF's standard 14 fonts only encode WinAnsi, so names in
// Greek, Cyrillic, Turkish, Polish, Vietnamese… came out as "?"; DejaVu covers those scripts (not CJK:
// characters it has no glyph for are still shown as "?", never as an empty box).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fontkit from "@pdf-lib/fontkit";
import type { PDFDocument, PDFFont } from "pdf-lib";

export type SealFonts = { regular: PDFFont; bold: PDFFont; script: PDFFont; mono: PDFFont };

const files: Record<keyof SealFonts, string> = {
  regular: "DejaVuSans.ttf",
  bold: "DejaVuSans-Bold.ttf",
  script: "DejaVuSerif-Italic.ttf",
  mono: "DejaVuSansMono.ttf",
};

let fontBytes: Promise<Record<keyof SealFonts, Buffer>> | undefined;

function readFonts(): Promise<Record<keyof SealFonts, Buffer>> {
  fontBytes ??= (async () => {
    const directory = join(dirname(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json")), "ttf");
    const entries = await Promise.all(Object.entries(files).map(async ([role, file]) => [role, await readFile(join(directory, file))] as const));
    return Object.fromEntries(entries) as Record<keyof SealFonts, Buffer>;
  })();
  fontBytes.catch(() => (fontBytes = undefined)); // a failed read is tried again next time
  return fontBytes;
}

// Parsing the four fonts took ~10-30 ms of every seal: each font file is parsed once per process. A parsed
// font is only read from afterwards (each document makes its own subset of it).
const parsed = new WeakMap<Uint8Array, ReturnType<typeof fontkit.create>>();
const parsingOnce: typeof fontkit = {
  create(buffer, postscriptName) {
    if (postscriptName !== undefined) return fontkit.create(buffer, postscriptName);
    let font = parsed.get(buffer);
    if (!font) parsed.set(buffer, (font = fontkit.create(buffer)));
    return font;
  },
};

export async function embedSealFonts(pdfDoc: PDFDocument): Promise<SealFonts> {
  const bytes = await readFonts();
  pdfDoc.registerFontkit(parsingOnce);
  const embed = (role: keyof SealFonts) => pdfDoc.embedFont(bytes[role], { subset: true });
  return { regular: await embed("regular"), bold: await embed("bold"), script: await embed("script"), mono: await embed("mono") };
}

const characterSets = new WeakMap<PDFFont, Set<number>>();

/** Whether the font has a glyph for this character (an embedded font draws others as an empty box). */
export function hasGlyph(font: PDFFont, char: string): boolean {
  let set = characterSets.get(font);
  if (!set) characterSets.set(font, (set = new Set(font.getCharacterSet())));
  return set.has(char.codePointAt(0)!);
}
