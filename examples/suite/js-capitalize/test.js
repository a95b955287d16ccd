const assert = require('assert');
const { capitalize } = require('./capitalize');

assert.strictEqual(capitalize('agent'), 'Agent');
assert.strictEqual(capitalize(''), '');
console.log('ok');
