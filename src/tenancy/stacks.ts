import { z } from 'zod';

/**
 * App stacks (spec 4: "App stacks (WordPress, Laravel, Node, etc.); additional install options (DB, Redis)").
 * Each stack declares the options a tenant may pass when ordering a pod; cloud-init.ts renders them.
 */
export const appStacks = ['wordpress', 'laravel', 'node'] as const;
export type AppStack = (typeof appStacks)[number];

const redis = z.boolean().default(false);
const shortText = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

export const stackOptionSchemas = {
  wordpress: z.strictObject({
    site_title: shortText(120).default('My WordPress site'),
    admin_user: z.string().regex(/^[a-z][a-z0-9_]{2,31}$/, 'expected 3 to 32 lower-case letters, digits or _')
      .default('admin'),
    admin_email: z.email('expected an e-mail address'),
    // WordPress runs on MySQL-compatible databases only.
    database: z.literal('mysql', { error: 'WordPress needs mysql' }).default('mysql'),
    redis,
  }),
  laravel: z.strictObject({
    // Written into .env between quotes: letters, digits, spaces and a little punctuation only.
    app_name: shortText(60).regex(/^[\w .,-]+$/, 'expected letters, digits, spaces and . , - _').default('Laravel'),
    php_version: z.enum(['8.2', '8.3'], { error: 'expected 8.2 or 8.3' }).default('8.3'),
    database: z.enum(['mysql', 'postgres'], { error: 'expected mysql or postgres' }).default('postgres'),
    redis,
  }),
  node: z.strictObject({
    node_version: z.enum(['20', '22', '24'], { error: 'expected 20, 22 or 24' }).default('22'),
    app_port: z.number().int().min(1024, 'expected 1024 or more').max(65535, 'expected at most 65535').default(3000),
    repository: z.url({ protocol: /^https$/, error: 'expected an https:// git URL' }).optional(),
    database: z.enum(['none', 'mysql', 'postgres'], { error: 'expected none, mysql or postgres' }).default('none'),
    redis,
  }),
} satisfies Record<AppStack, z.ZodType>;

export type StackOptions = { [S in AppStack]: z.output<(typeof stackOptionSchemas)[S]> };

export function isAppStack(value: string): value is AppStack {
  return (appStacks as readonly string[]).includes(value);
}
