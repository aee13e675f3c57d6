import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readStageSettings } from '#cdk/stage-settings.ts';

describe('readStageSettings', () => {
  it('builds the dev stage when no context is given', () => {
    // Prepare
    const app = new App();

    // Act
    const settings = readStageSettings(app.node);

    // Assess
    expect(settings).toMatchObject({ stage: 'dev', resourcePrefix: 'ghtrader-dev-', isProduction: false });
  });

  it('derives the resource prefix from the stage and marks prod as production', () => {
    // Prepare
    const app = new App({ context: { stage: 'prod' } });

    // Act
    const settings = readStageSettings(app.node);

    // Assess
    expect(settings).toMatchObject({ stage: 'prod', resourcePrefix: 'ghtrader-prod-', isProduction: true });
  });

  it('accepts numbers given as strings, as `-c key=value` passes them', () => {
    // Prepare
    const app = new App({ context: { jobsMaxConcurrency: '25', logRetentionDays: '90' } });

    // Act
    const settings = readStageSettings(app.node);

    // Assess
    expect(settings).toMatchObject({ jobsMaxConcurrency: 25, logRetention: 90 });
  });

  it('refuses a bad stage name and a log retention CloudWatch does not offer, naming both', () => {
    // Prepare
    const app = new App({ context: { stage: 'Prod!', logRetentionDays: '42' } });

    // Act
    const read = () => readStageSettings(app.node);

    // Assess
    expect(read).toThrow(/stage="Prod!": .*; logRetentionDays="42": one of 1, 3, 5/);
  });
});

describe('readStageSettings questdbHttp', () => {
  it.each(['http://questdb.internal:9000', 'https://questdb.example.com'])('accepts the QuestDB URL %s', (url) => {
    // Prepare
    const app = new App({ context: { questdbHttp: url } });

    // Act
    const settings = readStageSettings(app.node);

    // Assess
    expect(settings.questdbHttp).toBe(url);
  });

  it.each([
    ['absent', {}],
    ['empty, as `-c questdbHttp=` passes it', { questdbHttp: '' }],
  ])('leaves the data chain disabled when questdbHttp is %s', (_case, context) => {
    // Prepare
    const app = new App({ context });

    // Act
    const settings = readStageSettings(app.node);

    // Assess
    expect(settings.questdbHttp).toBeUndefined();
  });

  it.each(['questdb.internal:9000', 'tcp://questdb.internal:9009', 'http://'])(
    'refuses the QuestDB URL %s, naming the key and what it expects',
    (url) => {
      // Prepare
      const app = new App({ context: { questdbHttp: url } });

      // Act
      const read = () => readStageSettings(app.node);

      // Assess
      expect(read).toThrow(
        `invalid CDK context: questdbHttp=${JSON.stringify(url)}: an http:// or https:// URL, e.g. http://questdb.internal:9000`,
      );
    },
  );
});
