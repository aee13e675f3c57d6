/**
 * Least-privilege DynamoDB grants built from the table definitions. Unlike `table.grantReadWriteData`, which grants
 * `<table arn>/index/*` and a dozen actions, these name each index of the definition and only the item-level actions
 * our stores call: no Scan, no transactions (dynalite has none, so the code never uses them), no table management.
 */
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
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
export type TableAccess = 'read' | 'readWrite' | 'appendOnly';

const ACTIONS: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  readWrite: [...READ_ACTIONS, ...WRITE_ACTIONS],
  // The audit log is append-only: a writer may add entries but never read, change or delete them.
  appendOnly: ['dynamodb:PutItem'],
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
