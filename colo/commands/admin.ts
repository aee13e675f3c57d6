/** `ghtrader admin login-link`: a fresh one-time login link for a user (default `admin`). */
import type { Command } from 'commander';
import { ulidGen } from '#shared/domain/ids.ts';
import { systemClock } from '#shared/domain/time.ts';
import { DynamoAuditLog } from '#shared/infra/aws/audit-log.ts';
import { createAwsClients } from '#shared/infra/aws/clients.ts';
import { DynamoUserStore } from '#shared/infra/aws/user-store.ts';
import { AuthService } from '#shared/services/auth-service.ts';
import { attachToStack, cliLogger, reportError } from '../cli-support.ts';
import { persistentSecret } from '../secrets.ts';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('administration of the local stack');
  admin
    .command('login-link')
    .description('mint a one-time login link (15 minutes, single use)')
    .option('--user <username>', 'the user to log in as', 'admin')
    .action(async (o: { user: string }) => {
      const g = program.opts<{ home?: string; json?: boolean }>();
      try {
        const { config, stack } = await attachToStack(g.home);
        const clients = createAwsClients(config);
        try {
          const auth = new AuthService({
            users: new DynamoUserStore(clients.doc, config.tables.users),
            audit: new DynamoAuditLog(clients.doc, config.tables.audit, systemClock, ulidGen),
            clock: systemClock,
            ids: ulidGen,
            log: cliLogger(config),
            limits: config.auth,
            cursorSecret: config.auth.cursorSecret ?? (await persistentSecret(config.home, 'cursor.key')),
          });
          const otp = await auth.mintOneTimeToken(o.user);
          const url = `${stack?.web_url ?? 'http://127.0.0.1:8000'}/login#otp=${otp.token}`;
          process.stdout.write(
            g.json
              ? `${JSON.stringify({ url, expires_at: otp.expires_at })}\n`
              : `${url}\n(valid until ${otp.expires_at}, single use)\n`,
          );
        } finally {
          clients.destroy();
        }
      } catch (err) {
        reportError(err, Boolean(g.json));
      }
    });
}
