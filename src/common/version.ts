/** cygnet's own version (package.json's). */
export const CYGNET_VERSION = '0.1.0';

/**
 * The Mesos release whose v1 APIs the master and agents speak, reported
 * wherever Mesos reports its version (MasterInfo.version in SUBSCRIBED,
 * /version, GET_VERSION, /state): frameworks compare it against the
 * minimum they support, and "0.1.0" would read as a Mesos older than the
 * v1 API itself. cygnet's own version goes in `git_tag`.
 */
export const MESOS_API_VERSION = '1.11.0';

/** Mesos' `GET /version` body (its VersionInfo); cygnet reports no build details. */
export function versionJson(): { version: string; git_tag: string } {
  return { version: MESOS_API_VERSION, git_tag: `cygnet-${CYGNET_VERSION}` };
}
