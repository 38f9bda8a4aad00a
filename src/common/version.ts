/** cygnet's version, as the master's and agents' state, /version and the Operator API's GET_VERSION give it. */
export const CYGNET_VERSION = '0.1.0';

/** Mesos' `GET /version` body (its VersionInfo; cygnet reports its own version and no build details). */
export function versionJson(): { version: string } {
  return { version: CYGNET_VERSION };
}
