/**
 * Least-privilege DynamoDB grants built from the table definitions. Unlike `table.grantReadWriteData`, which grants
 * `<table arn>/index/*` and a dozen actions, these name each index of the definition and only the item-level actions
 * our stores call: no Scan, no transactions (dynalite has none, so the code never uses them), no table management.
 */

import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SELFTEST_KEY_PREFIX } from '#shared/infra/aws/definitions.ts';
import type { GhtraderTable } from '../stacks/data-stores-stack.ts';

/** Item reads and index queries (`GetItem`, `BatchGetItem`, `Query`). */
export const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

/** Item writes, all conditional in our stores (`PutItem`, `UpdateItem`, `DeleteItem`, `BatchWriteItem`). */
export const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/** What a function may do with one table. */
export type TableAccess = 'read' | 'readWrite' | 'appendOnly' | 'appendAndRead';

const ACTIONS: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  readWrite: [...READ_ACTIONS, ...WRITE_ACTIONS],
  // Append-only tables (the audit log): a writer adds entries and never changes or deletes one.
  appendOnly: ['dynamodb:PutItem'],
  appendAndRead: ['dynamodb:PutItem', ...READ_ACTIONS],
};

/** Grant `access` on the table and, when the access includes `Query`, on each of its declared indexes by name. */
export function grantTableAccess(grantee: IGrantable, { table, def }: GhtraderTable, access: TableAccess): Grant {
  const actions = ACTIONS[access];
  const indexArns = actions.includes('dynamodb:Query')
    ? def.indexes.map((index) => `${table.tableArn}/index/${index.name}`)
    : [];
  return Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [table.tableArn, ...indexArns],
  });
}

/** Re-exported for the tests; defined once in shared/infra/aws/definitions.ts beside the tables. */
export { SELFTEST_KEY_PREFIX };

/**
 * Let the selftest round-trip its probe items in a table the grantee may otherwise not write (or not touch): put,
 * get and delete only items whose partition key starts with `SELFTEST_KEY_PREFIX` (`dynamodb:LeadingKeys`), so no
 * real item (a user, a token, a config revision, a risk-kill state) can be read, forged or deleted through it.
 */
export function grantSelftestProbe(grantee: IGrantable, { table }: GhtraderTable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    resourceArns: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SELFTEST_KEY_PREFIX}*`] } },
  });
}
