/**
 * PVE's own wording for the failures a client tells apart (retry later, treat as gone, a collision, a full
 * storage), each from the Perl that says it. test/fixtures/pve-golden.ts holds the same texts as PVE printed them;
 * a test makes these writers reproduce them.
 */

const extentBytes = 4 * 1024 ** 2;

/** PVE::AbstractConfig::check_lock. */
export const vmLocked = (lock: string) => `VM is locked (${lock})`;

/** PVE::Tools::lock_file, when the VM's lock file stays taken past the timeout. */
export const fileLockTimeout = (vmid: number) => `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`;

/** PVE::AbstractConfig::load_config, for a VM that is not on the node asked. */
export const configFileMissing = (node: string, vmid: number) =>
  `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`;

/** qemu-server's clone_vm, when the new id has a config already. */
export const configFileExists = (vmid: number) => `unable to create VM ${vmid}: config file already exists`;

/** pve-manager's `GET /cluster/nextid?vmid=N`, as the parameter error of `vmid`. */
export const vmidTaken = (vmid: number) => `VM ${vmid} already exists`;

/** qemu-server's clone worker wraps whatever stopped it. */
export const cloneFailed = (reason: string) => `clone failed: ${reason}`;

/**
 * LVMPlugin's alloc_image runs lvcreate with `errmsg => "lvcreate '$vg/$name' error"`; run_command appends the last
 * line LVM wrote to stderr, indentation included. LVM counts in extents of 4 MiB.
 */
export function lvcreateNoSpace(vg: string, name: string, freeBytes: number, wantedBytes: number): string {
  const free = Math.floor(Math.max(0, freeBytes) / extentBytes);
  const required = Math.ceil(wantedBytes / extentBytes);
  return `lvcreate '${vg}/${name}' error:   Volume group "${vg}" has insufficient free space (${free} extents): ` +
    `${required} required.`;
}

/** qemu-server's destroy_vm on a running VM. */
export const runningDestroyFailed = (vmid: number) => `VM ${vmid} is running - destroy failed`;

/** qemu-server's destroy_vm on a VM with `protection: 1`. */
export const protectionEnabled = (vmid: number) => `can't remove VM ${vmid} - protection mode enabled`;

/** pve-common's assert_if_modified, when a write names a digest the config no longer has. */
export const configModified = 'detected modified configuration - file changed by other user? Try again.';

/** qemu-server's vm_start on a running VM. */
export const alreadyRunning = (vmid: number) => `VM ${vmid} already running`;

/** qemu-server's agent calls: no `agent: 1`, or no agent answering in the guest. */
export const noAgentConfigured = 'No QEMU guest agent configured';
export const agentNotRunning = 'QEMU guest agent is not running';
