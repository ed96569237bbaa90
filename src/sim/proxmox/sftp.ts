import { closeSync, fstatSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

/**
 * An SFTP subsystem confined to one directory, which appears to the client as a node's snippets directory
 * (`/var/lib/vz/snippets`). Anything outside it, and subdirectories, are refused.
 */

const { STATUS_CODE, flagsToString } = ssh2.utils.sftp;

export interface SnippetsMount {
  /** The path clients see, e.g. /var/lib/vz/snippets. */
  remoteDir: string;
  localDir: string;
}

type Handle = { kind: 'file'; fd: number } | { kind: 'dir'; entries: string[] | null };

export function serveSftp(sftp: ssh2.SFTPWrapper, mount: SnippetsMount): void {
  const handles = new Map<string, Handle>();
  let nextHandle = 0;
  const newHandle = (handle: Handle) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(nextHandle++);
    handles.set(id.toString('hex'), handle);
    return id;
  };
  const local = (remote: string): string | undefined => {
    const normalized = path.posix.normalize(remote);
    if (normalized === mount.remoteDir) return mount.localDir;
    const name = normalized.startsWith(`${mount.remoteDir}/`) ? normalized.slice(mount.remoteDir.length + 1) : '';
    return name && !name.includes('/') ? path.join(mount.localDir, name) : undefined;
  };
  const attempt = (reqid: number, work: () => void) => {
    try {
      work();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      sftp.status(reqid, code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE, (error as Error).message);
    }
  };
  const denied = (reqid: number) => sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'outside the snippets directory');

  sftp.on('OPEN', (reqid, filename, flags) => {
    const file = local(filename);
    if (!file || file === mount.localDir) return denied(reqid);
    attempt(reqid, () => sftp.handle(reqid, newHandle({ kind: 'file', fd: openSync(file, flagsToString(flags) ?? 'r', 0o644) })));
  });
  sftp.on('WRITE', (reqid, handle, offset, data) => {
    const open = handles.get(handle.toString('hex'));
    if (open?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    attempt(reqid, () => { writeSync(open.fd, data, 0, data.length, offset); sftp.status(reqid, STATUS_CODE.OK); });
  });
  sftp.on('READ', (reqid, handle, offset, length) => {
    const open = handles.get(handle.toString('hex'));
    if (open?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    attempt(reqid, () => {
      const buffer = Buffer.alloc(length);
      const read = readSync(open.fd, buffer, 0, length, offset);
      if (read === 0) sftp.status(reqid, STATUS_CODE.EOF);
      else sftp.data(reqid, buffer.subarray(0, read));
    });
  });
  sftp.on('FSTAT', (reqid, handle) => {
    const open = handles.get(handle.toString('hex'));
    if (open?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    attempt(reqid, () => sftp.attrs(reqid, attributes(fstatSync(open.fd))));
  });
  sftp.on('CLOSE', (reqid, handle) => {
    const key = handle.toString('hex');
    const open = handles.get(key);
    if (!open) return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    handles.delete(key);
    attempt(reqid, () => { if (open.kind === 'file') closeSync(open.fd); sftp.status(reqid, STATUS_CODE.OK); });
  });
  const stat = (reqid: number, remote: string) => {
    const file = local(remote);
    if (!file) return denied(reqid);
    attempt(reqid, () => sftp.attrs(reqid, attributes(statSync(file))));
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
  sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
  sftp.on('REALPATH', (reqid, remote) => {
    const resolved = path.posix.resolve(mount.remoteDir, remote);
    sftp.name(reqid, [{ filename: resolved, longname: resolved, attrs: {} as ssh2.Attributes }]);
  });
  sftp.on('REMOVE', (reqid, remote) => {
    const file = local(remote);
    if (!file || file === mount.localDir) return denied(reqid);
    attempt(reqid, () => { unlinkSync(file); sftp.status(reqid, STATUS_CODE.OK); });
  });
  sftp.on('RENAME', (reqid, from, to) => {
    const source = local(from);
    const target = local(to);
    if (!source || !target || source === mount.localDir || target === mount.localDir) return denied(reqid);
    attempt(reqid, () => { renameSync(source, target); sftp.status(reqid, STATUS_CODE.OK); });
  });
  sftp.on('OPENDIR', (reqid, remote) => {
    if (local(remote) !== mount.localDir) return denied(reqid);
    sftp.handle(reqid, newHandle({ kind: 'dir', entries: readdirSync(mount.localDir) }));
  });
  sftp.on('READDIR', (reqid, handle) => {
    const open = handles.get(handle.toString('hex'));
    if (open?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
    if (!open.entries) return sftp.status(reqid, STATUS_CODE.EOF);
    const names = open.entries.map((name) => {
      const attrs = attributes(statSync(path.join(mount.localDir, name)));
      return { filename: name, longname: `-rw-r--r-- 1 root root ${attrs.size} ${name}`, attrs };
    });
    open.entries = null;
    sftp.name(reqid, names);
  });
  sftp.on('MKDIR', denied);
  sftp.on('RMDIR', denied);
}

function attributes(stats: Stats): ssh2.Attributes {
  return { mode: stats.mode, uid: 0, gid: 0, size: stats.size, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) };
}
