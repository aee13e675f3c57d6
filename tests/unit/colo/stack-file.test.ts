import { describe, expect, it } from 'vitest';
import { type StackFile, StackFileSchema, stackEnv } from '#colo/stack-file.ts';

const STACK: StackFile = {
  v: 1,
  pid: 4242,
  started_at: '2025-03-04T02:00:00.000Z',
  web_url: 'http://127.0.0.1:8000',
  dynamo_endpoint: 'http://127.0.0.1:4567',
  sqs_endpoint: 'http://127.0.0.1:4568',
  redis_url: 'redis://127.0.0.1:6379',
  resource_prefix: 'ghtrader-',
  redis_prefix: 'ghtrader:',
  region: 'us-east-1',
  sim_url: 'http://127.0.0.1:7777',
  sim_token: 'dev.token.x',
};

describe('stack.json and the environment of commands that join a running stack', () => {
  it("points the DIFF client at the stack's simulator through discovery (AUTH, NS, FILES, dev token)", () => {
    // Act
    const env = stackEnv(STACK, {});

    // Assess
    expect(env).toMatchObject({
      GHTRADER_DIFF_AUTH_URL: 'http://127.0.0.1:7777',
      GHTRADER_DIFF_NS_URL: 'http://127.0.0.1:7777/ns',
      GHTRADER_DIFF_FILES_URL: 'http://127.0.0.1:7777',
      GHTRADER_DIFF_TOKEN: 'dev.token.x',
    });
    expect(env.GHTRADER_DIFF_MD_URL).toBeUndefined();
  });

  it('leaves every DIFF setting alone when one DIFF target is set explicitly', () => {
    // Act
    const env = stackEnv(STACK, { GHTRADER_DIFF_MD_URL: 'wss://md.example/t/md/front/mobile' });

    // Assess
    expect(env.GHTRADER_DIFF_MD_URL).toBe('wss://md.example/t/md/front/mobile');
    expect(env.GHTRADER_DIFF_AUTH_URL).toBeUndefined();
    expect(env.GHTRADER_DIFF_TOKEN).toBeUndefined();
  });

  it('reads a stack file of a stack started with --no-sim (no simulator fields) and adds no DIFF settings', () => {
    // Prepare
    const { sim_url: _u, sim_token: _t, ...noSim } = STACK;

    // Act
    const parsed = StackFileSchema.parse(noSim);
    const env = stackEnv(parsed, {});

    // Assess
    expect(parsed.sim_url).toBeUndefined();
    expect(env.GHTRADER_DIFF_AUTH_URL).toBeUndefined();
  });
});
