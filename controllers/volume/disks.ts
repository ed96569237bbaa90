import { parsePropertyString } from '../../src/proxmox/encoding/property-string.ts';
import { diskSizeGiB } from '../../src/proxmox/vm-disks.ts';

/**
 * Reading a VM's configuration for one volume's disk. Pure, so the table tests cover every shape: a disk attached
 * at a bus slot (`scsi3: local-lvm:vm-1000-disk-1,serial=cp…,size=10G`), an unused disk (`unused0: local-lvm:…`),
 * and slots held by other disks.
 */

/** Slots a volume may take: scsi1 to scsi30 (scsi0 is the pod's boot disk). */
export const volumeSlots: readonly string[] = Array.from({ length: 30 }, (_, i) => `scsi${i + 1}`);

const diskKey = /^(?:scsi|virtio|sata|ide|efidisk|tpmstate|unused)\d+$/;

/**
 * The serial number the disk carries (PVE: at most 20 bytes): the guest sees it under /dev/disk/by-id, and it
 * proves a freshly allocated disk is this volume's before its volume id is known (after a crash mid-allocation).
 */
export function volumeSerial(volumeId: string): string {
  return `cp${volumeId.replace(/-/g, '').slice(0, 18)}`;
}

/** The volume id in a disk value (`local-lvm:vm-105-disk-1,size=4G` → `local-lvm:vm-105-disk-1`). */
export function volidOf(value: string): string | undefined {
  const properties = parsePropertyString(value, 'file');
  const file = properties.get('file') ?? properties.get('volume');
  return file && file.includes(':') ? file : undefined;
}

export interface DiskLocation {
  /** The bus slot the volume is attached at, if any. */
  attachedAt: string | null;
  /** unusedN keys holding the volume. */
  unusedAt: string[];
  /** The volume id found (by the recorded id, or by serial when none is recorded yet). */
  volid: string | null;
  /** Size stated by the attached disk, in GiB. */
  sizeGiB: number | undefined;
}

/** Where the volume is in the VM's configuration: by its recorded volume id, else by its serial. */
export function locateDisk(config: Readonly<Record<string, unknown>>, wanted: { volid: string | null; serial: string })
  : DiskLocation {
  const location: DiskLocation = { attachedAt: null, unusedAt: [], volid: wanted.volid, sizeGiB: undefined };
  for (const [key, raw] of Object.entries(config)) {
    if (!diskKey.test(key) || typeof raw !== 'string') continue;
    const properties = parsePropertyString(raw, 'file');
    const volid = volidOf(raw);
    const serial = properties.get('serial');
    // A disk carrying another serial is another volume's, even under a reused volume id.
    const ours = wanted.volid ? volid === wanted.volid && (serial === undefined || serial === wanted.serial)
      : serial === wanted.serial;
    if (!ours || !volid) continue;
    location.volid = volid;
    if (key.startsWith('unused')) {
      location.unusedAt.push(key);
    } else if (location.attachedAt === null || key === firstOf(location.attachedAt, key)) {
      location.attachedAt = key;
      location.sizeGiB = diskSizeGiB(raw);
    }
  }
  location.unusedAt.sort();
  return location;
}

/** Of two slots holding the same volume (never expected), the lower one, so the choice is stable. */
function firstOf(a: string, b: string): string {
  return slotNumber(a) <= slotNumber(b) ? a : b;
}

const slotNumber = (key: string) => Number(/\d+$/.exec(key)?.[0] ?? Number.MAX_SAFE_INTEGER);

/** Whether a slot is empty in the configuration (pending values included, as GET config shows them). */
export function slotFree(config: Readonly<Record<string, unknown>>, slot: string): boolean {
  return config[slot] === undefined;
}

/** The lowest free volume slot, skipping those another volume row has claimed; null when all are taken. */
export function freeSlot(config: Readonly<Record<string, unknown>>, claimed: ReadonlySet<string>): string | null {
  return volumeSlots.find((slot) => slotFree(config, slot) && !claimed.has(slot)) ?? null;
}

/**
 * Room for `neededGiB` more on a storage whose status says `availBytes` are free: the check PVE does not do
 * before it starts writing (a thin pool overcommits, then fills up under the guest).
 */
export function roomFor(neededGiB: number, availBytes: number): { ok: boolean; neededGiB: number; availGiB: number } {
  const availGiB = Math.floor((availBytes / 1024 ** 3) * 100) / 100;
  return { ok: neededGiB * 1024 ** 3 <= availBytes, neededGiB, availGiB };
}
