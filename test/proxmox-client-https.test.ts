import { suite } from 'uvu';
import { registerClientCallTests } from './support/proxmox-client-calls.ts';

const test = suite('proxmox client over HTTPS');
registerClientCallTests(test, 'https');
test.run();
