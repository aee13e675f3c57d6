import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type CfnElement, Validations } from 'aws-cdk-lib';
import { VALIDATION_REPORT_FILE } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, removeOutputs, SKIP_BUNDLING, type SynthesizedApp, synthApp } from './synth-app.ts';

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` recorded in the construct tree under `root`. */
function acknowledgementsUnder(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib records ids without a known prefix as `Annotation::<id>`; cdk-nag strips it the same way.
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  // Templates only: nag reads the construct tree, not the bundles, so esbuild is skipped here.
  let built: SynthesizedApp;
  let unacknowledged: ReturnType<typeof buildApp> | undefined;

  beforeAll(() => {
    built = synthApp(SKIP_BUNDLING);
  });

  afterAll(() => {
    removeOutputs(built, unacknowledged);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('leaves no unacknowledged error or warning in the whole app', () => {
    // Prepare
    const checks = new AwsSolutionsChecks(built.app);

    // Act
    const report = checks.validateScope(built.app);

    // Assess
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.description}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finishes synthesis with a validation report free of violations', () => {
    // Prepare
    const reportFile = path.join(built.assembly.directory, VALIDATION_REPORT_FILE);

    // Act
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { pluginReports: { violations?: unknown[] }[] };

    // Assess
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('gives every acknowledgement a reason of at least 10 characters', () => {
    // Prepare
    const acknowledgements = acknowledgementsUnder(built.app);

    // Act
    const thin = acknowledgements.filter((a) => a.reason.trim().length < 10);

    // Assess
    expect(acknowledgements.length).toBeGreaterThan(0);
    expect(thin).toEqual([]);
  });

  it('acknowledges exactly the findings listed in cdk/README.md, on the constructs that have them', () => {
    // Prepare
    const { jobs, console: web } = built;
    const bucketId = jobs.getLogicalId(jobs.artifactsBucket.node.defaultChild as CfnElement);
    const wsApiId = web.getLogicalId(web.wsApi.node.defaultChild as CfnElement);
    const accountSecrets =
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:ghtrader/dev/accounts/*]';
    const connections = ['POST', 'DELETE'].map(
      (method) =>
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${wsApiId}>/ws/${method}/@connections/*]`,
    );

    // Act
    const acknowledged = acknowledgementsUnder(built.app)
      .map((a) => `${a.id} @ ${a.path}`)
      .sort();

    // Assess
    expect(acknowledged).toEqual(
      [
        ...[jobs.worker, jobs.dlqHandler, jobs.reconciler].map((fn) => `AwsSolutions-L1 @ ${fn.fn.node.path}`),
        `AwsSolutions-SMG4 @ ${jobs.diffSecret.node.path}`,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*] @ ${jobs.worker.role.node.path}`,
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/jobs/*] @ ${jobs.jobLogReadPolicy.node.path}`,
        `${accountSecrets} @ ${jobs.worker.role.node.path}`,
        `${accountSecrets} @ ${web.httpApiFunction.role.node.path}`,
        `AwsSolutions-IAM5[Resource::*] @ ${web.httpApiFunction.role.node.path}`,
        ...[web.httpApiFunction, web.wsAuthorizer, web.wsConnect, web.wsDisconnect, web.wsDefault].map(
          (fn) => `AwsSolutions-L1 @ ${fn.fn.node.path}`,
        ),
        `AwsSolutions-SMG4 @ ${web.cursorSecret.node.path}`,
        `AwsSolutions-SMG4 @ ${web.originSecret.node.path}`,
        `AwsSolutions-APIG4 @ ${web.httpApi.node.path}/DefaultRoute`,
        `AwsSolutions-APIG4 @ ${web.wsApi.node.path}/$disconnect-Route`,
        `AwsSolutions-APIG4 @ ${web.wsApi.node.path}/$default-Route`,
        ...connections.map((id) => `${id} @ ${web.wsDefault.role.node.path}`),
        ...connections.map((id) => `${id} @ ${web.broadcasterPolicy.node.path}`),
        `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] @ ${web.apiGatewayLogsRole.node.path}`,
        `AwsSolutions-S1 @ ${web.accessLogs.node.path}`,
        ...['CFR1', 'CFR2', 'CFR4'].map((rule) => `AwsSolutions-${rule} @ ${web.distribution.node.path}`),
      ].sort(),
    );
  });

  it('acknowledges only findings that cdk-nag actually reports, each on the construct that has it', () => {
    // Prepare
    const acknowledgements = acknowledgementsUnder(built.app);
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    // Built, not synthesized: synthesis would (rightly) fail on the findings this test wants to see.
    unacknowledged = buildApp(SKIP_BUNDLING);

    // Act
    const findings = new AwsSolutionsChecks(unacknowledged.app)
      .validateScope(unacknowledged.app)
      .violations.flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })));

    // Assess
    const explains = (a: Acknowledgement) =>
      findings.some((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`)));
    expect(acknowledgements.filter((a) => !explains(a))).toEqual([]);
    expect(findings.filter((f) => !acknowledgements.some((a) => a.id === f.id && f.path.startsWith(a.path)))).toEqual(
      [],
    );
  });
});
