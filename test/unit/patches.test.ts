/**
 * The patch list (workflows/patches.ts) is the whole truth: every `patched()` / `deprecatePatch()` call
 * in workflows/ names, as a string literal, an id listed there, and every listed id is still called.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PATCHES, type PatchEntry } from '../../workflows/patches';

const dir = path.join(__dirname, '../../workflows');

/** Comments blanked out (same length and lines), so that prose naming `patched()` is not a call. */
const code = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|\s)\/\/.*$/gm, (c) => c.replace(/\S/g, ' '));

/** The patch calls in a source text: line and argument as written. */
const callsIn = (text: string) =>
  [...code(text).matchAll(/\b(?:patched|deprecatePatch)\s*\(([^)]*)\)/g)].map((m) => ({
    line: text.slice(0, m.index).split('\n').length,
    arg: m[1]!.trim(),
  }));

/** Every patch call in workflows/ (patches.ts itself only shows examples in its comment). */
function patchCalls(): { at: string; arg: string }[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && file !== 'patches.ts')
    .flatMap((file) =>
      callsIn(fs.readFileSync(path.join(dir, file), 'utf8')).map((c) => ({
        at: `workflows/${file}:${c.line}`,
        arg: c.arg,
      })),
    );
}

/** The id a call names: only a string literal counts (a constant would hide it from this test and from grep). */
const literal = (arg: string) => /^(['"`])([a-z0-9-]+)\1$/.exec(arg)?.[2] ?? null;

test('every patched() / deprecatePatch() call in workflows/ names an id listed in workflows/patches.ts', () => {
  const listed = new Set(Object.keys(PATCHES));
  const unknown = patchCalls()
    .filter((c) => {
      const id = literal(c.arg);
      return id === null || !listed.has(id);
    })
    .map((c) => `${c.at} ${c.arg}`);
  expect(unknown).toEqual([]);
});

test('every listed patch is still called, and says what it changes, since when and until when', () => {
  const called = new Set(patchCalls().map((c) => literal(c.arg)));
  const entries: [string, PatchEntry][] = Object.entries(PATCHES);
  for (const [id, entry] of entries) {
    expect([id, called.has(id)]).toEqual([id, true]);
    expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(entry.changes.length).toBeGreaterThan(0);
    expect(entry.since).toMatch(/^\d+\.\d+\.\d+$/);
    expect(entry.until.length).toBeGreaterThan(0);
  }
});

test('the scan finds calls: a workflow file with one would be reported', () => {
  // The same scan over a sample, so that an empty list above means "no call", not "the scan is broken".
  const sample =
    "// patched() in prose\nif (patched('not-listed')) x(); /* deprecatePatch('x') */\ndeprecatePatch(SOME_CONSTANT);";
  expect(callsIn(sample).map((c) => [c.line, literal(c.arg)])).toEqual([
    [2, 'not-listed'],
    [3, null],
  ]);
});
