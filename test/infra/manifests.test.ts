// Issue 15, build point 4: the Kubernetes manifests (infra/k8s) as `kubectl kustomize` renders
// them, each object checked against the API schema (npm's kubernetes-models) with no field the
// schema does not know, then read for what the deployment promises.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { skipUnlessInstalled } from '@gatehouse/testing'
import { parseAllDocuments } from 'yaml'

const root = new URL('../../', import.meta.url).pathname

/** A kubectl of 1.24 or newer (infra/k8s/kubectl.sh finds or fetches one), or why there is none. */
function findKubectl(): { path: string } | { missing: string } {
  try {
    return { path: execFileSync('infra/k8s/kubectl.sh', { cwd: root, encoding: 'utf8' }).trim() }
  } catch (error) {
    return { missing: `kubectl 1.24 or newer (infra/k8s/kubectl.sh: ${(error as Error).message.split('\n')[0]})` }
  }
}
const kubectl = findKubectl()
const skip = skipUnlessInstalled('missing' in kubectl ? kubectl.missing : null)

interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields of the kind it expects.
  spec?: any
  data?: Record<string, string>
}

function render(folder: string): K8sObject[] {
  if ('missing' in kubectl) throw new Error(kubectl.missing)
  const text = execFileSync(kubectl.path, ['kustomize', folder], { cwd: root, encoding: 'utf8' })
  return parseAllDocuments(text).map((document) => document.toJS() as K8sObject)
}

// The API schema of each kind the manifests use, as kubernetes-models compiles it.
const schemas: Record<string, string> = {
  'apps/v1 Deployment': 'IoK8sApiAppsV1Deployment',
  'batch/v1 Job': 'IoK8sApiBatchV1Job',
  'v1 ConfigMap': 'IoK8sApiCoreV1ConfigMap',
  'v1 Service': 'IoK8sApiCoreV1Service',
  'autoscaling/v2 HorizontalPodAutoscaler': 'IoK8sApiAutoscalingV2HorizontalPodAutoscaler',
  'policy/v1 PodDisruptionBudget': 'IoK8sApiPolicyV1PodDisruptionBudget',
  'networking.k8s.io/v1 NetworkPolicy': 'IoK8sApiNetworkingV1NetworkPolicy',
  'networking.k8s.io/v1 Ingress': 'IoK8sApiNetworkingV1Ingress',
}
type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null }

/**
 * The schema's errors, plus every field it does not know. The compiled schemas ignore unknown
 * fields (as `kubectl apply` without strict validation would); the validator is handed the object
 * through proxies that note each field it looks at, and a field it never looked at is one the
 * schema has no place for (a map's entries, such as labels, are all looked at).
 */
async function schemaProblems(object: K8sObject): Promise<string[]> {
  const schema = schemas[`${object.apiVersion} ${object.kind}`]
  if (!schema) return [`${object.apiVersion} ${object.kind} is not a kind these manifests should hold`]
  const { validate } = (await import(`kubernetes-models/_schemas/${schema}`)) as { validate: Validate }
  const seen = new WeakMap<object, Set<PropertyKey>>()
  const proxies = new WeakMap<object, object>()
  const watched = (target: object): object => {
    const existing = proxies.get(target)
    if (existing) return existing
    seen.set(target, new Set())
    const proxy = new Proxy(target, {
      get(inner, key, receiver) {
        seen.get(inner)?.add(key)
        const value = Reflect.get(inner, key, receiver)
        return value !== null && typeof value === 'object' ? watched(value) : value
      },
      has(inner, key) {
        seen.get(inner)?.add(key)
        return Reflect.has(inner, key)
      },
    })
    proxies.set(target, proxy)
    return proxy
  }
  const valid = validate(watched(object))
  const problems = valid ? [] : (validate.errors ?? []).map((error) => `${error.instancePath}: ${error.message}`)
  const unknown = (value: unknown, path: string): string[] => {
    if (value === null || typeof value !== 'object') return []
    const looked = seen.get(value) ?? new Set()
    return Object.entries(value).flatMap(([key, child]) => [
      ...(Array.isArray(value) || looked.has(key) ? [] : [`${path}/${key}: not a field of ${object.kind}`]),
      ...unknown(child, `${path}/${key}`),
    ])
  }
  return [...problems, ...unknown(object, '')]
}

const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name)
  assert.ok(found, `no ${kind} ${name}`)
  return found
}
// biome-ignore lint/suspicious/noExplicitAny: a container as the manifests write it.
const containerOf = (object: K8sObject): any => object.spec.template.spec.containers[0]
const envOf = (object: K8sObject): Record<string, string> =>
  Object.fromEntries(
    // biome-ignore lint/suspicious/noExplicitAny: env entries as the manifests write them.
    (containerOf(object).env ?? []).map((entry: any) => [entry.name, entry.value ?? JSON.stringify(entry.valueFrom)]),
  )
const secretsOf = (object: K8sObject): string[] =>
  // biome-ignore lint/suspicious/noExplicitAny: envFrom entries as the manifests write them.
  (containerOf(object).envFrom ?? []).flatMap((source: any) => (source.secretRef ? [source.secretRef.name] : []))

describe('the Kubernetes manifests', { skip }, () => {
  const folders = ['infra/k8s/base', 'infra/k8s/overlays/example']

  for (const folder of folders) {
    it(`${folder} renders to objects its API schemas accept, with no unknown field`, async () => {
      const objects = render(folder)
      assert.ok(objects.length > 20, `only ${objects.length} objects`)
      const problems = await Promise.all(
        objects.map(async (object) =>
          (await schemaProblems(object)).map((problem) => `${object.kind} ${object.metadata.name} ${problem}`),
        ),
      )
      assert.deepEqual(problems.flat(), [])
    })
  }

  it('the strict check names a field the schema does not know', async () => {
    const [deployment] = render('infra/k8s/base').filter((object) => object.kind === 'Deployment')
    assert.ok(deployment)
    containerOf(deployment).readinesProbe = containerOf(deployment).readinessProbe
    assert.deepEqual(await schemaProblems(deployment), [
      '/spec/template/spec/containers/0/readinesProbe: not a field of Deployment',
    ])
  })

  const objects = 'missing' in kubectl ? [] : render('infra/k8s/overlays/example')
  const deployments = objects.filter((object) => object.kind === 'Deployment')

  it('runs each program role as its own Deployment, API roles scaled by an autoscaler, workers apart', () => {
    const roles = deployments.map((deployment) => `${envOf(deployment).SERVICE} ${envOf(deployment).ROLE ?? '-'}`)
    assert.deepEqual(roles.sort(), ['auth api', 'auth worker', 'invitation api', 'invitation worker', 'web -'])
    const scaled = objects
      .filter((object) => object.kind === 'HorizontalPodAutoscaler')
      .map((autoscaler) => autoscaler.spec.scaleTargetRef.name)
    assert.deepEqual(scaled.sort(), ['gatehouse-auth-api', 'gatehouse-invitation-api', 'gatehouse-web'])
    for (const name of ['gatehouse-auth', 'gatehouse-invitation']) {
      assert.equal(
        named(objects, 'Service', name).spec.selector['gatehouse/role'],
        'api',
        `${name} serves the API pods`,
      )
    }
  })

  it('migrates each schema in a hook Job, never in the API or worker replicas', () => {
    for (const service of ['auth', 'invitation']) {
      const job = named(objects, 'Job', `gatehouse-${service}-migrate`)
      assert.deepEqual(envOf(job), { SERVICE: service, ROLE: 'migrate' })
      assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade')
      assert.equal(job.metadata.annotations?.['argocd.argoproj.io/hook'], 'PreSync')
      assert.deepEqual(secretsOf(job), [`gatehouse-${service}`])
    }
    for (const deployment of deployments) assert.notEqual(envOf(deployment).ROLE, 'all')
  })

  it('gives each program only its own Secret, and web none', () => {
    for (const deployment of deployments) {
      const service = envOf(deployment).SERVICE
      assert.deepEqual(
        secretsOf(deployment),
        service === 'web' ? [] : [`gatehouse-${service}`],
        deployment.metadata.name,
      )
      const keyRefs = JSON.stringify(containerOf(deployment).env ?? [])
      assert.doesNotMatch(keyRefs, /secretKeyRef/, `${deployment.metadata.name} reads another Secret`)
    }
  })

  it('pins the image, spreads replicas over nodes, sets memory requests, and keeps web ready without its upstreams', () => {
    for (const deployment of deployments) {
      const container = containerOf(deployment)
      assert.match(container.image, /^[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/, 'a tag or digest')
      assert.doesNotMatch(container.image, /:latest$/)
      assert.ok(container.resources.requests.memory, `${deployment.metadata.name} requests memory`)
      assert.ok(container.securityContext.readOnlyRootFilesystem)
      const spread = deployment.spec.template.spec.topologySpreadConstraints
      assert.ok(
        spread.some((constraint: { topologyKey: string }) => constraint.topologyKey === 'kubernetes.io/hostname'),
      )
      assert.equal(deployment.spec.template.spec.securityContext.runAsUser, 1000)
    }
    assert.equal(containerOf(named(objects, 'Deployment', 'gatehouse-web')).readinessProbe.httpGet.path, '/readyz')
  })

  it('sets TRUST_PROXY from the overlay: web believes the ingress range, auth and invitation web’s pods', () => {
    const proxies = named(objects, 'ConfigMap', 'gatehouse-proxies')
    assert.ok(proxies.data?.web && proxies.data.services, 'the overlay sets both ranges')
    assert.notEqual(proxies.data.web, '10.0.0.0/8')
    const base = named(render('infra/k8s/base'), 'ConfigMap', 'gatehouse-proxies')
    assert.deepEqual(base.data, { web: '', services: '' }, 'the base believes nobody')
  })

  it('lets only web in from the ingress, only web and invitation reach auth, and keeps web from the databases', () => {
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy')
    const selecting = (labels: Record<string, string>) =>
      policies.filter((policy) =>
        Object.entries(policy.spec.podSelector.matchLabels ?? {}).every(([key, value]) => labels[key] === value),
      )
    const podLabels = (deployment: K8sObject): Record<string, string> => deployment.spec.template.metadata.labels
    // biome-ignore lint/suspicious/noExplicitAny: NetworkPolicy peers as the manifests write them.
    const inboundPeers = (labels: Record<string, string>): any[] =>
      selecting(labels)
        .filter((policy) => policy.spec.policyTypes.includes('Ingress'))
        .flatMap((policy) => (policy.spec.ingress ?? []).flatMap((rule: { from?: unknown[] }) => rule.from ?? []))
    const namespacesOf = (peers: { namespaceSelector?: { matchLabels: Record<string, string> } }[]) =>
      peers.flatMap((peer) =>
        peer.namespaceSelector ? [peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']] : [],
      )

    const defaultDeny = named(objects, 'NetworkPolicy', 'gatehouse-default-deny')
    assert.deepEqual(defaultDeny.spec.policyTypes, ['Ingress', 'Egress'])
    assert.equal(defaultDeny.spec.ingress, undefined)
    for (const deployment of deployments) {
      const labels = podLabels(deployment)
      const namespaces = namespacesOf(inboundPeers(labels))
      const fromIngress = namespaces.includes('ingress-nginx')
      assert.equal(
        fromIngress,
        labels['app.kubernetes.io/component'] === 'web',
        `${deployment.metadata.name} from the ingress`,
      )
    }
    const authApi = podLabels(named(objects, 'Deployment', 'gatehouse-auth-api'))
    const authPeers = inboundPeers(authApi)
      .filter((peer) => peer.podSelector)
      .map((peer) => peer.podSelector.matchLabels['app.kubernetes.io/component'])
    assert.deepEqual(authPeers.sort(), ['invitation', 'web'])
    const invitationApi = podLabels(named(objects, 'Deployment', 'gatehouse-invitation-api'))
    const invitationPeers = inboundPeers(invitationApi)
      .filter((peer) => peer.podSelector)
      .map((peer) => peer.podSelector.matchLabels['app.kubernetes.io/component'])
    assert.deepEqual(invitationPeers, ['web'])
    // web's way out: auth's and invitation's API pods (and DNS), no address block such as a database's.
    const webOut = selecting(podLabels(named(objects, 'Deployment', 'gatehouse-web')))
      .filter((policy) => policy.spec.policyTypes.includes('Egress'))
      .flatMap((policy) => policy.spec.egress ?? [])
    for (const rule of webOut) {
      assert.ok(rule.to?.length > 0, 'web may not reach everywhere')
      for (const peer of rule.to) assert.equal(peer.ipBlock, undefined)
    }
  })
})
