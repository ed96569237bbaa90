import ssh2 from 'ssh2';

/**
 * An ed25519 key pair in OpenSSH format that ssh2 can read back. ssh2's generator strips leading zero bytes from
 * the public key, so about 1 key in 256 comes out malformed (mscdex/ssh2#1513); such a pair is drawn again.
 */
export function generateSshKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}
