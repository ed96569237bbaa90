import ssh2 from 'ssh2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSshKeyPair } from '../src/sim/ssh-keys.ts';

/** The simulator's SSH keys: ssh2's own generator makes about 1 unreadable public key in 256 (mscdex/ssh2#1513). */
const test = suite('simulator SSH keys');

test('2000 generated key pairs all read back, public and private', () => {
  for (let i = 0; i < 2000; i++) {
    const pair = generateSshKeyPair();
    const publicKey = ssh2.utils.parseKey(pair.public);
    const privateKey = ssh2.utils.parseKey(pair.private);
    assert.not.instance(publicKey, Error, `public key ${i}: ${pair.public}`);
    assert.not.instance(privateKey, Error, `private key ${i}`);
    assert.is((publicKey as ssh2.ParsedKey).type, 'ssh-ed25519');
  }
});

test.run();
