import { suite } from 'uvu';
import { registerClientCallTests } from './support/proxmox-client-calls.ts';

const test = suite('proxmox client over SSH');
registerClientCallTests(test, 'ssh');
test.run();
