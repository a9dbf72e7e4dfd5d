// The client package's own files through the Hermes compiler (npm's
// hermes-compiler), as a release build compiles them: a syntax Hermes lacks
// fails here, with its file and line, before any app's build does.
// Each file is turned from an ES module into a CommonJS one first (only that:
// Metro does the same; hermesc takes no ES modules), then compiled alone.
// Usage: node hermes-check.cjs <node_modules of an app> <package dir> <out dir>
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [modules, packageDir, outDir] = process.argv.slice(2);
const need = (name) => require(require.resolve(name, { paths: [modules] }));
const babel = need('@babel/core');
const hermesc = path.join(
  path.dirname(require.resolve('hermes-compiler/package.json', { paths: [modules] })),
  'hermesc',
  { linux: 'linux64-bin', darwin: 'osx-bin', win32: 'win64-bin' }[process.platform],
  process.platform === 'win32' ? 'hermesc.exe' : 'hermesc',
);
fs.mkdirSync(outDir, { recursive: true });
// Every .js of the package, in subfolders too (not its types).
const files = fs
  .readdirSync(packageDir, { recursive: true })
  .filter((name) => name.endsWith('.js') && !name.split(path.sep).includes('node_modules'))
  .sort();
if (!files.length) throw new Error(`no .js file in ${packageDir}`);
let failed = 0;
for (const name of files) {
  const source = path.join(packageDir, name);
  const { code } = babel.transformFileSync(source, {
    babelrc: false,
    configFile: false,
    plugins: [require.resolve('@babel/plugin-transform-modules-commonjs', { paths: [modules] })],
  });
  const script = path.join(outDir, name.split(path.sep).join('__'));
  // Metro's module wrapper: the module's code runs inside a function.
  fs.writeFileSync(script, `(function (require, module, exports) {\n${code}\n});\n`);
  try {
    execFileSync(hermesc, ['-emit-binary', '-O', '-w', '-out', `${script}.hbc`, script], { stdio: 'pipe' });
    console.log(`hermesc ok: ${name} (${fs.statSync(`${script}.hbc`).size} bytes of bytecode)`);
  } catch (error) {
    failed += 1;
    console.error(`hermesc FAILED on ${name}:\n${error.stderr || error.message}`);
  }
}
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
