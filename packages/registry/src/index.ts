export {
  changeOrganisation,
  findOrganisation,
  listOrganisations,
  organisationsInSectors,
  registerOrganisation,
  setOrganisationEnabled,
  type Actor,
} from './queries.js';
export {
  REGISTRY_CHANNEL,
  startRegistryCache,
  type OrganisationRegistry,
  type RegistryCacheOptions,
} from './cache.js';
export { fixedRegistry } from './fixed.js';
