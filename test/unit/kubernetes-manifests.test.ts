/**
 * deploy/kubernetes/: every object validated offline against the Kubernetes OpenAPI schemas
 * (npm kubernetes-models, generated from Kubernetes 1.27's OpenAPI document) and the KEDA
 * objects against KEDA's CRD schemas (npm @kubernetes-models/keda, generated from KEDA's CRDs);
 * then what the schemas cannot know: probes, shutdown and memory that fit the service's own
 * settings, selectors that match, a replica cap at the partition count, a configuration the
 * service accepts. The schemas allow unknown fields (as the API server does without strict
 * field validation), so a misspelt field is caught only where an assertion below reads it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';

const DIR = new URL('../../deploy/kubernetes/', import.meta.url);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The model (schema validator) of each kind the manifests use. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

function validationErrors(manifest: Manifest): string | undefined {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(structuredClone(manifest) as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const files = readdirSync(DIR).filter(
  (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
);
const manifests: Array<Manifest & { file: string }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8')).map((document) => ({
    ...(document.toJS() as Manifest),
    file,
  })),
);

function only<T = Manifest>(kind: string): T {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as T;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
}
type Workload = Manifest & {
  spec: { selector?: { matchLabels: Record<string, string> }; template: PodTemplate };
};

const deployment = only<Workload>('Deployment');
const job = only<Workload>('Job');
const configMap = only<Manifest & { data: Record<string, string> }>('ConfigMap');
const secret = only<Manifest & { stringData: Record<string, string> }>('Secret');
const scaledObject = only<
  Manifest & {
    spec: {
      scaleTargetRef: { kind?: string; name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: Array<{
        type: string;
        metadata: Record<string, string>;
        authenticationRef?: { name: string };
      }>;
    };
  }
>('ScaledObject');
const serviceContainer = deployment.spec.template.spec.containers[0] as Container;

/** MiB from a Kubernetes memory quantity (Mi or Gi). */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(match, `memory quantity ${quantity} in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('Kubernetes manifests (deploy/kubernetes/)', () => {
  it('are valid against the Kubernetes OpenAPI and KEDA CRD schemas', () => {
    for (const manifest of manifests) {
      assert.equal(validationErrors(manifest), undefined, `${manifest.file}: ${manifest.kind}`);
    }
  });

  it('would be rejected by the same check if they were malformed (the check is not vacuous)', () => {
    const broken = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
    broken.spec.replicas = 'two';
    assert.match(validationErrors(broken as never) ?? '', /replicas must be integer/);
    const noTriggers = structuredClone(scaledObject) as unknown as {
      spec: Record<string, unknown>;
    };
    delete noTriggers.spec.triggers;
    assert.match(
      validationErrors(noTriggers as never) ?? '',
      /must have required property triggers/,
    );
  });

  it('lists every manifest in the kustomization', () => {
    const kustomization = parseAllDocuments(
      readFileSync(new URL('kustomization.yaml', DIR), 'utf8'),
    )[0]?.toJS() as { resources: string[] };
    assert.deepEqual([...kustomization.resources].sort(), [...files].sort());
  });

  it('configures the service so that it starts: the ConfigMap and Secret pass its own validation', () => {
    const result = loadConfig({ ...configMap.data, ...secret.stringData });
    assert.ok(result.ok, `the configuration is rejected: ${result.ok ? '' : result.problems}`);
    for (const container of [serviceContainer, job.spec.template.spec.containers[0]]) {
      const sources = (container?.envFrom ?? []).map(
        (source) => source.configMapRef?.name ?? source.secretRef?.name,
      );
      assert.ok(sources.includes(secret.metadata.name), `${container?.name} reads the Secret`);
    }
    assert.ok(
      (serviceContainer.envFrom ?? []).some(
        (source) => source.configMapRef?.name === configMap.metadata.name,
      ),
    );
  });

  it('probes /healthz for liveness and start-up, /readyz for readiness, on the HTTP_PORT', () => {
    const port = serviceContainer.ports?.find(({ name }) => name === 'http');
    assert.equal(String(port?.containerPort), configMap.data.HTTP_PORT);
    assert.deepEqual(serviceContainer.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(serviceContainer.startupProbe?.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(serviceContainer.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
  });

  it('gives a graceful stop longer than SHUTDOWN_TIMEOUT_MS before Kubernetes kills the pod', () => {
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(
      grace * 1000 > Number(configMap.data.SHUTDOWN_TIMEOUT_MS) + 5_000,
      `terminationGracePeriodSeconds ${grace} s vs SHUTDOWN_TIMEOUT_MS ${configMap.data.SHUTDOWN_TIMEOUT_MS}`,
    );
  });

  it('sizes the V8 heap of NODE_OPTIONS to fit the memory limit, with room for the rest', () => {
    const nodeOptions =
      serviceContainer.env?.find(({ name }) => name === 'NODE_OPTIONS')?.value ?? '';
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    const semiSpace = Number(/--max-semi-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    assert.ok(oldSpace > 0 && semiSpace > 0, `NODE_OPTIONS caps the heap: "${nodeOptions}"`);
    const limit = mebibytes(serviceContainer.resources?.limits?.memory ?? '');
    // The young generation is three semi-spaces; code, buffers and sockets need ~100 MiB more.
    assert.ok(
      oldSpace + 3 * semiSpace + 100 <= limit,
      `heap ${oldSpace} + 3 x ${semiSpace} MiB + 100 MiB must fit the ${limit} MiB limit`,
    );
    assert.ok(
      mebibytes(serviceContainer.resources?.requests?.memory ?? '') >= 240,
      'the request covers the measured peak RSS',
    );
  });

  it('selects the Deployment pods from the PodDisruptionBudget and the Service', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    assert.ok(matches(deployment.spec.selector?.matchLabels ?? {}));
    const budget = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      'PodDisruptionBudget',
    );
    assert.ok(matches(budget.spec.selector.matchLabels));
    const service = only<Manifest & { spec: { selector: Record<string, string> } }>('Service');
    assert.ok(matches(service.spec.selector));
  });

  it('migrates with the same image, as a Job that runs `customer-sync migrate`', () => {
    const migrate = job.spec.template.spec.containers[0];
    assert.equal(migrate?.image, serviceContainer.image);
    assert.deepEqual(migrate?.command?.slice(-2), ['src/cli/bin.ts', 'migrate']);
  });

  it('scales on the consumer lag of the group and topic the service reads, up to the partition count', () => {
    const { spec } = scaledObject;
    assert.equal(spec.scaleTargetRef.name, deployment.metadata.name);
    assert.ok(spec.minReplicaCount >= 1);
    assert.ok(
      spec.maxReplicaCount <= Number(configMap.data.KAFKA_TOPIC_PARTITIONS),
      `maxReplicaCount ${spec.maxReplicaCount} <= KAFKA_TOPIC_PARTITIONS ${configMap.data.KAFKA_TOPIC_PARTITIONS}`,
    );
    const [trigger] = spec.triggers;
    assert.equal(trigger?.type, 'kafka');
    assert.equal(trigger?.metadata.consumerGroup, configMap.data.KAFKA_GROUP_ID);
    assert.equal(trigger?.metadata.topic, configMap.data.TOPIC_UPDATE_REQUESTED);
    assert.equal(trigger?.metadata.bootstrapServers, configMap.data.KAFKA_BROKERS);
    assert.notEqual(trigger?.metadata.allowIdleConsumers, 'true');
    const authentication = only<
      Manifest & { spec: { secretTargetRef: Array<{ name: string; key: string }> } }
    >('TriggerAuthentication');
    assert.equal(trigger?.authenticationRef?.name, authentication.metadata.name);
    for (const { name, key } of authentication.spec.secretTargetRef) {
      assert.equal(name, secret.metadata.name);
      assert.ok(key in secret.stringData, `the Secret has ${key}`);
    }
  });
});
