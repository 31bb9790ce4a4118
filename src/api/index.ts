// The Berth API: schemas, types and validators, all from the schemas in this folder.
export * from './common.js';
export * from './resourcerequest.js';
export * from './hostpool.js';
export * from './storagepool.js';
export * from './tenantquota.js';
export * from './operatorconfig.js';
export * from './kinds.js';
export * from './validate.js';
export { renderCrd } from './crd.js';
