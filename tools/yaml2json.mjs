// Converts a YAML document (docs/openapi.yaml) to JSON, for embedding in
// the binary: node tools/yaml2json.mjs IN.yaml OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { load } from 'js-yaml';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node tools/yaml2json.mjs IN.yaml OUT.json');
  process.exit(2);
}
try {
  const doc = load(readFileSync(input, 'utf8'), { filename: input });
  writeFileSync(output, JSON.stringify(doc) + '\n');
} catch (err) {
  console.error(`yaml2json: ${err.message}`);
  process.exit(1);
}
