import { stringify } from 'yaml';
import type { AppStack, StackOptions } from './stacks.ts';

/** What a pod contributes to its user-data besides the stack options. */
export interface CloudInitContext {
  hostname: string;
  /** Generated per pod by the caller and kept as a secret; rendering stays a pure function of its inputs. */
  databasePassword: string;
}

interface CloudConfig {
  package_update: boolean;
  packages: string[];
  write_files: Array<{ path: string; permissions: string; content: string }>;
  runcmd: string[][];
  final_message: string;
}

/** Each database engine: packages, and the commands that create the app's database and user. */
function databaseSetup(engine: 'mysql' | 'postgres', name: string, password: string)
  : Pick<CloudConfig, 'packages' | 'runcmd'> & { file: CloudConfig['write_files'][number] } {
  if (engine === 'mysql') {
    return {
      packages: ['mariadb-server'],
      file: { path: `/root/.cloudpods/${name}-db.sql`, permissions: '0600',
        content: `CREATE DATABASE IF NOT EXISTS \`${name}\`;\n` +
          `CREATE USER IF NOT EXISTS '${name}'@'localhost' IDENTIFIED BY '${password}';\n` +
          `GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${name}'@'localhost';\nFLUSH PRIVILEGES;\n` },
      runcmd: [['systemctl', 'enable', '--now', 'mariadb'], ['sh', '-c', `mysql < /root/.cloudpods/${name}-db.sql`]],
    };
  }
  return {
    packages: ['postgresql'],
    file: { path: `/root/.cloudpods/${name}-db.sql`, permissions: '0600',
      content: `CREATE ROLE ${name} LOGIN PASSWORD '${password}';\nCREATE DATABASE ${name} OWNER ${name};\n` },
    runcmd: [['systemctl', 'enable', '--now', 'postgresql'],
      ['sh', '-c', `su postgres -c "psql -v ON_ERROR_STOP=1 -f /root/.cloudpods/${name}-db.sql"`]],
  };
}

function redisSetup(enabled: boolean): Pick<CloudConfig, 'packages' | 'runcmd'> {
  return enabled ? { packages: ['redis-server'], runcmd: [['systemctl', 'enable', '--now', 'redis-server']] }
    : { packages: [], runcmd: [] };
}

function assemble(parts: Array<Partial<CloudConfig>>, message: string): CloudConfig {
  return {
    package_update: true,
    packages: [...new Set(parts.flatMap((p) => p.packages ?? []))],
    write_files: parts.flatMap((p) => p.write_files ?? []),
    runcmd: parts.flatMap((p) => p.runcmd ?? []),
    final_message: message,
  };
}

const renderers: { [S in AppStack]: (options: StackOptions[S], context: CloudInitContext) => CloudConfig } = {
  wordpress(options, { hostname, databasePassword }) {
    const db = databaseSetup('mysql', 'wordpress', databasePassword);
    return assemble([
      { packages: ['nginx', 'php-fpm', 'php-mysql', 'php-curl', 'php-xml', 'php-mbstring', 'php-zip', 'curl'] },
      { ...db, write_files: [db.file] },
      redisSetup(options.redis),
      options.redis ? { packages: ['php-redis'] } : {},
      { runcmd: [
        ['sh', '-c', 'curl -fsSL https://raw.githubusercontent.com/wp-cli/builds/gh-pages/phar/wp-cli.phar -o /usr/local/bin/wp && chmod +x /usr/local/bin/wp'],
        ['mkdir', '-p', '/var/www/wordpress'],
        ['wp', 'core', 'download', '--path=/var/www/wordpress', '--allow-root'],
        ['wp', 'config', 'create', '--path=/var/www/wordpress', '--dbname=wordpress', '--dbuser=wordpress',
          `--dbpass=${databasePassword}`, '--allow-root'],
        ['wp', 'core', 'install', '--path=/var/www/wordpress', `--url=http://${hostname}`,
          `--title=${options.site_title}`, `--admin_user=${options.admin_user}`,
          `--admin_email=${options.admin_email}`, '--skip-email', '--allow-root'],
        ['chown', '-R', 'www-data:www-data', '/var/www/wordpress'],
      ] },
    ], `WordPress "${options.site_title}" is installed at http://${hostname}/`);
  },

  laravel(options, { hostname, databasePassword }) {
    const db = databaseSetup(options.database, 'laravel', databasePassword);
    const php = `php${options.php_version}`;
    const driver = options.database === 'mysql' ? 'mysql' : 'pgsql';
    return assemble([
      { packages: ['nginx', `${php}-fpm`, `${php}-cli`, `${php}-mbstring`, `${php}-xml`, `${php}-curl`, `${php}-zip`,
        options.database === 'mysql' ? `${php}-mysql` : `${php}-pgsql`, 'composer', 'unzip'] },
      { ...db, write_files: [db.file, { path: '/root/.cloudpods/laravel.env', permissions: '0600', content:
        `APP_NAME="${options.app_name}"\nAPP_URL=http://${hostname}\nDB_CONNECTION=${driver}\nDB_DATABASE=laravel\n` +
        `DB_USERNAME=laravel\nDB_PASSWORD=${databasePassword}\n` +
        (options.redis ? 'CACHE_STORE=redis\nSESSION_DRIVER=redis\nREDIS_HOST=127.0.0.1\n' : '') }] },
      redisSetup(options.redis),
      { runcmd: [
        ['composer', 'create-project', '--no-interaction', 'laravel/laravel', '/var/www/laravel'],
        ['sh', '-c', 'cat /root/.cloudpods/laravel.env >> /var/www/laravel/.env'],
        ['sh', '-c', 'cd /var/www/laravel && php artisan migrate --force'],
        ['chown', '-R', 'www-data:www-data', '/var/www/laravel'],
      ] },
    ], `Laravel "${options.app_name}" is installed at http://${hostname}/`);
  },

  node(options, { hostname, databasePassword }) {
    const parts: Array<Partial<CloudConfig>> = [{
      packages: ['curl', 'git', 'ca-certificates', 'nginx'],
      runcmd: [
        ['sh', '-c', `curl -fsSL https://deb.nodesource.com/setup_${options.node_version}.x | bash -`],
        ['apt-get', 'install', '-y', 'nodejs'],
      ],
    }];
    if (options.database !== 'none') {
      const db = databaseSetup(options.database, 'app', databasePassword);
      parts.push({ ...db, write_files: [db.file] });
    }
    parts.push(redisSetup(options.redis));
    parts.push({
      write_files: [{ path: '/etc/systemd/system/app.service', permissions: '0644', content:
        '[Unit]\nDescription=Node.js application\nAfter=network.target\n\n[Service]\nWorkingDirectory=/srv/app\n' +
        `Environment=PORT=${options.app_port}\nExecStart=/usr/bin/npm start\nRestart=on-failure\nUser=www-data\n\n` +
        '[Install]\nWantedBy=multi-user.target\n' }],
      runcmd: options.repository
        ? [['git', 'clone', '--depth', '1', options.repository, '/srv/app'], ['sh', '-c', 'cd /srv/app && npm ci'],
          ['chown', '-R', 'www-data:www-data', '/srv/app'], ['systemctl', 'enable', '--now', 'app']]
        : [['mkdir', '-p', '/srv/app'], ['chown', '-R', 'www-data:www-data', '/srv/app']],
    });
    return assemble(parts, `Node.js ${options.node_version} is ready on ${hostname}` +
      (options.repository ? `; the app listens on port ${options.app_port}` : '; deploy your app to /srv/app'));
  },
};

/** Renders the cloud-init user-data (valid `#cloud-config` YAML) of an app stack for one pod. */
export function renderCloudInit<S extends AppStack>(stack: S, options: StackOptions[S], context: CloudInitContext): string {
  const config = renderers[stack](options, context);
  return `#cloud-config\n# ${stack} stack, rendered by CloudPods for ${context.hostname}\n${stringify(config, { lineWidth: 0 })}`;
}
