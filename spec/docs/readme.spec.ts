/**
 * The README's TypeScript examples are executed, so the documentation cannot drift from the
 * library: each ```ts block is compiled to JavaScript and run as a module that imports `sediment`
 * like a user would. The examples check themselves with node:assert. The command-line example (the
 * ```sh block that starts with `sediment init`) runs in bash, each command required to succeed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const shellExamples = [...readme.matchAll(/```sh\n(sediment init[\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package (dist/ is ignored by git), so that `import … from 'sediment'` resolves to it.
const outDir = path.join(root, 'dist', 'readme-examples');

describe('README examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  examples.forEach((source, i) => {
    it(`example ${i + 1} runs`, async () => {
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      });
      fs.mkdirSync(outDir, { recursive: true });
      const file = path.join(outDir, `example-${i + 1}.mjs`);
      fs.writeFileSync(file, outputText);
      await import(pathToFileURL(file).href);
    });
  });

  it('has a command-line example', () => {
    expect(shellExamples.length).toBeGreaterThan(0);
  });

  shellExamples.forEach((script, i) => {
    it(`command-line example ${i + 1} runs`, () => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-readme-'));
      try {
        const bin = path.join(directory, 'bin');
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, 'sediment'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'dist/lib/cli/main.js')}" "$@"\n`, { mode: 0o755 });
        const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
          cwd: directory,
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        expect(Buffer.compare(fs.readFileSync(path.join(directory, 'copy.db')), fs.readFileSync(path.join(directory, 'app.db')))).toBe(0);
      } finally {
        fs.rmSync(directory, { recursive: true, force: true });
      }
    });
  });
});
