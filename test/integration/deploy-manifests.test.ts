// The compose files and the Kubernetes manifests, parsed as YAML (the `yaml` package) and checked
// for what issue 17 asks of them and for references to things that exist: every ${VAR} they read is
// one .env.example documents, every environment name given to the gateway is one it reads, ports
// and paths match the image, and every Service, ConfigMap, Secret, claim and target they name is
// defined. No container engine or cluster runs here; see the README's "not run here".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV_EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');
const GATEWAY_PORT = 8123;

/** A Compose interpolation as written in the file: ref('DOMAIN') is the text $ { DOMAIN }. */
const ref = (inner: string) => ['$', '{', inner, '}'].join('');

type Node = Record<string, unknown>;
const obj = (value: unknown): Node => (value ?? {}) as Node;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function compose(name: string): Node {
  return obj(parse(readFileSync(join(ROOT, name), 'utf8')));
}

/** Names read with ${NAME}, ${NAME:-default} or ${NAME:?message} (Compose interpolation). */
function interpolated(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(?:[:?-][^}]*)?\}/g)].map((m) => m[1] ?? ''))];
}

/** Documented in .env.example as `# NAME=` (every setting the gateway or the scripts read). */
function documented(name: string): boolean {
  return new RegExp(`^#?\\s*${name}=`, 'm').test(ENV_EXAMPLE);
}

function labels(service: Node): Map<string, string> {
  return new Map(
    list(service.labels).map((label) => {
      const text = String(label);
      const eq = text.indexOf('=');
      return [text.slice(0, eq), text.slice(eq + 1)] as const;
    }),
  );
}

describe('docker-compose.yml', () => {
  const file = compose('docker-compose.yml');
  const services = obj(file.services);
  const gateway = obj(services['ai-proxy']);

  it('runs the gateway from this Dockerfile with .env, Redis for shared limits, port 8123', () => {
    expect(Object.keys(services).sort()).toEqual(['ai-proxy', 'redis']);
    expect(gateway.build).toBe('.');
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    expect(gateway.env_file).toBe('.env');
    const env = obj(gateway.environment);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.PORT).toBe(String(GATEWAY_PORT));
    expect(gateway.ports).toEqual([`${GATEWAY_PORT}:${GATEWAY_PORT}`]);
    expect(list(gateway.volumes)).toEqual(['./logs:/app/logs', './keys:/app/keys', './data:/app/data']);
    expect(obj(obj(gateway.depends_on).redis).condition).toBe('service_healthy');
    for (const name of Object.keys(env)) expect(documented(name), name).toBe(true);
    // Longer than serve's 30 s grace period, so the request log is flushed before a SIGKILL.
    expect(gateway.stop_grace_period).toBe('40s');
  });

  it('keeps Redis data on a volume, with a health check', () => {
    const redis = obj(services.redis);
    expect(String(redis.image)).toMatch(/^redis:7/);
    expect(list(redis.command)).toContain('--appendonly');
    expect(list(redis.volumes)).toEqual(['redis-data:/data']);
    expect(Object.keys(obj(file.volumes))).toEqual(['redis-data']);
    expect(list(obj(redis.healthcheck).test)).toEqual(['CMD', 'redis-cli', 'ping']);
  });
});

describe('docker-compose.https.yml', () => {
  const text = readFileSync(join(ROOT, 'docker-compose.https.yml'), 'utf8');
  const file = compose('docker-compose.https.yml');
  const services = obj(file.services);
  const traefik = obj(services.traefik);
  const gateway = obj(services['ai-proxy']);
  const args = list(traefik.command).map(String);
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

  it('reads only variables .env.example documents, with DOMAIN, ACME_EMAIL and the dashboard auth required', () => {
    const names = interpolated(text);
    expect(names.sort()).toEqual([
      'ACME_EMAIL',
      'DOMAIN',
      'HTTPS_PORT',
      'HTTP_PORT',
      'TRAEFIK_DASHBOARD_AUTH',
    ]);
    for (const name of names) expect(documented(name), name).toBe(true);
    for (const required of ['ACME_EMAIL', 'DOMAIN', 'TRAEFIK_DASHBOARD_AUTH']) {
      expect(text).toMatch(new RegExp(`\\$\\{${required}:\\?`));
    }
  });

  it('runs Traefik v3 with Let’s Encrypt on HTTP_PORT and HTTPS_PORT', () => {
    expect(String(traefik.image)).toMatch(/^traefik:v3\./);
    expect(list(traefik.ports)).toEqual([`${ref('HTTP_PORT:-80')}:80`, `${ref('HTTPS_PORT:-443')}:443`]);
    expect(arg('entrypoints.web.address')).toBe(':80');
    expect(arg('entrypoints.websecure.address')).toBe(':443');
    expect(arg('providers.docker.exposedbydefault')).toBe('false');
    expect(arg('certificatesresolvers.letsencrypt.acme.email')).toMatch(/^\$\{ACME_EMAIL:\?/);
    expect(arg('certificatesresolvers.letsencrypt.acme.storage')).toBe('/letsencrypt/acme.json');
    expect(arg('certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint')).toBe('web');
    expect(list(traefik.volumes)).toContain('./letsencrypt:/letsencrypt');
    expect(list(traefik.volumes)).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(arg('api.dashboard')).toBe('true');
    // Traefik reaches the gateway on the network it is told to use.
    const networks = obj(file.networks);
    expect(obj(networks.web).name).toBe(arg('providers.docker.network'));
    expect(list(traefik.networks)).toContain('web');
    expect(list(gateway.networks)).toContain('web');
  });

  it('redirects HTTP to HTTPS, serves the gateway at DOMAIN with HSTS, the dashboard at traefik.DOMAIN behind basic auth', () => {
    const t = labels(traefik);
    expect(t.get('traefik.http.routers.http-catchall.entrypoints')).toBe('web');
    expect(t.get('traefik.http.routers.http-catchall.middlewares')).toBe('redirect-to-https');
    expect(t.get('traefik.http.middlewares.redirect-to-https.redirectscheme.scheme')).toBe('https');
    expect(t.get('traefik.http.middlewares.redirect-to-https.redirectscheme.port')).toBe(
      ref('HTTPS_PORT:-443'),
    );
    expect(t.get('traefik.http.middlewares.redirect-to-https.redirectscheme.permanent')).toBe('true');
    expect(t.get('traefik.http.routers.dashboard.rule')).toMatch(/^Host\(`traefik\.\$\{DOMAIN:\?[^}]*\}`\)$/);
    expect(t.get('traefik.http.routers.dashboard.service')).toBe('api@internal');
    expect(t.get('traefik.http.routers.dashboard.tls.certresolver')).toBe('letsencrypt');
    expect(t.get('traefik.http.routers.dashboard.middlewares')).toBe('dashboard-auth');
    expect(t.get('traefik.http.middlewares.dashboard-auth.basicauth.users')).toMatch(
      /^\$\{TRAEFIK_DASHBOARD_AUTH:\?/,
    );
    expect(Number(t.get('traefik.http.middlewares.hsts.headers.stsSeconds'))).toBeGreaterThanOrEqual(
      31_536_000,
    );

    const g = labels(gateway);
    expect(g.get('traefik.enable')).toBe('true');
    expect(g.get('traefik.http.routers.ai-proxy.rule')).toBe(`Host(\`${ref('DOMAIN')}\`)`);
    expect(g.get('traefik.http.routers.ai-proxy.entrypoints')).toBe('websecure');
    expect(g.get('traefik.http.routers.ai-proxy.tls.certresolver')).toBe('letsencrypt');
    expect(g.get('traefik.http.routers.ai-proxy.middlewares')).toBe('hsts');
    expect(g.get('traefik.http.services.ai-proxy.loadbalancer.server.port')).toBe(String(GATEWAY_PORT));
  });

  it('runs the same gateway as docker-compose.yml, reachable only through Traefik, TLS ending there', () => {
    const plain = obj(obj(compose('docker-compose.yml').services)['ai-proxy']);
    expect(gateway.build).toBe(plain.build);
    expect(gateway.env_file).toBe('.env');
    expect(gateway.volumes).toEqual(plain.volumes);
    expect(gateway.ports).toBeUndefined();
    const env = obj(gateway.environment);
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: String(GATEWAY_PORT),
      REDIS_URL: 'redis://redis:6379',
    });
    expect(env.TLS_CERT_FILE).toBe('');
    for (const name of Object.keys(env)) expect(documented(name), name).toBe(true);
    expect(list(obj(services.redis).networks)).toEqual(['internal']);
  });
});

describe('deploy/kubernetes', () => {
  const dir = join(ROOT, 'deploy/kubernetes');
  const files = readdirSync(dir).filter((name) => name.endsWith('.yaml'));
  const docs = new Map<string, Node[]>();
  for (const name of files) {
    const parsed = parseAllDocuments(readFileSync(join(dir, name), 'utf8'));
    for (const doc of parsed) expect(doc.errors, name).toEqual([]);
    docs.set(
      name,
      parsed.map((doc) => obj(doc.toJS())),
    );
  }
  const applied = list(obj(docs.get('kustomization.yaml')?.[0]).resources).map(String);
  const resources = applied.flatMap((name) => docs.get(name) ?? []);
  const find = (kind: string, name: string) =>
    [...resources, ...(docs.get('secret.example.yaml') ?? [])].find(
      (r) => r.kind === kind && obj(r.metadata).name === name,
    );
  const deployment = obj(find('Deployment', 'ai-proxy'));
  const pod = obj(obj(deployment.spec).template);
  const container = obj(list(obj(pod.spec).containers)[0]);

  it('parses, and the kustomization applies every file but the Secret example', () => {
    expect(applied.sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort(),
    );
    for (const resource of resources) {
      expect(resource.apiVersion, JSON.stringify(resource.metadata)).toBeTruthy();
      expect(obj(resource.metadata).name).toBeTruthy();
    }
  });

  it('runs the gateway with readiness and liveness on /health, a preStop drain, resource requests, non-root', () => {
    const ports = list(container.ports).map(obj);
    expect(ports).toEqual([{ name: 'http', containerPort: GATEWAY_PORT }]);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      expect(obj(obj(container[probe]).httpGet), probe).toEqual({ path: '/health', port: 'http' });
    }
    expect(obj(obj(obj(container.lifecycle).preStop).exec).command).toEqual(['sleep', '5']);
    const requests = obj(obj(container.resources).requests);
    expect(requests.cpu).toBeTruthy();
    expect(requests.memory).toBeTruthy();
    // The grace period outlasts preStop (5 s) plus serve's own 30 s.
    expect(Number(obj(pod.spec).terminationGracePeriodSeconds)).toBeGreaterThan(35);
    expect(obj(obj(pod.spec).securityContext)).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    // The Deployment's selector picks its own pods.
    expect(obj(pod.metadata).labels).toMatchObject(obj(obj(obj(deployment.spec).selector).matchLabels));
  });

  it('references only ConfigMaps, Secrets, claims and volumes that exist, with environment names the gateway reads', () => {
    const envFrom = list(container.envFrom).map(obj);
    const configMap = obj(find('ConfigMap', String(obj(envFrom[0]?.configMapRef).name)));
    expect(configMap.data).toBeTruthy();
    const secret = obj(find('Secret', String(obj(envFrom[1]?.secretRef).name)));
    expect(secret.stringData).toBeTruthy();
    for (const name of [...Object.keys(obj(configMap.data)), ...Object.keys(obj(secret.stringData))]) {
      expect(documented(name), name).toBe(true);
    }
    for (const variable of list(container.env).map(obj)) {
      if (variable.name !== 'POD_NAME')
        expect(documented(String(variable.name)), String(variable.name)).toBe(true);
    }
    expect(obj(configMap.data).PORT).toBe(String(GATEWAY_PORT));
    const volumes = new Map(list(obj(pod.spec).volumes).map((v) => [String(obj(v).name), obj(v)]));
    for (const mount of list(container.volumeMounts).map(obj)) {
      const volume = volumes.get(String(mount.name));
      expect(volume, String(mount.name)).toBeDefined();
      expect(String(mount.mountPath)).toMatch(/^\/app\//);
      const claim = obj(volume?.persistentVolumeClaim).claimName;
      if (claim !== undefined) expect(find('PersistentVolumeClaim', String(claim))).toBeDefined();
      const map = obj(volume?.configMap);
      if (map.name !== undefined) {
        const data = obj(obj(find('ConfigMap', String(map.name))).data);
        for (const item of list(map.items).map(obj)) expect(data[String(item.key)]).toBeTruthy();
      }
    }
    // The mounted config.yml is the image's default path and parses as a config file.
    expect(
      parse(String(obj(obj(find('ConfigMap', 'ai-proxy-config-file')).data)['config.yml'])),
    ).toBeTruthy();
  });

  it('points REDIS_URL, the Service and the autoscaler at what exists', () => {
    const configMap = obj(find('ConfigMap', 'ai-proxy-config'));
    const redisUrl = new URL(String(obj(configMap.data).REDIS_URL));
    const redisService = obj(find('Service', redisUrl.hostname));
    const redisPort = obj(list(obj(redisService.spec).ports)[0]);
    expect(redisPort.port).toBe(Number(redisUrl.port));
    const redis = obj(find('Deployment', 'ai-proxy-redis'));
    const redisPod = obj(obj(obj(redis.spec).template).metadata);
    expect(redisPod.labels).toMatchObject(obj(obj(redisService.spec).selector));
    const redisContainer = obj(list(obj(obj(obj(obj(redis.spec).template).spec)).containers)[0]);
    expect(list(redisContainer.ports).map((p) => obj(p).name)).toContain(redisPort.targetPort);

    const service = obj(find('Service', 'ai-proxy'));
    expect(obj(pod.metadata).labels).toMatchObject(obj(obj(service.spec).selector));
    // The gateway's Service does not also select the Redis pods.
    expect(redisPod.labels).not.toMatchObject(obj(obj(service.spec).selector));
    expect(obj(list(obj(service.spec).ports)[0]).targetPort).toBe('http');

    const hpa = obj(find('HorizontalPodAutoscaler', 'ai-proxy'));
    expect(obj(obj(hpa.spec).scaleTargetRef)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'ai-proxy',
    });
    expect(Number(obj(hpa.spec).minReplicas)).toBeGreaterThanOrEqual(2);
    const pdb = obj(find('PodDisruptionBudget', 'ai-proxy'));
    expect(obj(pod.metadata).labels).toMatchObject(obj(obj(obj(pdb.spec).selector).matchLabels));
  });
});
