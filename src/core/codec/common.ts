import type { ResourceModel } from '../model/types';
import type { Lwm2mPath } from '../path';
import type { CodecContext } from './types';

/** The resource model for a path of at least /O/I/R, using the client's object version when known. */
export function lookupResource(ctx: CodecContext, path: Lwm2mPath): ResourceModel | undefined {
  const o = path.objectId;
  const r = path.resourceId;
  if (o === undefined || r === undefined || !ctx.models) return undefined;
  return ctx.models.getResource(o, r, ctx.objectVersions?.get(o));
}

/** Parses `O:I` (objlnk text form). Returns undefined when malformed. */
export function parseObjlnk(text: string): { objectId: number; instanceId: number } | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const objectId = Number(m[1]);
  const instanceId = Number(m[2]);
  if (objectId > 65535 || instanceId > 65535) return undefined;
  return { objectId, instanceId };
}
