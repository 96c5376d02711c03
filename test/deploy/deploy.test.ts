import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/server/config.js';
import { SECURITY_HEADERS } from '../../src/server/http.js';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.js';
import { GUIDE_TLS12_CIPHERS } from '../../src/server/tls.js';

/**
 * The deployment files of deploy/ checked against the security guide and against the
 * server itself (its variables, port, probes and headers), so they cannot drift apart.
 */
const DEPLOY = path.join(import.meta.dirname, '../../deploy');
const read = (file: string) => readFileSync(path.join(DEPLOY, file), 'utf8');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function manifests(file: string): Obj[] {
  const docs = parseAllDocuments(read(`kubernetes/${file}`));
  for (const doc of docs) expect(doc.errors, file).toEqual([]);
  return docs.map((d) => d.toJS() as Obj);
}

describe('Kubernetes manifests', () => {
  const [deployment] = manifests('deployment.yaml');
  const [service] = manifests('service.yaml');
  const [policy] = manifests('networkpolicy.yaml');
  const secrets = manifests('secret.yaml');
  const pod = deployment!.spec.template.spec;
  const api = pod.containers.find((c: Obj) => c.name === 'api');
  const env = new Map<string, Obj>(api.env.map((e: Obj) => [e.name, e]));
  const containerPort = api.ports.find((p: Obj) => p.name === 'http').containerPort;

  it("the pod runs with the guide's security context", () => {
    expect(deployment!.kind).toBe('Deployment');
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(api.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = pod.volumes.find((v: Obj) => v.name === 'tmp');
    expect(tmp).toEqual({ name: 'tmp', emptyDir: {} });
    expect(api.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('probes /healthz and /readyz on the port the server listens on', () => {
    expect(api.livenessProbe.httpGet.path).toBe('/healthz');
    expect(api.readinessProbe.httpGet.path).toBe('/readyz');
    for (const probe of [api.livenessProbe, api.readinessProbe])
      expect(probe.httpGet.port).toBe('http');
    expect(Number(env.get('PORT')!.value)).toBe(containerPort);
    expect(env.get('HOST')!.value).toBe('0.0.0.0');
  });

  it('sets only variables the server reads, secrets by reference to keys the Secret has, and a valid configuration', () => {
    for (const name of env.keys())
      expect([...CONFIG_VARIABLES, 'FIREBACKUP_HOME'], name).toContain(name);
    const secretKeys = new Map<string, string[]>(
      secrets.map((s) => [s.metadata.name, Object.keys(s.stringData)]),
    );
    for (const name of [
      'JWT_SECRET',
      'DATABASE_URL',
      'REDIS_URL',
      'GOOGLE_CLIENT_ID',
      'GOOGLE_CLIENT_SECRET',
    ]) {
      const ref = env.get(name)!.valueFrom.secretKeyRef;
      expect(secretKeys.get(ref.name), name).toContain(ref.key);
    }
    // Files named by variables come from a mounted Secret whose keys exist.
    const mount = api.volumeMounts.find((m: Obj) => m.name === 'database-tls');
    const volume = pod.volumes.find((v: Obj) => v.name === 'database-tls');
    for (const name of ['DATABASE_SSL_CA', 'DATABASE_SSL_CERT', 'DATABASE_SSL_KEY']) {
      const file = String(env.get(name)!.value);
      expect(path.dirname(file)).toBe(mount.mountPath);
      expect(secretKeys.get(volume.secret.secretName)).toContain(path.basename(file));
    }
    // With secrets filled in (and the files stubbed), the server accepts the configuration.
    const values = Object.fromEntries(
      [...env.values()].filter((e) => 'value' in e).map((e) => [e.name, String(e.value)]),
    );
    const config = loadConfig({
      ...values,
      DATABASE_SSL_CA: undefined,
      DATABASE_SSL_CERT: undefined,
      DATABASE_SSL_KEY: undefined,
      JWT_SECRET: 'k'.repeat(64),
      DATABASE_URL: 'postgresql://fb:pw@postgresql:5432/firebackup?sslmode=require',
      REDIS_URL: 'rediss://:pw@redis:6379',
      GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
      GOOGLE_CLIENT_SECRET: 'secret',
    });
    // Google sign-in is configured: without it nobody could sign in.
    expect(config.google?.callbackUrl).toMatch(/^https:\/\//);
    expect(deployment!.spec.replicas).toBeGreaterThan(1);
  });

  it('the Service and the NetworkPolicy select the pods, on their port', () => {
    const labels = deployment!.spec.template.metadata.labels;
    expect(deployment!.spec.selector.matchLabels).toEqual(labels);
    for (const [k, v] of Object.entries(service!.spec.selector)) expect(labels[k]).toBe(v);
    expect(service!.spec.ports[0].targetPort).toBe('http');
    for (const [k, v] of Object.entries(policy!.spec.podSelector.matchLabels))
      expect(labels[k]).toBe(v);
    expect(policy!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy!.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: containerPort }]);
    const egressPorts = policy!.spec.egress.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port));
    expect(egressPorts).toEqual(expect.arrayContaining([5432, 6379, 443]));
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = text.split(/^FROM /m).slice(1);
  const final = stages.at(-1)!;

  it('runs the server on a distroless Node base as the non-root user, with no shell steps', () => {
    expect(final.split('\n')[0]).toMatch(/^gcr\.io\/distroless\/nodejs20-debian12(:nonroot)?\s*$/);
    expect(final).toMatch(/^USER nonroot:nonroot$/m);
    // Distroless has no shell: the final stage has no RUN, and CMD is the exec form.
    expect(final).not.toMatch(/^RUN /m);
    // node's own flags first (the entrypoint is node), exactly the server's deployed ones.
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]!) as string[];
    expect(cmd).toEqual([...SERVER_NODE_FLAGS, 'bin/firebackup.js', 'server']);
    expect(final).toMatch(/PORT=4000/);
    // Nothing is written outside /tmp (read-only root filesystem).
    expect(final).toMatch(/FIREBACKUP_HOME=\/tmp\//);
    for (const copy of final.match(/^COPY .*/gm) ?? []) expect(copy).toMatch(/--from=build/);
  });
});

/** nginx configuration as a tree of directives: [name, ...args] with optional blocks. */
interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** A small nginx parser: comments, quoted strings, `;` and `{ }`; throws on bad structure. */
function parseNginx(text: string): Directive[] {
  const tokens = [
    ...text
      .replace(/#[^\n]*/g, '')
      .matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|([{};])|([^\s{};"']+)/g),
  ].map((m) => ({ word: m[1] ?? m[2] ?? m[4], punct: m[3] }));
  let i = 0;
  const block = (closing: boolean): Directive[] => {
    const out: Directive[] = [];
    let current: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.punct === ';') {
        if (current.length === 0) throw new Error('empty directive');
        out.push({ name: current[0]!, args: current.slice(1) });
        current = [];
      } else if (t.punct === '{') {
        const inner = block(true);
        out.push({ name: current[0]!, args: current.slice(1), block: inner });
        current = [];
      } else if (t.punct === '}') {
        if (!closing || current.length > 0) throw new Error('unbalanced } or missing ;');
        return out;
      } else current.push(t.word!);
    }
    if (closing || current.length > 0) throw new Error('unclosed block or missing ;');
    return out;
  };
  return block(false);
}

describe('nginx configuration', () => {
  const top = parseNginx(read('nginx/firebackup.conf'));
  const servers = top.filter((d) => d.name === 'server');
  const tls = servers.find((s) =>
    s.block!.some((d) => d.name === 'listen' && d.args.includes('ssl')),
  )!;
  const all = (name: string, within = tls.block!) => within.filter((d) => d.name === name);
  const one = (name: string, within = tls.block!) => {
    const found = all(name, within);
    expect(found, name).toHaveLength(1);
    return found[0]!.args;
  };

  it("has the guide's TLS settings", () => {
    expect(one('ssl_protocols')).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(one('ssl_ciphers')).toEqual([GUIDE_TLS12_CIPHERS.join(':')]);
    expect(one('ssl_prefer_server_ciphers')).toEqual(['off']);
    expect(one('ssl_session_timeout')).toEqual(['1d']);
    expect(one('ssl_session_cache')).toEqual(['shared:SSL:50m']);
    expect(one('ssl_session_tickets')).toEqual(['off']);
    expect(one('ssl_stapling')).toEqual(['on']);
    expect(one('ssl_stapling_verify')).toEqual(['on']);
    for (const name of [
      'ssl_certificate',
      'ssl_certificate_key',
      'ssl_trusted_certificate',
      'ssl_dhparam',
    ])
      expect(one(name)[0]).toMatch(/^\/etc\/nginx\/ssl\/.+\.pem$/);
  });

  it('sends the same security headers as the server, always, once', () => {
    const headers = new Map(all('add_header').map((d) => [d.args[0], d.args.slice(1)]));
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      expect(headers.get(name), name).toEqual([value, 'always']);
      expect(all('proxy_hide_header').map((d) => d.args[0])).toContain(name);
    }
  });

  it("has the guide's rate limits and redirects HTTP to HTTPS", () => {
    const zones = top.filter((d) => d.name === 'limit_req_zone').map((d) => d.args);
    expect(zones).toContainEqual(['$binary_remote_addr', 'zone=api:10m', 'rate=10r/s']);
    expect(zones).toContainEqual(['$binary_remote_addr', 'zone=auth:10m', 'rate=5r/m']);
    expect(top.find((d) => d.name === 'limit_conn_zone')!.args).toEqual([
      '$binary_remote_addr',
      'zone=conn:10m',
    ]);
    const location = (prefix: string) =>
      all('location').find((d) => d.args.join(' ') === prefix)!.block!;
    expect(one('limit_req', location('/api/'))).toEqual(['zone=api', 'burst=20', 'nodelay']);
    expect(one('limit_conn', location('/api/'))).toEqual(['conn', '20']);
    expect(one('limit_req', location('/api/v1/auth/'))).toEqual([
      'zone=auth',
      'burst=5',
      'nodelay',
    ]);
    for (const prefix of ['/api/', '/api/v1/auth/', '= /healthz', '= /readyz'])
      expect(one('proxy_pass', location(prefix))).toEqual(['http://firebackup_api']);
    const plain = servers.find((s) => s !== tls)!;
    expect(all('listen', plain.block).map((d) => d.args)).toContainEqual(['80']);
    expect(one('return', plain.block)).toEqual(['301', 'https://$host$request_uri']);
    // The server trusts X-Forwarded-For behind this proxy (TRUST_PROXY=true).
    expect(all('proxy_set_header').map((d) => d.args[0])).toContain('X-Forwarded-For');
  });

  it('the parser refuses a broken file (it would not pass a missing ; or brace)', () => {
    expect(() => parseNginx('server { listen 80 }')).toThrow();
    expect(() => parseNginx('server { listen 80;')).toThrow();
  });
});
