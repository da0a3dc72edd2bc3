// Writes pkg/bundles.json for the page script (app/src/islands.js): each bundle the release build
// made (scripts/lib.sh, build_bundles: pkg/mcms-NAME.js and .wasm) with the ids of the islands it holds, read from its exports
// (leptos exports an island's hydration function as `Name_<hash>`, the id the page carries), and
// the whole bundle's SHA-256, so the server ignores bundles cut beside another build. Smallest first.
//
//   node scripts/bundles-manifest.mjs SITE/pkg NAME:FEATURE,FEATURE…   (as in frontend/bundles)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const [pkg, ...bundles] = process.argv.slice(2);
const islandIds = (bytes) =>
  WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name).filter((e) => /^[A-Z][A-Za-z0-9]*_\d+$/.test(e));

const made = bundles.map((arg) => {
  const [name, features] = arg.split(':');
  const file = `mcms-${name}.wasm`;
  const bytes = readFileSync(join(pkg, file));
  const islands = islandIds(bytes);
  // The island `CostEditor_<hash>` is the feature `cost-editor`.
  const held = islands.map((id) => id.replace(/_\d+$/, '').replace(/(?<!^)[A-Z]/g, (c) => `-${c}`).toLowerCase());
  if (held.sort().join(',') !== features.split(',').sort().join(',')) {
    throw new Error(`${file} holds the islands ${held.join(', ')}, not those frontend/bundles names: ${features}`);
  }
  return { name, file, islands, gzip: gzipSync(bytes, { level: 9 }).length };
});
made.sort((a, b) => a.gzip - b.gzip);
const whole = readFileSync(join(pkg, 'mcms.wasm'));
writeFileSync(join(pkg, 'bundles.json'), JSON.stringify({
  whole: createHash('sha256').update(whole).digest('hex'),
  bundles: made.map(({ name, islands }) => ({ name, islands })),
}));
for (const { file, islands, gzip } of made) console.error(`  ${file}: ${gzip} B gzip -9, ${islands.join(' ')}`);
console.error(`  mcms.wasm (every island): ${gzipSync(whole, { level: 9 }).length} B gzip -9`);
