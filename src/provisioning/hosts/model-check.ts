// Compile-time proof that the API's types (src/api, what the CRDs produce) stay assignable to
// the engine's own model (src/allocation/model.ts), which the engine writes out instead of
// importing, to stay a leaf. This folder sees both layers, so the check lives here: a change to
// either side that breaks the bridge fails `tsc`, not a reconcile.
import type * as api from '../../api/index.js';
import type * as engine from '../../allocation/model.js';

type Assignable<To, From extends To> = From;

export type ApiToEngine = [
  Assignable<engine.HostPool, api.HostPool>,
  Assignable<engine.StoragePool, api.StoragePool>,
  Assignable<engine.ResourceRequest, api.ResourceRequest>,
];
