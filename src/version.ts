/**
 * burrow's own version, for what the server reports about itself (`HELLO`, `INFO`).
 *
 * @module
 */

/** The version of this package; a test keeps it equal to package.json's. */
export const VERSION = '0.1.0'
