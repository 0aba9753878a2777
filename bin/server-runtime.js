// The V8 flags and glibc malloc settings the server process runs with (bin/strongroom.js re-executes
// `strongroom server` with them; bench/crypto.ts measures the blob streams under them). Measured reasons:
//
// - At most 1 MiB per young-generation semi-space (V8's default grows it to 16 MiB under load). Upload
//   and download streams allocate a buffer per chunk; with the default the committed heap stayed at
//   ~110 MB while ~50 MB of it was used, and spent chunk buffers waited for a scavenge long enough to
//   add ~60 MB more (peak RSS through a 1 GiB upload 278 MB by default, ~190 MB with the limit).
// - The old generation may reach 96 MB before V8 runs a full GC. Chunk buffers in flight survive
//   scavenges and are promoted; after an upload V8 had set the old-space limit just above the live heap
//   (~30 MB), so every few MB of promotions forced a mark-compact: ~100 per GiB, 20-25 ms each, and a
//   download ran at 300-450 MB/s until the limit had grown, 750-800 MB/s after (--trace-gc). With the
//   floor: none.
// - At most two malloc arenas; glibc keeps up to 32 MiB free at the top of an arena instead of 128 KiB,
//   and serves buffers below 4 MiB from its arenas: freed chunk buffers were handed back to the kernel
//   and the next ones faulted in fresh pages (a 2 GiB download: 67,000 minor faults, 1.5 s of system
//   time; 1,000-6,000 with the setting).
// - External memory (Buffers: every chunk sealed or opened) counts toward V8's global heap limit instead
//   of a separate external-memory limit. With the separate limit, a stream of 256 KiB chunk buffers
//   reached it every few MB although each buffer died young, and each time V8 started incremental
//   marking and a mark-compact: sealing 1 GiB in memory ran 96 mark-compacts (2,600-2,900 MB/s); with
//   the flag 10 (4,100-5,400 MB/s), and the peak RSS of sealing a 2 GiB stream stayed at ~138 MB.
// Peak RSS through a 2 GiB upload stays ~160-180 MB (bench/results/documents.json).

export const serverV8Flags = ["--max-semi-space-size=1", "--initial-old-space-size=96", "--external-memory-accounted-in-global-limit"];

export const serverMallocEnv = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_TRIM_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_MMAP_THRESHOLD_: String(4 * 1024 * 1024),
};

/**
 * The node arguments and environment that run `script` the way the server runs (for benchmarks' children).
 * @param {string} script
 * @param {string[]} [args]
 */
export function asServerProcess(script, args = []) {
  return { args: [...serverV8Flags, script, ...args], env: { ...serverMallocEnv, ...process.env } };
}
