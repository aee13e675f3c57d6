import * as z from 'zod';

/** Roles, ordered: each role can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** True when `have` is at least `need` in the order viewer < operator < admin. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who did something, as recorded on jobs and audit entries. */
export const ActorSchema = z.object({
  actor: z.string().min(1),
  role: RoleSchema,
});
export type Actor = z.infer<typeof ActorSchema>;
