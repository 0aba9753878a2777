// A QR code encoder (ISO/IEC 18004) for the authenticator-app set-up: byte mode, error correction
// level M, versions 1 to 20 (up to 666 bytes, far more than an otpauth:// address needs), the mask
// with the lowest penalty. Written here so that the set-up page needs no library and no inline
// image: the result is drawn as SVG by components/qr-code.tsx.

export type QrMatrix = { size: number; dark: boolean[][] };

const maxVersion = 20;
// Level M, per version 1..20: error-correction codewords per block, and the number of blocks.
const eccPerBlock = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26];
const blockCount = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16];
// The format information's two bits for level M.
const levelBits = 0;

/** The code for `text` (as UTF-8), or undefined when it is too long for version 20. */
export function encodeQr(text: string): QrMatrix | undefined {
  const data = new TextEncoder().encode(text);
  let version = 1;
  for (; version <= maxVersion; version++) if (dataBitsFor(data.length, version) <= dataCodewords(version) * 8) break;
  if (version > maxVersion) return undefined;

  const codewords = addErrorCorrection(dataCodewordsOf(data, version), version);
  const size = version * 4 + 17;
  let best: QrMatrix | undefined;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    const matrix = drawSymbol(version, size, codewords, mask);
    const penalty = penaltyOf(matrix);
    if (penalty < bestPenalty) {
      best = matrix;
      bestPenalty = penalty;
    }
  }
  return best;
}

// --- Capacity ---

function rawDataModules(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignments = Math.floor(version / 7) + 2;
    modules -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) modules -= 36;
  }
  return modules;
}

const totalCodewords = (version: number) => Math.floor(rawDataModules(version) / 8);
const dataCodewords = (version: number) => totalCodewords(version) - eccPerBlock[version - 1]! * blockCount[version - 1]!;
// Mode indicator, character count (8 bits up to version 9, 16 after), the bytes.
const countBits = (version: number) => (version <= 9 ? 8 : 16);
const dataBitsFor = (bytes: number, version: number) => (bytes < 1 << countBits(version) ? 4 + countBits(version) + bytes * 8 : Infinity);

// --- Data codewords ---

function dataCodewordsOf(data: Uint8Array, version: number): number[] {
  const bits: number[] = [];
  const append = (value: number, length: number) => {
    for (let index = length - 1; index >= 0; index--) bits.push((value >>> index) & 1);
  };
  append(0b0100, 4);
  append(data.length, countBits(version));
  for (const byte of data) append(byte, 8);
  const capacity = dataCodewords(version) * 8;
  append(0, Math.min(4, capacity - bits.length));
  append(0, (8 - (bits.length % 8)) % 8);
  const codewords: number[] = [];
  for (let index = 0; index < bits.length; index += 8) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) byte = (byte << 1) | bits[index + bit]!;
    codewords.push(byte);
  }
  for (let pad = 0xec; codewords.length < dataCodewords(version); pad ^= 0xec ^ 0x11) codewords.push(pad);
  return codewords;
}

// --- Reed-Solomon over GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 ---

function multiply(x: number, y: number): number {
  let product = 0;
  for (let bit = 7; bit >= 0; bit--) {
    product = (product << 1) ^ ((product >>> 7) * 0x11d);
    product ^= ((y >>> bit) & 1) * x;
  }
  return product;
}

// The generator polynomial's coefficients (highest power first, the leading 1 left out): the product
// of (x - α^i) for i from 0 to degree - 1.
function generatorOf(degree: number): number[] {
  const coefficients = new Array<number>(degree).fill(0);
  coefficients[degree - 1] = 1;
  let root = 1;
  for (let step = 0; step < degree; step++) {
    for (let index = 0; index < degree; index++) {
      const next = index + 1 < degree ? coefficients[index + 1]! : 0;
      coefficients[index] = multiply(coefficients[index]!, root) ^ next;
    }
    root = multiply(root, 0x02);
  }
  return coefficients;
}

function remainderOf(data: number[], generator: number[]): number[] {
  const remainder = new Array<number>(generator.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ remainder.shift()!;
    remainder.push(0);
    generator.forEach((coefficient, index) => {
      remainder[index] = remainder[index]! ^ multiply(coefficient, factor);
    });
  }
  return remainder;
}

// Splits the data into blocks (the short ones first), adds each block's error correction, and
// interleaves: the first codeword of every block, then the second…, then the same for the ECC.
function addErrorCorrection(data: number[], version: number): number[] {
  const blocks = blockCount[version - 1]!;
  const ecc = eccPerBlock[version - 1]!;
  const total = totalCodewords(version);
  const shortBlocks = blocks - (total % blocks);
  const shortDataLength = Math.floor(total / blocks) - ecc;
  const generator = generatorOf(ecc);
  const dataBlocks: number[][] = [];
  const eccBlocks: number[][] = [];
  for (let block = 0, offset = 0; block < blocks; block++) {
    const length = shortDataLength + (block < shortBlocks ? 0 : 1);
    const part = data.slice(offset, offset + length);
    offset += length;
    dataBlocks.push(part);
    eccBlocks.push(remainderOf(part, generator));
  }
  const result: number[] = [];
  for (let index = 0; index <= shortDataLength; index++) {
    for (const block of dataBlocks) if (index < block.length) result.push(block[index]!);
  }
  for (let index = 0; index < ecc; index++) {
    for (const block of eccBlocks) result.push(block[index]!);
  }
  return result;
}

// --- Drawing ---

function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = Math.floor((version * 8 + count * 3 + 5) / (count * 4 - 4)) * 2;
  const positions = [6];
  for (let position = version * 4 + 10; positions.length < count; position -= step) positions.splice(1, 0, position);
  return positions;
}

// BCH codes of the format (5 bits) and version (6 bits) information.
function formatBits(mask: number): number {
  const value = (levelBits << 3) | mask;
  let remainder = value;
  for (let index = 0; index < 10; index++) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
  return ((value << 10) | remainder) ^ 0x5412;
}

function versionBits(version: number): number {
  let remainder = version;
  for (let index = 0; index < 12; index++) remainder = (remainder << 1) ^ ((remainder >>> 11) * 0x1f25);
  return (version << 12) | remainder;
}

const masks: ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

function drawSymbol(version: number, size: number, codewords: number[], mask: number): QrMatrix {
  const dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const reserved = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const set = (x: number, y: number, value: boolean) => {
    dark[y]![x] = value;
    reserved[y]![x] = true;
  };

  // Timing patterns, then finders (with their separators) over them.
  for (let index = 0; index < size; index++) {
    set(6, index, index % 2 === 0);
    set(index, 6, index % 2 === 0);
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const distance = Math.max(Math.abs(dx), Math.abs(dy));
        set(x, y, distance !== 2 && distance !== 4);
      }
    }
  }
  // Alignment patterns, except where they would overlap a finder.
  const positions = alignmentPositions(version);
  const last = positions.length - 1;
  positions.forEach((cy, row) => positions.forEach((cx, column) => {
    if ((row === 0 && column === 0) || (row === 0 && column === last) || (row === last && column === 0)) return;
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  }));

  // Format information (written again after masking), the dark module, and version information.
  drawFormat(set, size, 0);
  set(8, size - 8, true);
  if (version >= 7) {
    const bits = versionBits(version);
    for (let index = 0; index < 18; index++) {
      const on = ((bits >>> index) & 1) === 1;
      const a = size - 11 + (index % 3);
      const b = Math.floor(index / 3);
      set(a, b, on);
      set(b, a, on);
    }
  }

  // The codewords, two columns at a time from the right, upwards then downwards, skipping column 6.
  let bit = 0;
  const totalBits = codewords.length * 8;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      for (let offset = 0; offset < 2; offset++) {
        const x = right - offset;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - step : step;
        if (reserved[y]![x]) continue;
        if (bit < totalBits) dark[y]![x] = ((codewords[bit >>> 3]! >>> (7 - (bit & 7))) & 1) === 1;
        bit++;
      }
    }
  }

  const apply = masks[mask]!;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if (!reserved[y]![x] && apply(x, y)) dark[y]![x] = !dark[y]![x];
  }
  drawFormat(set, size, mask);
  return { size, dark };
}

function drawFormat(set: (x: number, y: number, value: boolean) => void, size: number, mask: number): void {
  const bits = formatBits(mask);
  const on = (index: number) => ((bits >>> index) & 1) === 1;
  // The copy around the top-left finder.
  for (let index = 0; index <= 5; index++) set(8, index, on(index));
  set(8, 7, on(6));
  set(8, 8, on(7));
  set(7, 8, on(8));
  for (let index = 9; index < 15; index++) set(14 - index, 8, on(index));
  // The copy split between the other two finders.
  for (let index = 0; index < 8; index++) set(size - 1 - index, 8, on(index));
  for (let index = 8; index < 15; index++) set(8, size - 15 + index, on(index));
}

// --- The penalty that picks the mask (runs, 2×2 blocks, finder-like patterns, balance) ---

function penaltyOf(matrix: QrMatrix): number {
  const { size, dark } = matrix;
  let penalty = 0;
  const line = (index: number, horizontal: boolean) => Array.from({ length: size }, (_, position) => (horizontal ? dark[index]![position]! : dark[position]![index]!));
  for (let index = 0; index < size; index++) {
    for (const horizontal of [true, false]) {
      const modules = line(index, horizontal);
      let run = 1;
      for (let position = 1; position <= size; position++) {
        if (position < size && modules[position] === modules[position - 1]) {
          run++;
          continue;
        }
        if (run >= 5) penalty += run - 2;
        run = 1;
      }
      // 1:1:3:1:1 with four light modules on either side (the area outside counts as light).
      const padded = [false, false, false, false, ...modules, false, false, false, false];
      for (let start = 0; start + 11 <= padded.length; start++) {
        const window = padded.slice(start, start + 11).map((value) => (value ? 1 : 0)).join("");
        if (window === "10111010000" || window === "00001011101") penalty += 40;
      }
    }
  }
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const color = dark[y]![x];
      if (color === dark[y]![x + 1] && color === dark[y + 1]![x] && color === dark[y + 1]![x + 1]) penalty += 3;
    }
  }
  const darkCount = dark.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
  const total = size * size;
  const k = Math.ceil(Math.abs(darkCount * 20 - total * 10) / total) - 1;
  penalty += Math.max(0, k) * 10;
  return penalty;
}
