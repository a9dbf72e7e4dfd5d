// The npm package itself: what `npm pack` ships, and that the shipped .d.ts
// files are the ones the JSDoc gives.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tests = join(here, '..');
const pkgDir = join(tests, '..', '..', 'static', 'client');
const staticDir = dirname(pkgDir);

test('npm pack makes the package: entry points, types, no dependencies', () => {
  const out = mkdtempSync(join(tmpdir(), 'bus-mobile-pack-'));
  try {
    const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: pkgDir, encoding: 'utf8' }));
    assert.ok(existsSync(join(out, info.filename)), 'the tarball is written');
    const files = info.files.map((f) => f.path).sort();
    for (const required of ['package.json', 'README.md', 'index.js', 'client.js', 'react.js', 'types/index.d.ts', 'types/react.d.ts']) {
      assert.ok(files.includes(required), `${required} is in the package: ${files}`);
    }
    assert.ok(files.every((f) => !f.includes('node_modules') && !f.includes('test')), `${files}`);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'odoo-bus-mobile');
    assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
    assert.deepEqual(pkg.peerDependenciesMeta, { react: { optional: true } });
    assert.equal(pkg.exports['./react'].types, './types/react.d.ts');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the shipped .d.ts files are up to date with the JSDoc (npm run types)', () => {
  const out = mkdtempSync(join(tmpdir(), 'bus-mobile-types-'));
  try {
    execFileSync(join(tests, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.types.json', '--declarationDir', out], { cwd: tests, encoding: 'utf8' });
    const fresh = readdirSync(out).sort();
    assert.deepEqual(readdirSync(join(pkgDir, 'types')).sort(), fresh);
    for (const name of fresh) {
      assert.equal(readFileSync(join(pkgDir, 'types', name), 'utf8'), readFileSync(join(out, name), 'utf8'), `types/${name} is stale: run \`npm run types\` in tests/js`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('no node_modules under static/ (Odoo serves it)', () => {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === 'node_modules') found.push(join(dir, entry.name));
      else walk(join(dir, entry.name));
    }
  };
  walk(staticDir);
  assert.deepEqual(found, []);
});
