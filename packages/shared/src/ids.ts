import { z } from 'zod';

/**
 * Branded ids: a RoomId cannot be passed where a SessionId is expected, even
 * though both are strings on the wire.
 */
const id = <B extends string>() => z.string().min(1).max(128).regex(/^[\w.:@-]+$/, 'id has invalid characters').brand<B>();

export const TenantId = id<'TenantId'>();
export type TenantId = z.infer<typeof TenantId>;
export const UserId = id<'UserId'>();
export type UserId = z.infer<typeof UserId>;
export const GroupId = id<'GroupId'>();
export type GroupId = z.infer<typeof GroupId>;
export const RoomId = id<'RoomId'>();
export type RoomId = z.infer<typeof RoomId>;
export const LocationId = id<'LocationId'>();
export type LocationId = z.infer<typeof LocationId>;
export const TagId = id<'TagId'>();
export type TagId = z.infer<typeof TagId>;
export const RoleId = id<'RoleId'>();
export type RoleId = z.infer<typeof RoleId>;
export const AssignmentId = id<'AssignmentId'>();
export type AssignmentId = z.infer<typeof AssignmentId>;
export const SessionId = id<'SessionId'>();
export type SessionId = z.infer<typeof SessionId>;
export const GrantId = id<'GrantId'>();
export type GrantId = z.infer<typeof GrantId>;
export const DisplayId = id<'DisplayId'>();
export type DisplayId = z.infer<typeof DisplayId>;
