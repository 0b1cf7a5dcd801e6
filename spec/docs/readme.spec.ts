/**
 * The README's TypeScript examples are executed, so the documentation cannot drift from the
 * library: each ```ts block is compiled to JavaScript and run as a module that imports `sediment`
 * like a user would. The examples check themselves with node:assert.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
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
});
