import { StatusError } from './store.ts';

/** RBAC for one service account, as the real authorizer applies it: a request is allowed when any rule matches. */

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ServiceAccountRbac {
  /** The bearer token the account's kubeconfig carries. */
  token: string;
  user: string;
  /** From a ClusterRole (every namespace, and cluster-scoped resources). */
  clusterRules: PolicyRule[];
  /** From Roles, by namespace. */
  namespaceRules: Record<string, PolicyRule[]>;
}

export interface RequestAttributes {
  verb: string;
  group: string;
  /** `plural` or `plural/subresource`. */
  resource: string;
  namespace: string | undefined;
}

/** The RBAC verb of a request (the apiserver's RequestInfo). */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET': return named ? 'get' : watch ? 'watch' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return named ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

const matches = (rule: PolicyRule, request: RequestAttributes) =>
  (rule.apiGroups.includes('*') || rule.apiGroups.includes(request.group))
  && (rule.resources.includes('*') || rule.resources.includes(request.resource))
  && (rule.verbs.includes('*') || rule.verbs.includes(request.verb));

/** Throws the apiserver's 403 when the account may not make this request. */
export function authorize(account: ServiceAccountRbac, request: RequestAttributes): void {
  const rules = [...account.clusterRules, ...(request.namespace ? account.namespaceRules[request.namespace] ?? [] : [])];
  if (rules.some((rule) => matches(rule, request))) return;
  const [plural, subresource] = request.resource.split('/');
  throw new StatusError(403, 'Forbidden', `${request.resource}${request.group ? `.${request.group}` : ''} is forbidden: User "${
    account.user}" cannot ${request.verb} resource "${request.resource}" in API group "${request.group}"${
    request.namespace ? ` in the namespace "${request.namespace}"` : ' at the cluster scope'}`,
  { kind: plural, group: request.group, ...(subresource ? { subresource } : {}) });
}
