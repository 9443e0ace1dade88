// Validates speedscope files against speedscope's own JSON schema
// (dist/release/file-format-schema.json of the npm package) with ajv.
// usage: node validate_speedscope.js NODE_MODULES_DIR FILE...
'use strict';
const path = require('path');
const fs = require('fs');
const modules = process.argv[2];
const Ajv = require(path.join(modules, 'ajv'));
const schema = JSON.parse(fs.readFileSync(
    path.join(modules, 'speedscope', 'dist', 'release', 'file-format-schema.json'), 'utf8'));
const ajv = new Ajv({strict: false, allErrors: true});
const validate = ajv.compile(schema);
let failed = 0;
for (const file of process.argv.slice(3)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(doc)) {
    console.log(`valid: ${file} (${doc.profiles.length} profiles, ${doc.shared.frames.length} frames)`);
  } else {
    failed++;
    console.error(`INVALID: ${file}: ${ajv.errorsText(validate.errors)}`);
  }
}
// The schema must actually reject something: a profile without weights.
const bad = {$schema: 'https://www.speedscope.app/file-format-schema.json', shared: {frames: []},
             profiles: [{type: 'sampled', name: 'x', unit: 'none', startValue: 0, endValue: 0,
                         samples: []}]};
if (validate(bad)) {
  failed++;
  console.error('the schema accepted a profile without weights: validation is not working');
}
process.exit(failed ? 1 : 0);
