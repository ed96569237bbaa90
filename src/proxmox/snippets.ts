import type { SshConnections } from './transport/ssh-connections.ts';
import { ProxmoxError, TransientError } from './errors.ts';

/**
 * Cloud-init user-data as snippets: PVE has no API to write them, so they go over SFTP into the snippets directory
 * of a `snippets` storage, and VMs point at them with `cicustom=user=<storage>:snippets/<file>`.
 */

export interface SnippetStore {
  /** Writes the file on the node and answers its volume id. */
  upload(node: string, fileName: string, content: string | Buffer): Promise<string>;
}

export interface SftpSnippetStoreOptions {
  /** The storage holding snippets (`local`). */
  storage: string;
  /** Its snippets directory on the node (`/var/lib/vz/snippets` for `local`). */
  directory: string;
}

const fileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export class SftpSnippetStore implements SnippetStore {
  readonly #connections: SshConnections;
  readonly #options: SftpSnippetStoreOptions;

  constructor(connections: SshConnections, options: SftpSnippetStoreOptions) {
    this.#connections = connections;
    this.#options = options;
  }

  async upload(node: string, fileName: string, content: string | Buffer): Promise<string> {
    if (!fileNamePattern.test(fileName)) throw new ProxmoxError(`snippet name "${fileName}" must match ${fileNamePattern}`);
    const sftp = await this.#connections.sftp(node);
    const remote = `${this.#options.directory.replace(/\/+$/, '')}/${fileName}`;
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(remote, content, (error) => (error
        ? reject(new TransientError(`writing snippet ${remote} on ${node}: ${error.message}`, { cause: error }))
        : resolve()));
    });
    return `${this.#options.storage}:snippets/${fileName}`;
  }
}

/** For transports without SSH: says what to configure instead of failing obscurely. */
export const noSnippetStore: SnippetStore = {
  upload: async () => {
    throw new ProxmoxError('uploading cloud-init snippets needs SSH access to the nodes: configure the SSH settings');
  },
};
